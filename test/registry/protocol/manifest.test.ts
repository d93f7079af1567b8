import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  DOCKER_CONFIG,
  DOCKER_FOREIGN_LAYER,
  DOCKER_LAYER,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  MAX_MANIFEST_BYTES,
  OCI_EMPTY,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_SIZE,
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  OCI_LAYER_TAR_GZIP,
  essence,
  isMediaType,
  manifestKind,
  manifestTooLarge,
  parseManifest,
  referrerArtifactType,
} from '../../../src/registry/protocol/manifest.ts';
import { throwsRegistryError } from './helpers.ts';

const d = (seed: string): string => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const CONFIG = d('config');
const LAYER1 = d('layer1');
const LAYER2 = d('layer2');
const LAYER3 = d('layer3');
const CHILD1 = d('child1');
const CHILD2 = d('child2');
const SUBJECT = d('subject');

type Json = Record<string, unknown>;
const bytes = (json: unknown): Buffer => Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));

function ociImage(): Json {
  return {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST,
    config: { mediaType: OCI_IMAGE_CONFIG, digest: CONFIG, size: 1469 },
    layers: [
      { mediaType: OCI_LAYER_TAR_GZIP, digest: LAYER1, size: 2811478 },
      { mediaType: OCI_LAYER_TAR_GZIP, digest: LAYER2, size: 32 },
      { mediaType: OCI_LAYER_TAR_GZIP, digest: LAYER3, size: 0, annotations: { 'org.opencontainers.image.title': 'empty' } },
    ],
    annotations: { 'org.opencontainers.image.created': '2024-03-13T00:00:00Z' },
  };
}

function dockerImage(): Json {
  return {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: 7023, digest: CONFIG },
    layers: [
      { mediaType: DOCKER_LAYER, size: 32654, digest: LAYER1 },
      { mediaType: DOCKER_LAYER, size: 16724, digest: LAYER2 },
    ],
  };
}

function ociIndex(): Json {
  return {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_INDEX,
    manifests: [
      { mediaType: OCI_IMAGE_MANIFEST, digest: CHILD1, size: 7143, platform: { architecture: 'amd64', os: 'linux' } },
      {
        mediaType: OCI_IMAGE_MANIFEST,
        digest: CHILD2,
        size: 7682,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8', 'os.features': ['x'] },
      },
    ],
    annotations: { 'com.example.key1': 'value1' },
  };
}

function dockerList(): Json {
  return {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST_LIST,
    manifests: [{ mediaType: DOCKER_MANIFEST, digest: CHILD1, size: 528, platform: { architecture: 'ppc64le', os: 'linux' } }],
  };
}

/** A signature-like artifact: empty config, artifactType, a subject. */
function artifact(): Json {
  return {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST,
    artifactType: 'application/vnd.example.sbom.v1',
    config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: OCI_EMPTY_SIZE, data: 'e30=' },
    layers: [{ mediaType: 'application/spdx+json', digest: LAYER1, size: 10 }],
    subject: { mediaType: OCI_IMAGE_MANIFEST, digest: SUBJECT, size: 1234 },
  };
}

const edit = (base: () => Json, change: (m: Json) => void): Json => {
  const m = base();
  change(m);
  return m;
};
const layer = (m: Json, i: number): Json => (m.layers as Json[])[i]!;

describe('registry protocol: manifests', () => {
  describe('valid manifests', () => {
    const table: Array<{
      name: string;
      body: Json;
      contentType: string | undefined;
      mediaType: string;
      kind: 'image' | 'index';
      references: string[];
      blobs: number;
    }> = [
      { name: 'an OCI image', body: ociImage(), contentType: OCI_IMAGE_MANIFEST, mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2, LAYER3], blobs: 4 },
      { name: 'Docker schema 2', body: dockerImage(), contentType: DOCKER_MANIFEST, mediaType: DOCKER_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2], blobs: 3 },
      { name: 'an OCI index', body: ociIndex(), contentType: OCI_IMAGE_INDEX, mediaType: OCI_IMAGE_INDEX, kind: 'index', references: [CHILD1, CHILD2], blobs: 0 },
      { name: 'a Docker manifest list', body: dockerList(), contentType: DOCKER_MANIFEST_LIST, mediaType: DOCKER_MANIFEST_LIST, kind: 'index', references: [CHILD1], blobs: 0 },
      { name: 'an artifact with a subject (the subject is no reference)', body: artifact(), contentType: OCI_IMAGE_MANIFEST, mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [OCI_EMPTY_DIGEST, LAYER1], blobs: 2 },
      { name: 'Content-Type with parameters and capitals', body: ociImage(), contentType: 'Application/VND.OCI.Image.Manifest.v1+JSON; charset=utf-8', mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2, LAYER3], blobs: 4 },
      { name: 'no Content-Type: the body says', body: dockerImage(), contentType: undefined, mediaType: DOCKER_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2], blobs: 3 },
      { name: 'application/json Content-Type: the body says', body: ociIndex(), contentType: 'application/json', mediaType: OCI_IMAGE_INDEX, kind: 'index', references: [CHILD1, CHILD2], blobs: 0 },
      { name: 'no mediaType in the body: Content-Type says', body: edit(ociImage, (m) => delete m.mediaType), contentType: OCI_IMAGE_MANIFEST, mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2, LAYER3], blobs: 4 },
      { name: 'neither: an OCI image inferred from config', body: edit(ociImage, (m) => delete m.mediaType), contentType: '', mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2, LAYER3], blobs: 4 },
      { name: 'neither: an OCI index inferred from manifests', body: edit(ociIndex, (m) => delete m.mediaType), contentType: undefined, mediaType: OCI_IMAGE_INDEX, kind: 'index', references: [CHILD1, CHILD2], blobs: 0 },
      { name: 'no layers (an empty array)', body: edit(ociImage, (m) => (m.layers = [])), contentType: OCI_IMAGE_MANIFEST, mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [CONFIG], blobs: 1 },
      { name: 'an empty index', body: edit(ociIndex, (m) => (m.manifests = [])), contentType: OCI_IMAGE_INDEX, mediaType: OCI_IMAGE_INDEX, kind: 'index', references: [], blobs: 0 },
      { name: 'a layer repeated is one reference', body: edit(ociImage, (m) => (m.layers as Json[]).push({ ...layer(m, 0) })), contentType: OCI_IMAGE_MANIFEST, mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2, LAYER3], blobs: 4 },
      {
        name: 'a foreign layer with urls is no reference',
        body: edit(dockerImage, (m) => (m.layers as Json[]).unshift({ mediaType: DOCKER_FOREIGN_LAYER, size: 1, digest: LAYER3, urls: ['https://example.com/l'] })),
        contentType: DOCKER_MANIFEST,
        mediaType: DOCKER_MANIFEST,
        kind: 'image',
        references: [CONFIG, LAYER1, LAYER2],
        blobs: 3,
      },
      { name: 'unknown fields are ignored', body: edit(ociImage, (m) => (m.extra = { a: 1 })), contentType: OCI_IMAGE_MANIFEST, mediaType: OCI_IMAGE_MANIFEST, kind: 'image', references: [CONFIG, LAYER1, LAYER2, LAYER3], blobs: 4 },
    ];
    for (const t of table) {
      it(t.name, () => {
        const m = parseManifest(bytes(t.body), t.contentType);
        assert.equal(m.mediaType, t.mediaType);
        assert.equal(m.kind, t.kind);
        assert.deepEqual(m.references(), t.references);
        assert.equal(m.referenceList().filter((r) => r.kind === 'blob').length, t.blobs);
        assert.deepEqual(
          m.referenceList().filter((r) => r.kind === 'manifest').map((r) => r.digest),
          t.kind === 'index' ? t.references : [],
        );
      });
    }

    it('reads every field of an OCI image', () => {
      const m = parseManifest(bytes(ociImage()), OCI_IMAGE_MANIFEST);
      assert.deepEqual(m.config, { mediaType: OCI_IMAGE_CONFIG, digest: CONFIG, size: 1469 });
      assert.equal(m.layers.length, 3);
      assert.deepEqual(m.layers[2], { mediaType: OCI_LAYER_TAR_GZIP, digest: LAYER3, size: 0, annotations: { 'org.opencontainers.image.title': 'empty' } });
      assert.deepEqual(m.manifests, []);
      assert.deepEqual(m.annotations, { 'org.opencontainers.image.created': '2024-03-13T00:00:00Z' });
      assert.equal(m.subject, undefined);
      assert.equal(m.artifactType, undefined);
      assert.equal(referrerArtifactType(m), OCI_IMAGE_CONFIG);
    });

    it('reads an index’s platforms', () => {
      const m = parseManifest(bytes(ociIndex()), OCI_IMAGE_INDEX);
      assert.equal(m.config, undefined);
      assert.deepEqual(m.layers, []);
      assert.deepEqual(m.manifests[1]?.platform, { architecture: 'arm64', os: 'linux', variant: 'v8', 'os.features': ['x'] });
    });

    it('reads an artifact’s subject, artifactType and embedded data', () => {
      const m = parseManifest(bytes(artifact()), OCI_IMAGE_MANIFEST);
      assert.deepEqual(m.subject, { mediaType: OCI_IMAGE_MANIFEST, digest: SUBJECT, size: 1234 });
      assert.equal(m.artifactType, 'application/vnd.example.sbom.v1');
      assert.equal(referrerArtifactType(m), 'application/vnd.example.sbom.v1');
      assert.equal(m.config?.data, 'e30=');
    });

    it('the empty descriptor constants describe `{}`', () => {
      assert.equal(`sha256:${createHash('sha256').update('{}').digest('hex')}`, OCI_EMPTY_DIGEST);
      assert.equal(Buffer.byteLength('{}'), OCI_EMPTY_SIZE);
    });
  });

  describe('invalid manifests → MANIFEST_INVALID', () => {
    const table: Array<[string, Json | string, string | undefined, RegExp]> = [
      ['not JSON', '{"schemaVersion": 2,', OCI_IMAGE_MANIFEST, /not valid JSON/],
      ['empty body', '', OCI_IMAGE_MANIFEST, /not valid JSON/],
      ['binary garbage', '\u0000\u0001\u00ff', undefined, /not valid JSON/],
      ['a JSON array', '[]', OCI_IMAGE_MANIFEST, /must be a JSON object/],
      ['JSON null', 'null', OCI_IMAGE_MANIFEST, /must be a JSON object/],
      ['schemaVersion missing', edit(ociImage, (m) => delete m.schemaVersion), OCI_IMAGE_MANIFEST, /schemaVersion: is missing/],
      ['schemaVersion 1', edit(ociImage, (m) => (m.schemaVersion = 1)), OCI_IMAGE_MANIFEST, /schemaVersion: must be 2 \(got 1\)/],
      ['schemaVersion "2"', edit(ociImage, (m) => (m.schemaVersion = '2')), OCI_IMAGE_MANIFEST, /schemaVersion: must be 2 \(got "2"\)/],
      ['Content-Type says index, body says image', ociImage(), OCI_IMAGE_INDEX, /mediaType: "application\/vnd\.oci\.image\.manifest\.v1\+json" does not match the Content-Type/],
      ['Content-Type says OCI, body says Docker', dockerImage(), OCI_IMAGE_MANIFEST, /does not match the Content-Type/],
      ['an unsupported Content-Type', ociImage(), 'application/vnd.example+json', /unsupported manifest media type "application\/vnd\.example\+json"/],
      ['Docker schema 1 Content-Type', ociImage(), 'application/vnd.docker.distribution.manifest.v1+prettyjws', /schema 1 manifests are not supported/],
      ['an unsupported body mediaType', edit(ociImage, (m) => (m.mediaType = 'application/vnd.example+json')), undefined, /mediaType: unsupported manifest media type/],
      ['a non-string mediaType', edit(ociImage, (m) => (m.mediaType = 5)), undefined, /mediaType: must be a string/],
      ['neither says, and the body is ambiguous', { schemaVersion: 2 }, undefined, /mediaType: is missing and the Content-Type does not say/],
      ['Docker schema 2 without its mediaType', edit(dockerImage, (m) => delete m.mediaType), DOCKER_MANIFEST, /mediaType: is required in a Docker manifest/],
      ['config missing', edit(ociImage, (m) => delete m.config), OCI_IMAGE_MANIFEST, /config: is missing/],
      ['layers missing', edit(ociImage, (m) => delete m.layers), OCI_IMAGE_MANIFEST, /layers: is missing/],
      ['layers not an array', edit(ociImage, (m) => (m.layers = {})), OCI_IMAGE_MANIFEST, /layers: must be an array/],
      ['a layer that is a string', edit(ociImage, (m) => (m.layers = ['sha256:abc'])), OCI_IMAGE_MANIFEST, /layers\[0\]: must be a descriptor object/],
      ['bad digest in a layer', edit(ociImage, (m) => (layer(m, 1).digest = 'sha256:1234')), OCI_IMAGE_MANIFEST, /layers\[1\]\.digest: a sha256 digest is 64 lowercase hex digits/],
      ['unsupported digest algorithm in a layer', edit(ociImage, (m) => (layer(m, 0).digest = `md5:${'a'.repeat(32)}`)), OCI_IMAGE_MANIFEST, /layers\[0\]\.digest: unsupported digest algorithm "md5"/],
      ['digest missing in a layer', edit(ociImage, (m) => delete layer(m, 2).digest), OCI_IMAGE_MANIFEST, /layers\[2\]\.digest: is missing/],
      ['size missing in a layer', edit(ociImage, (m) => delete layer(m, 0).size), OCI_IMAGE_MANIFEST, /layers\[0\]\.size: is missing/],
      ['negative size', edit(ociImage, (m) => (layer(m, 0).size = -1)), OCI_IMAGE_MANIFEST, /layers\[0\]\.size: must be a non-negative integer \(got -1\)/],
      ['fractional size', edit(ociImage, (m) => (layer(m, 0).size = 1.5)), OCI_IMAGE_MANIFEST, /layers\[0\]\.size: must be a non-negative integer/],
      ['size as a string', edit(ociImage, (m) => (layer(m, 0).size = '10')), OCI_IMAGE_MANIFEST, /layers\[0\]\.size: must be a non-negative integer \(got "10"\)/],
      ['size beyond 2^53', '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"' + CONFIG + '","size":9007199254740993},"layers":[]}', undefined, /config\.size: must be a non-negative integer/],
      ['mediaType missing in config', edit(ociImage, (m) => delete (m.config as Json).mediaType), OCI_IMAGE_MANIFEST, /config\.mediaType: is missing/],
      ['a malformed mediaType in a layer', edit(ociImage, (m) => (layer(m, 0).mediaType = 'not a media type')), OCI_IMAGE_MANIFEST, /layers\[0\]\.mediaType: "not a media type" is not a media type/],
      ['urls not strings', edit(ociImage, (m) => (layer(m, 0).urls = [1])), OCI_IMAGE_MANIFEST, /layers\[0\]\.urls: must be an array of URLs/],
      ['annotations with a number', edit(ociImage, (m) => (m.annotations = { a: 1 })), OCI_IMAGE_MANIFEST, /annotations: must be an object of string values/],
      ['layer annotations as an array', edit(ociImage, (m) => (layer(m, 0).annotations = ['a'])), OCI_IMAGE_MANIFEST, /layers\[0\]\.annotations: must be an object/],
      ['a bad artifactType', edit(artifact, (m) => (m.artifactType = 'sbom')), OCI_IMAGE_MANIFEST, /artifactType: "sbom" is not a media type/],
      ['a subject with a bad digest', edit(artifact, (m) => ((m.subject as Json).digest = 'sha256:zz')), OCI_IMAGE_MANIFEST, /subject\.digest:/],
      ['data that is not base64', edit(artifact, (m) => ((m.config as Json).data = 'e30=!')), OCI_IMAGE_MANIFEST, /config\.data: must be base64/],
      ['data of the wrong size', edit(artifact, (m) => ((m.config as Json).data = 'e30AAA==')), OCI_IMAGE_MANIFEST, /config\.data: holds 4 bytes but size says 2/],
      ['data of the wrong content', edit(artifact, (m) => ((m.config as Json).data = 'W10=')), OCI_IMAGE_MANIFEST, /config\.data: does not match the digest/],
      ['an image with manifests (ambiguous)', edit(ociImage, (m) => (m.manifests = [])), OCI_IMAGE_MANIFEST, /image manifest .* has no "manifests"; is this an index\?/],
      ['an index with layers (ambiguous)', edit(ociIndex, (m) => (m.layers = [])), OCI_IMAGE_INDEX, /layers: an index .* has no "layers"/],
      ['an index with a config', edit(ociIndex, (m) => (m.config = {})), OCI_IMAGE_INDEX, /config: an index/],
      ['an index without manifests', edit(ociIndex, (m) => delete m.manifests), OCI_IMAGE_INDEX, /manifests: is missing/],
      ['an index entry with a bad digest', edit(ociIndex, (m) => ((m.manifests as Json[])[1]!.digest = 'latest')), OCI_IMAGE_INDEX, /manifests\[1\]\.digest: "latest" is not a digest/],
      ['a platform without os', edit(ociIndex, (m) => delete ((m.manifests as Json[])[0]!.platform as Json).os), OCI_IMAGE_INDEX, /manifests\[0\]\.platform\.os: is missing/],
      ['a platform as a string', edit(dockerList, (m) => ((m.manifests as Json[])[0]!.platform = 'linux/amd64')), DOCKER_MANIFEST_LIST, /manifests\[0\]\.platform: must be an object/],
      ['platform features not strings', edit(ociIndex, (m) => (((m.manifests as Json[])[0]!.platform as Json).features = [1])), OCI_IMAGE_INDEX, /platform\.features: must be an array of strings/],
    ];
    for (const [name, body, contentType, detail] of table) {
      it(name, () => {
        const err = throwsRegistryError(() => parseManifest(bytes(body), contentType), 'MANIFEST_INVALID', detail, 400);
        assert.match(err.message, /^invalid manifest: /);
        assert.equal(typeof (err.detail as { reason?: unknown }).reason, 'string');
      });
    }

    it('the detail names the field at fault', () => {
      const err = throwsRegistryError(() => parseManifest(bytes(edit(ociImage, (m) => (layer(m, 1).digest = 'sha256:1234'))), OCI_IMAGE_MANIFEST), 'MANIFEST_INVALID');
      assert.deepEqual(err.detail, { field: 'layers[1].digest', reason: 'a sha256 digest is 64 lowercase hex digits (got "1234")' });
    });
  });

  it('an unsupported Content-Type is blamed on the header', () => {
    const err = throwsRegistryError(() => parseManifest(bytes(ociImage()), 'application/x-tar'), 'MANIFEST_INVALID');
    assert.deepEqual(Object.keys(err.detail as object), ['reason', 'header']);
    assert.equal((err.detail as { header: string }).header, 'Content-Type');
  });

  describe('size limit', () => {
    it('is 4 MiB', () => assert.equal(MAX_MANIFEST_BYTES, 4 * 1024 * 1024));

    it('manifestTooLarge is SIZE_INVALID answered 413', () => {
      const err = manifestTooLarge(5_000_000);
      assert.equal(err.code, 'SIZE_INVALID');
      assert.equal(err.status, 413);
      assert.deepEqual(err.detail, { size: 5_000_000, limit: MAX_MANIFEST_BYTES });
      assert.match(err.message, /5000000 bytes; over the limit of 4194304 bytes/);
      assert.match(manifestTooLarge(null, 10).message, /larger than the limit of 10 bytes/);
    });

    it('parseManifest refuses a body over the limit, and accepts one at the limit', () => {
      const base = JSON.stringify(ociImage());
      const exact = Buffer.from(base.replace(/}$/, `,"pad":"${'x'.repeat(MAX_MANIFEST_BYTES - base.length - 9)}"}`));
      assert.equal(exact.length, MAX_MANIFEST_BYTES);
      assert.equal(parseManifest(exact, OCI_IMAGE_MANIFEST).kind, 'image');
      const over = Buffer.concat([exact, Buffer.from(' ')]);
      throwsRegistryError(() => parseManifest(over, OCI_IMAGE_MANIFEST), 'SIZE_INVALID', /over the limit/, 413);
    });
  });

  describe('media type helpers', () => {
    const kinds: Array<[string, 'image' | 'index' | null]> = [
      [OCI_IMAGE_MANIFEST, 'image'],
      [DOCKER_MANIFEST, 'image'],
      [OCI_IMAGE_INDEX, 'index'],
      [DOCKER_MANIFEST_LIST, 'index'],
      [OCI_IMAGE_CONFIG, null],
      ['toString', null],
      ['', null],
    ];
    for (const [type, kind] of kinds) {
      it(`manifestKind(${JSON.stringify(type)}) → ${kind}`, () => assert.equal(manifestKind(type), kind));
    }
    const types: Array<[string, boolean]> = [
      ['application/json', true],
      [OCI_LAYER_TAR_GZIP, true],
      ['application/vnd.cncf.helm.config.v1+json', true],
      ['application', false],
      ['application/', false],
      ['/json', false],
      ['a/b/c', false],
      ['application/json; charset=utf-8', false],
    ];
    for (const [type, ok] of types) {
      it(`isMediaType(${JSON.stringify(type)}) → ${ok}`, () => assert.equal(isMediaType(type), ok));
    }
    it('essence strips parameters and case', () => {
      assert.equal(essence(' Application/JSON ; charset=utf-8'), 'application/json');
      assert.equal(essence(''), '');
    });
  });
});
