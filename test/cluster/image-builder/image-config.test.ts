// The new image's config (image-config.ts) and manifest (image-manifest.ts), pure: what a runtime reads
// from them (entrypoint, cmd, env, workdir, labels), the fixed times, the history and rootfs, and the
// canonical key order that keeps the digest the same for the same inputs.
import assert from 'node:assert/strict';
import { Invalid } from '../../../src/shared/errors.ts';
import { canonicalJson, imageConfig, mergeEnv, type ConfigChanges } from '../../../src/cluster/image-builder/image-config.ts';
import { imageManifest, parseManifest, pickPlatform, MEDIA_TYPES } from '../../../src/cluster/image-builder/image-manifest.ts';
import { checkRequest, parseImageReference, type ImageBuildRequest } from '../../../src/cluster/image-builder/build-request.ts';

const D = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

const BASE = {
  architecture: 'amd64',
  os: 'linux',
  created: '2020-01-01T00:00:00Z',
  config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin', 'PORT=80'], Labels: { maintainer: 'base', 'org.opencontainers.image.revision': 'old' } },
  rootfs: { type: 'layers', diff_ids: [D(1)] },
  history: [{ created: '2020-01-01T00:00:00Z', created_by: 'import' }],
};

const CHANGES: ConfigChanges = { sourceDateEpoch: 1_700_000_000, createdBy: 'COPY dist/ /app', diffId: D(2) };

const configOf = (changes: Partial<ConfigChanges>, base: unknown = BASE) => JSON.parse(imageConfig(base, 1, { ...CHANGES, ...changes }).toString()) as typeof BASE & { config: Record<string, unknown> };

describe('image builder config', () => {
  it('sets created, a history entry at the epoch and the new diff_id', () => {
    const config = configOf({});
    assert.equal(config.created, '2023-11-14T22:13:20Z');
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [D(1), D(2)] });
    assert.deepEqual(config.history.at(-1), { created: '2023-11-14T22:13:20Z', created_by: 'COPY dist/ /app', comment: 'gantry image builder' });
    assert.equal(config.history.length, 2);
    assert.deepEqual([config.architecture, config.os], ['amd64', 'linux'], 'the rest of the base is kept');
  });

  const table: Array<[string, Partial<ConfigChanges>, Record<string, unknown>]> = [
    ['nothing changed', {}, { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin', 'PORT=80'], Labels: { maintainer: 'base', 'org.opencontainers.image.revision': 'old' } }],
    ['an entrypoint clears the base Cmd', { entrypoint: ['/app/server'] }, { Entrypoint: ['/app/server'] }],
    ['an entrypoint and a cmd', { entrypoint: ['/app/server'], cmd: ['--port', '8080'] }, { Entrypoint: ['/app/server'], Cmd: ['--port', '8080'] }],
    ['a cmd alone', { cmd: ['/app/server'] }, { Cmd: ['/app/server'] }],
    ['env replaced in place, new ones by name', { env: { ZED: '1', PORT: '8080', ALPHA: 'a=b' } }, { Env: ['PATH=/usr/bin:/bin', 'PORT=8080', 'ALPHA=a=b', 'ZED=1'] }],
    ['workdir', { workdir: '/app' }, { WorkingDir: '/app' }],
    [
      'labels merged, revision and source from the inputs',
      { labels: { team: 'web', maintainer: 'us' }, revision: 'abc123', source: 'https://git.example.com/web' },
      { Labels: { maintainer: 'us', 'org.opencontainers.image.revision': 'abc123', 'org.opencontainers.image.source': 'https://git.example.com/web', team: 'web' } },
    ],
  ];
  for (const [name, changes, expected] of table) {
    it(name, () => {
      const runtime = configOf(changes).config;
      const wanted = { ...BASE.config, ...expected } as Record<string, unknown>;
      if (changes.entrypoint && !changes.cmd) delete wanted.Cmd;
      assert.deepEqual(runtime, wanted);
    });
  }

  it('makes a config section when the base has none', () => {
    const base = { ...BASE, config: undefined };
    assert.deepEqual(configOf({ env: { A: '1' } }, base).config, { Env: ['A=1'] });
  });

  it('writes canonical JSON: the same bytes whatever order the base and the changes came in', () => {
    const reordered = JSON.parse(JSON.stringify({ rootfs: BASE.rootfs, history: BASE.history, os: 'linux', config: BASE.config, created: BASE.created, architecture: 'amd64' })) as unknown;
    const a = imageConfig(BASE, 1, { ...CHANGES, labels: { b: '1', a: '2', '10': 'x', '2': 'y' } });
    const b = imageConfig(reordered, 1, { ...CHANGES, labels: { '2': 'y', a: '2', '10': 'x', b: '1' } });
    assert.ok(a.equals(b));
    assert.match(a.toString(), /^\{"architecture":"amd64","config":\{"Cmd"/);
    assert.match(a.toString(), /"Labels":\{"10":"x","2":"y","a":"2","b":"1"/, 'byte order, not JavaScript\'s integer-first order');
    assert.equal(canonicalJson({ b: [1, { d: null, c: 'é' }], a: true }), '{"a":true,"b":[1,{"c":"é","d":null}]}');
  });

  it('refuses a base config whose diff_ids do not match its layers', () => {
    assert.throws(() => imageConfig(BASE, 2, CHANGES), (err: unknown) => err instanceof Invalid && /lists 1 diff_ids for its 2 layers/.test(err.message));
    assert.throws(() => imageConfig({ ...BASE, rootfs: undefined }, 1, CHANGES), /lists no diff_ids/);
  });

  it('merges env lists with entries without a value', () => {
    assert.deepEqual(mergeEnv(['A', 'B=1'], { A: 'x' }), ['A=x', 'B=1']);
  });
});

describe('image builder manifest', () => {
  const layer = (n: number) => ({ mediaType: MEDIA_TYPES.docker.gzipLayer, digest: D(n), size: 10 * n });

  it('keeps the base format and its layer descriptors, and adds the layer and config in that format', () => {
    for (const format of ['oci', 'docker'] as const) {
      const baseLayers = [{ ...layer(1), annotations: { kept: 'yes' } }];
      const { bytes, mediaType } = imageManifest({ format, config: { ...layer(9), mediaType: MEDIA_TYPES[format].config }, layers: baseLayers }, { digest: D(3), size: 30 }, { digest: D(4), size: 40 });
      assert.equal(mediaType, MEDIA_TYPES[format].manifest);
      assert.deepEqual(JSON.parse(bytes.toString()), {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES[format].manifest,
        config: { mediaType: MEDIA_TYPES[format].config, digest: D(3), size: 30 },
        layers: [...baseLayers, { mediaType: MEDIA_TYPES[format].gzipLayer, digest: D(4), size: 40 }],
      });
    }
  });

  it('reads an index and picks the platform', () => {
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: MEDIA_TYPES.oci.manifest, digest: D(1), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: MEDIA_TYPES.oci.manifest, digest: D(2), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const parsed = parseManifest(Buffer.from(JSON.stringify(index)), '', 'base');
    assert.equal(parsed.kind, 'index');
    if (parsed.kind !== 'index') return;
    assert.equal(pickPlatform(parsed.manifests, { os: 'linux', architecture: 'amd64' }, 'base').digest, D(2));
    assert.equal(pickPlatform(parsed.manifests, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'base').digest, D(1));
    assert.throws(() => pickPlatform(parsed.manifests, { os: 'windows', architecture: 'amd64' }, 'the base image x'), /the base image x has no windows\/amd64 image \(it has: linux\/arm64\/v8, linux\/amd64\)/);
  });

  it('refuses schema 1 and what is no manifest', () => {
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"fsLayers":[]}'), '', 'base'), /schema 1/);
    assert.throws(() => parseManifest(Buffer.from('nope'), '', 'base'), /is not JSON/);
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}'), '', 'base'), /base, config is not a descriptor/);
  });
});

describe('image builder references', () => {
  const table: Array<[string, string | { repository: string; reference: string; kind: string }]> = [
    ['team/base:1', { repository: 'team/base', reference: '1', kind: 'tag' }],
    ['team/base', { repository: 'team/base', reference: 'latest', kind: 'tag' }],
    [`team/base@${D(7)}`, { repository: 'team/base', reference: D(7), kind: 'digest' }],
    ['127.0.0.1:5000/team/base:v2', { repository: 'team/base', reference: 'v2', kind: 'tag' }],
    ['docker.io/library/alpine:3', 'names the registry docker.io, not 127.0.0.1:5000'],
    ['Team/Base:1', 'is not a valid image reference'],
    ['team/base:', 'is not a valid image reference'],
    ['team/base@sha256:abc', 'is not a valid image reference'],
  ];
  for (const [ref, expected] of table) {
    it(ref, () => {
      if (typeof expected === 'string') assert.throws(() => parseImageReference(ref, '127.0.0.1:5000', 'from'), (err: unknown) => err instanceof Invalid && err.message.includes(expected));
      else assert.deepEqual(parseImageReference(ref, '127.0.0.1:5000', 'from'), expected);
    });
  }
});

describe('image builder request checks', () => {
  const valid: ImageBuildRequest = {
    registry: { url: 'http://127.0.0.1:5000' },
    from: 'team/base:1',
    image: 'team/web',
    tags: ['1'],
    root: '/work',
    files: [{ src: 'dist', dest: '/app' }],
    sourceDateEpoch: 0,
  };
  const table: Array<[Partial<ImageBuildRequest>, string]> = [
    [{ image: 'Team/Web' }, 'image Team/Web is not a valid repository name'],
    [{ tags: ['ok', '-bad'] }, 'tag "-bad" is not a valid tag'],
    [{ sourceDateEpoch: 1.5 }, 'the source date epoch 1.5 is not a whole number of seconds'],
    [{ sourceDateEpoch: -1 }, 'the source date epoch -1 is not'],
    [{ files: [] }, 'files: name at least one {src, dest}'],
    [{ env: { PORT: 8080 as unknown as string } }, 'env: PORT must be a string (quote it in YAML)'],
    [{ env: { 'A=B': 'x' } }, 'env: "A=B" is not a variable name'],
    [{ labels: { n: 1 as unknown as string } }, 'labels: n must be a string'],
    [{ entrypoint: '/app/server' as unknown as string[] }, 'entrypoint must be a list of strings'],
    [{ workdir: 'app' }, 'workdir app is not an absolute path'],
  ];
  it('accepts a plain request', () => checkRequest(valid));
  for (const [changes, message] of table) {
    it(message, () => assert.throws(() => checkRequest({ ...valid, ...changes }), (err: unknown) => err instanceof Invalid && err.message.startsWith(message)));
  }
});
