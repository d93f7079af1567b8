import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ALICE, errorCode, pushBlob, sha256, startRegistry, type TestRegistry } from './helpers.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

interface Pushed {
  bytes: Buffer;
  digest: string;
}

describe('registry API: manifests', function () {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => reg?.close());

  /** Pushes a config and `layers` random layers, returns the manifest's JSON (not pushed). */
  async function imageManifest(repo: string, layers: number, mediaType = OCI_MANIFEST, extra: Record<string, unknown> = {}): Promise<Buffer> {
    const docker = mediaType === DOCKER_MANIFEST;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: Math.random() }));
    const configDigest = await pushBlob(reg.url, repo, config);
    const layerDescriptors = [];
    for (let i = 0; i < layers; i++) {
      const layer = randomBytes(2000 + i);
      layerDescriptors.push({
        mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: await pushBlob(reg.url, repo, layer),
        size: layer.length,
      });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType,
      config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layerDescriptors,
      ...extra,
    };
    // Indented, as clients may send it: the registry must keep the exact bytes.
    return Buffer.from(JSON.stringify(manifest, null, 3));
  }

  async function putManifest(repo: string, reference: string, bytes: Buffer, mediaType = OCI_MANIFEST): Promise<Response> {
    return fetch(`${reg.url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { ...ALICE, 'content-type': mediaType }, body: bytes });
  }

  async function pushImage(repo: string, tag: string, mediaType = OCI_MANIFEST, extra: Record<string, unknown> = {}): Promise<Pushed> {
    const bytes = await imageManifest(repo, 3, mediaType, extra);
    const res = await putManifest(repo, tag, bytes, mediaType);
    assert.equal(res.status, 201, await res.clone().text());
    return { bytes, digest: sha256(bytes) };
  }

  it('stores a 3-layer OCI image by tag and serves it byte-exact by tag and by digest', async () => {
    const bytes = await imageManifest('team/app', 3);
    const digest = sha256(bytes);
    const put = await putManifest('team/app', 'v1', bytes);
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('location'), `/v2/team/app/manifests/${digest}`);
    assert.equal(put.headers.get('docker-content-digest'), digest);

    for (const reference of ['v1', digest]) {
      const res = await fetch(`${reg.url}/v2/team/app/manifests/${reference}`, { headers: { accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    }
    const head = await fetch(`${reg.url}/v2/team/app/manifests/v1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
    assert.equal(head.headers.get('docker-content-digest'), digest);
    assert.equal(head.headers.get('content-type'), OCI_MANIFEST);

    const row = await reg.store.knex('registry_manifests').where({ digest }).first('pushed_by', 'last_pulled_at');
    assert.equal(row.pushed_by, 'alice');
    assert.equal(row.last_pulled_at, '2026-11-24T12:00:00.000Z', 'a GET records the pull');
  });

  it('stores a Docker schema 2 manifest by digest and a manifest list that points at it', async () => {
    const bytes = await imageManifest('team/docker', 2, DOCKER_MANIFEST);
    const digest = sha256(bytes);
    const put = await putManifest('team/docker', digest, bytes, DOCKER_MANIFEST);
    assert.equal(put.status, 201);
    const got = await fetch(`${reg.url}/v2/team/docker/manifests/${digest}`);
    assert.equal(got.headers.get('content-type'), DOCKER_MANIFEST);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);

    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [{ mediaType: DOCKER_MANIFEST, digest, size: bytes.length, platform: { architecture: 'amd64', os: 'linux' } }],
      }),
    );
    const listPut = await putManifest('team/docker', 'latest', list, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.equal(listPut.status, 201);
    const missingChild = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('nope'), size: 4 }] }));
    const bad = await putManifest('team/docker', 'broken', missingChild, OCI_INDEX);
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'MANIFEST_BLOB_UNKNOWN');
  });

  it('refuses a manifest whose digest reference does not match its bytes (DIGEST_INVALID), storing nothing', async () => {
    const bytes = await imageManifest('team/mismatch', 1);
    const wrong = sha256('other bytes');
    const res = await putManifest('team/mismatch', wrong, bytes);
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    assert.equal(await reg.blobs.has(sha256(bytes)), false);
    assert.equal((await fetch(`${reg.url}/v2/team/mismatch/manifests/${sha256(bytes)}`)).status, 404);
  });

  it('refuses a manifest referencing unknown blobs (MANIFEST_BLOB_UNKNOWN) without storing its bytes', async () => {
    const config = Buffer.from('{}');
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: 2 },
        layers: [],
      }),
    );
    const res = await putManifest('team/unknown-blobs', 'v1', manifest);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: Array<{ code: string; detail: { missing: string[] } }> };
    assert.equal(body.errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual(body.errors[0]?.detail.missing, [sha256(config)]);
    assert.equal(await reg.blobs.has(sha256(manifest)), false);
  });

  it('refuses malformed JSON and invalid manifests (MANIFEST_INVALID)', async () => {
    for (const body of ['{"schemaVersion": 2, ', '[]', JSON.stringify({ schemaVersion: 1, mediaType: OCI_MANIFEST })]) {
      const res = await putManifest('team/malformed', 'v1', Buffer.from(body));
      assert.equal(res.status, 400, body);
      assert.equal(await errorCode(res), 'MANIFEST_INVALID', body);
    }
  });

  it('refuses a manifest over the limit with 413, declared or streamed', async () => {
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const declared = await putManifest('team/huge', 'v1', huge);
    assert.equal(declared.status, 413);
    assert.equal(await errorCode(declared), 'SIZE_INVALID');
    const streamed = await fetch(`${reg.url}/v2/team/huge/manifests/v1`, {
      method: 'PUT',
      headers: { ...ALICE, 'content-type': OCI_MANIFEST },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1024 * 1024));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.equal(streamed.headers.get('connection'), 'close', 'the unread rest of the body is not taken for the next request');
  });

  it('deletes a tag only (202) and a manifest by digest (202)', async () => {
    const image = await pushImage('team/del', 'a');
    assert.equal((await putManifest('team/del', 'b', image.bytes)).status, 201);
    const delTag = await fetch(`${reg.url}/v2/team/del/manifests/a`, { method: 'DELETE', headers: ALICE });
    assert.equal(delTag.status, 202);
    assert.equal((await fetch(`${reg.url}/v2/team/del/manifests/a`)).status, 404);
    assert.equal((await fetch(`${reg.url}/v2/team/del/manifests/b`)).status, 200, 'other tags stay');
    assert.equal((await fetch(`${reg.url}/v2/team/del/manifests/${image.digest}`)).status, 200, 'the manifest stays');

    const delDigest = await fetch(`${reg.url}/v2/team/del/manifests/${image.digest}`, { method: 'DELETE', headers: ALICE });
    assert.equal(delDigest.status, 202);
    const gone = await fetch(`${reg.url}/v2/team/del/manifests/${image.digest}`);
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), 'MANIFEST_UNKNOWN');
    assert.equal((await fetch(`${reg.url}/v2/team/del/manifests/b`)).status, 404, 'its tags go with it');
    const again = await fetch(`${reg.url}/v2/team/del/manifests/${image.digest}`, { method: 'DELETE', headers: ALICE });
    assert.equal(again.status, 404);
  });

  it('lists tags in pages with a Link to the next one', async () => {
    const image = await pushImage('team/tags', 't1');
    for (const tag of ['t2', 't3', 't4', 't5']) assert.equal((await putManifest('team/tags', tag, image.bytes)).status, 201);
    const first = await fetch(`${reg.url}/v2/team/tags/tags/list?n=2`);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { name: 'team/tags', tags: ['t1', 't2'] });
    assert.equal(first.headers.get('link'), '</v2/team/tags/tags/list?n=2&last=t2>; rel="next"');
    const second = await fetch(`${reg.url}/v2/team/tags/tags/list?n=2&last=t2`);
    assert.deepEqual(await second.json(), { name: 'team/tags', tags: ['t3', 't4'] });
    const third = await fetch(`${reg.url}/v2/team/tags/tags/list?n=2&last=t4`);
    assert.deepEqual(await third.json(), { name: 'team/tags', tags: ['t5'] });
    assert.equal(third.headers.get('link'), null);
    const all = await fetch(`${reg.url}/v2/team/tags/tags/list`);
    assert.deepEqual(((await all.json()) as { tags: string[] }).tags, ['t1', 't2', 't3', 't4', 't5']);
    const unknown = await fetch(`${reg.url}/v2/team/nothing-here/tags/list`);
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'NAME_UNKNOWN');
    const badN = await fetch(`${reg.url}/v2/team/tags/tags/list?n=-1`);
    assert.equal(badN.status, 400);
  });

  it('lists repositories in the catalog with paging', async () => {
    for (const repo of ['cat/a', 'cat/b', 'cat/c']) await pushBlob(reg.url, repo, randomBytes(8));
    const all = (await (await fetch(`${reg.url}/v2/_catalog`)).json()) as { repositories: string[] };
    for (const repo of ['cat/a', 'cat/b', 'cat/c']) assert.ok(all.repositories.includes(repo), repo);
    const first = await fetch(`${reg.url}/v2/_catalog?n=2&last=cat/`);
    assert.deepEqual(await first.json(), { repositories: ['cat/a', 'cat/b'] });
    assert.equal(first.headers.get('link'), '</v2/_catalog?n=2&last=cat%2Fb>; rel="next"');
    const next = (await (await fetch(`${reg.url}/v2/_catalog?n=2&last=cat%2Fb`)).json()) as { repositories: string[] };
    assert.equal(next.repositories[0], 'cat/c');
  });

  it('answers the referrers API with an image index, filters by artifactType and sets OCI-Subject', async () => {
    const subject = await pushImage('team/signed', 'v1');
    const empty = Buffer.from('{}');
    const emptyDigest = await pushBlob(reg.url, 'team/signed', empty);
    const referrer = (artifactType: string, note: string): Buffer =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType,
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 },
          layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 }],
          subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length },
          annotations: { note },
        }),
      );
    const signature = referrer('application/vnd.example.signature', 'sig');
    const sbom = referrer('application/spdx+json', 'sbom');
    for (const bytes of [signature, sbom]) {
      const res = await putManifest('team/signed', sha256(bytes), bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('oci-subject'), subject.digest);
    }
    const all = await fetch(`${reg.url}/v2/team/signed/referrers/${subject.digest}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('content-type'), OCI_INDEX);
    assert.equal(all.headers.get('oci-filters-applied'), null);
    const index = (await all.json()) as { schemaVersion: number; mediaType: string; manifests: Array<Record<string, unknown>> };
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(
      index.manifests.map((m) => m.digest).sort(),
      [sha256(signature), sha256(sbom)].sort(),
    );
    const sig = index.manifests.find((m) => m.digest === sha256(signature));
    assert.deepEqual(sig, { mediaType: OCI_MANIFEST, digest: sha256(signature), size: signature.length, artifactType: 'application/vnd.example.signature', annotations: { note: 'sig' } });

    const filtered = await fetch(`${reg.url}/v2/team/signed/referrers/${subject.digest}?artifactType=application/spdx%2Bjson`);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(((await filtered.json()) as typeof index).manifests.map((m) => m.digest), [sha256(sbom)]);

    const none = await fetch(`${reg.url}/v2/nowhere/referrers/${subject.digest}`);
    assert.equal(none.status, 200);
    assert.deepEqual(((await none.json()) as typeof index).manifests, []);
  });

  it('answers a reference that is no tag nor digest with 404 MANIFEST_UNKNOWN, as the spec and distribution do', async () => {
    const res = await fetch(`${reg.url}/v2/team/app/manifests/-bad`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'MANIFEST_UNKNOWN');
  });
});
