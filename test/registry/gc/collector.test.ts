// Online garbage collection (issue 7) over a real registry (HTTP, BlobStore in a temp dir, SQLite):
// exactly the unreferenced blobs are freed (bytes and inodes), a dry run lists the same and changes
// nothing, the grace window protects what was just pushed, upload sessions and untagged manifests, and
// the race that corrupts distribution's repositories: pushes interleaved with a running collection end
// in a pullable image or in MANIFEST_BLOB_UNKNOWN, never in an accepted manifest that then 404s.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GarbageCollector, type GcResult } from '../../../src/registry/gc/collector.ts';
import { ALICE, errorCode, pushBlob, sha256, startRegistry, type TestRegistry } from '../api/helpers.ts';
import { OCI_MANIFEST, ociClient } from '../../helpers/registry-server.ts';

const HOUR = 3_600_000;

describe('registry garbage collection', function () {
  this.timeout(60_000);
  let reg: TestRegistry;
  /** As if collecting two hours from now: everything pushed so far is past a 1 h grace window. */
  let later: GarbageCollector;
  /** Collecting now with a 1 h window: nothing pushed so far may go. */
  let now: GarbageCollector;

  beforeEach(async () => {
    reg = await startRegistry();
    later = new GarbageCollector(reg.blobs, reg.metadata, () => new Date(Date.now() + 2 * HOUR));
    now = new GarbageCollector(reg.blobs, reg.metadata);
  });
  afterEach(async () => reg?.close());

  const config = (n: string) => Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n }));
  const manifestOf = (configBytes: Buffer, layers: Buffer[]) => ociClient(reg.url, ALICE).manifestOf(configBytes, layers);
  const putManifest = (repo: string, reference: string, bytes: Buffer) => ociClient(reg.url, ALICE).putManifest(repo, reference, bytes);
  const blobStatus = async (repo: string, digest: string) => (await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`, { headers: ALICE })).status;
  const digests = (result: GcResult) => result.blobs.map((b) => b.digest).sort();

  async function pushImage(repo: string, tag: string | null, configBytes: Buffer, layers: Buffer[]): Promise<Buffer> {
    await pushBlob(reg.url, repo, configBytes);
    for (const layer of layers) await pushBlob(reg.url, repo, layer);
    const manifest = manifestOf(configBytes, layers);
    const res = await putManifest(repo, tag ?? sha256(manifest), manifest);
    assert.equal(res.status, 201, await res.text());
    return manifest;
  }

  it('frees exactly the blobs of a deleted image, not a layer it shares; a dry run lists the same and changes nothing', async () => {
    const shared = randomBytes(5000);
    const ownA = randomBytes(3000);
    const ownB = randomBytes(4000);
    const [configA, configB] = [config('a'), config('b')];
    const manifestA = await pushImage('team/app', 'a', configA, [shared, ownA]);
    const manifestB = await pushImage('team/app', 'b', configB, [shared, ownB]);
    const del = await fetch(`${reg.url}/v2/team/app/manifests/${sha256(manifestA)}`, { method: 'DELETE', headers: ALICE });
    assert.equal(del.status, 202);

    const expected = [ownA, configA, manifestA].map((b) => ({ digest: sha256(b), size: b.length })).sort((x, y) => x.digest.localeCompare(y.digest));
    const usageBefore = await reg.blobs.usage();
    const dry = await later.collect({ dryRun: true, untagged: false, graceMs: HOUR });
    assert.deepEqual([...dry.blobs].sort((x, y) => x.digest.localeCompare(y.digest)), expected);
    assert.equal(dry.bytesFreed, ownA.length + configA.length + manifestA.length);
    assert.equal(dry.inodesFreed, 3);
    assert.deepEqual(await reg.blobs.usage(), usageBefore, 'the dry run deleted nothing');

    const real = await later.collect({ dryRun: false, untagged: false, graceMs: HOUR });
    assert.deepEqual(digests(real), digests(dry), 'the real run deletes what the dry run listed');
    assert.equal(real.bytesFreed, dry.bytesFreed);
    const usageAfter = await reg.blobs.usage();
    assert.equal(usageBefore.blobs - usageAfter.blobs, 3);
    assert.equal(usageBefore.inodesUsed - usageAfter.inodesUsed, 3, 'one inode per blob');
    assert.equal(usageBefore.blobBytes - usageAfter.blobBytes, real.bytesFreed);
    for (const blob of expected) assert.equal(await reg.blobs.has(blob.digest), false);

    // The other image pulls whole, its shared layer included.
    const pulled = await fetch(`${reg.url}/v2/team/app/manifests/b`, { headers: { ...ALICE, accept: OCI_MANIFEST } });
    assert.equal(Buffer.from(await pulled.arrayBuffer()).equals(manifestB), true);
    for (const blob of [shared, ownB, configB]) assert.equal(await blobStatus('team/app', sha256(blob)), 200);
    assert.equal((await later.collect({ dryRun: false, untagged: false, graceMs: HOUR })).blobs.length, 0, 'nothing left to collect');
  });

  it('leaves what was pushed within the grace window: layers waiting for their manifest, and a manifest\'s own bytes', async () => {
    const layer = randomBytes(1000);
    await pushBlob(reg.url, 'team/pending', layer);
    const result = await now.collect({ dryRun: false, untagged: false, graceMs: HOUR });
    assert.deepEqual(result.blobs, []);
    assert.equal(await blobStatus('team/pending', sha256(layer)), 200);
    // The grace runs from the latest push or mount of the blob, in any repository.
    const collected = await later.collect({ dryRun: false, untagged: false, graceMs: HOUR });
    assert.deepEqual(digests(collected), [sha256(layer)]);
    assert.equal(await blobStatus('team/pending', sha256(layer)), 404, 'its rows went with its file');
  });

  it('collects abandoned upload sessions and, with the option, untagged manifests and then their blobs', async () => {
    const started = await fetch(`${reg.url}/v2/team/uploads/blobs/uploads/`, { method: 'POST', headers: ALICE });
    assert.equal(started.status, 202);
    const location = started.headers.get('location')!;
    await fetch(new URL(location, reg.url), { method: 'PATCH', headers: { ...ALICE, 'content-type': 'application/octet-stream' }, body: randomBytes(777) });
    const layer = randomBytes(1500);
    const untagged = await pushImage('team/untagged', null, config('u'), [layer]);
    const tagged = await pushImage('team/untagged', 'keep', config('k'), [randomBytes(1600)]);

    const plain = await later.collect({ dryRun: true, untagged: false, graceMs: HOUR });
    assert.deepEqual(plain.manifests, []);
    assert.deepEqual(plain.uploads.map((u) => u.size), [777]);

    const dry = await later.collect({ dryRun: true, untagged: true, graceMs: HOUR });
    assert.deepEqual(dry.manifests, [{ repository: 'team/untagged', digest: sha256(untagged), size: untagged.length }]);
    assert.deepEqual(digests(dry), [sha256(config('u')), sha256(layer), sha256(untagged)].sort(), 'what only the untagged manifest kept');
    const real = await later.collect({ dryRun: false, untagged: true, graceMs: HOUR });
    assert.deepEqual(real.manifests, dry.manifests);
    assert.deepEqual(digests(real), digests(dry));
    assert.equal(real.uploads.length, 1);
    const patch = await fetch(new URL(location, reg.url), { method: 'PATCH', headers: { ...ALICE, 'content-type': 'application/octet-stream' }, body: randomBytes(10) });
    assert.equal(patch.status, 404);
    assert.equal(await errorCode(patch), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal((await fetch(`${reg.url}/v2/team/untagged/manifests/${sha256(untagged)}`, { headers: ALICE })).status, 404);
    assert.equal((await fetch(`${reg.url}/v2/team/untagged/manifests/keep`, { headers: ALICE })).status, 200);
    assert.equal((await fetch(`${reg.url}/v2/team/untagged/manifests/${sha256(tagged)}`, { headers: ALICE })).status, 200);
  });

  it('pushes racing a collection end in a pullable image or MANIFEST_BLOB_UNKNOWN, never a manifest that then 404s', async () => {
    // 120 old layers nobody references yet: all are garbage when the collection starts.
    const layers = Array.from({ length: 120 }, () => randomBytes(512));
    for (const layer of layers) await pushBlob(reg.url, 'team/race', layer);
    const configBytes = config('race');
    await pushBlob(reg.url, 'team/race', configBytes);

    const collection = later.collect({ dryRun: false, untagged: false, graceMs: HOUR });
    // Meanwhile clients push images on those layers, as docker does: HEAD each blob, upload it again
    // only when the registry says it is missing (every third client re-uploads regardless), then PUT.
    const outcomes = await Promise.all(
      layers.map(async (layer, i) => {
        const digest = sha256(layer);
        const head = await fetch(`${reg.url}/v2/team/race/blobs/${digest}`, { method: 'HEAD', headers: ALICE });
        if (head.status !== 200 || i % 3 === 0) await pushBlob(reg.url, 'team/race', layer);
        if ((await fetch(`${reg.url}/v2/team/race/blobs/${sha256(configBytes)}`, { method: 'HEAD', headers: ALICE })).status !== 200) {
          await pushBlob(reg.url, 'team/race', configBytes);
        }
        const res = await putManifest('team/race', `t${i}`, manifestOf(configBytes, [layer]));
        return { i, status: res.status, code: res.status === 201 ? undefined : await errorCode(res) };
      }),
    );
    await collection;
    for (const outcome of outcomes) {
      if (outcome.status === 201) {
        // Accepted: every blob it names is there, now and after another collection.
        for (const blob of [layers[outcome.i]!, configBytes]) assert.equal(await blobStatus('team/race', sha256(blob)), 200, `t${outcome.i}`);
      } else {
        assert.deepEqual([outcome.status, outcome.code], [400, 'MANIFEST_BLOB_UNKNOWN'], `t${outcome.i}`);
      }
    }
    await later.collect({ dryRun: false, untagged: false, graceMs: HOUR });
    for (const outcome of outcomes.filter((o) => o.status === 201)) {
      assert.equal(await blobStatus('team/race', sha256(layers[outcome.i]!)), 200, `t${outcome.i} after a second collection`);
    }
  });
});
