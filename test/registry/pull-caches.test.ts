// The registry remembers tag resolutions, manifest bytes, ACL rules, accounts and verified passwords in
// memory (so that a pull by tag costs no store query). These tests are what a user would notice if any
// of it were ever stale: a moved tag, a deleted tag or manifest, a repository made private, a user
// removed. Writes made in the process are seen by the very next request; writes from outside (the
// database edited by hand) within the documented 10 s bound.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { ManifestBytes } from '../../src/registry/api/manifest-bytes.ts';
import { RegistryAcl } from '../../src/registry/auth/acl-store.ts';
import { RegistryUsers } from '../../src/registry/auth/users.ts';
import { createRegistry, type Registry } from '../../src/registry/index.ts';
import { ManifestLookups } from '../../src/registry/metadata/manifest-lookups.ts';
import { RegistryMetadata } from '../../src/registry/metadata/registry-metadata.ts';
import { BlobStore } from '../../src/registry/storage/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { sha256 } from './api/helpers.ts';

const ADMIN_TOKEN = 'gat_pull-caches-test-token-0123456789';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const basic = (user: string, pass: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
const ADMIN = basic('admin', ADMIN_TOKEN);

describe('registry: what pulls remember is never stale', () => {
  let dir: string;
  let store: Store;
  let registry: Registry;
  let server: http.Server;
  let url: string;
  let now: Date;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-pull-caches-'));
    store = await openStore({ dataDir: dir });
    await store.tokens.create('admin', 'admin', ADMIN_TOKEN);
    now = new Date('2026-11-24T12:00:00.000Z');
    registry = createRegistry({
      root: path.join(dir, 'registry'),
      knex: store.knex,
      isAdminToken: async (secret) => (await store.tokens.findBySecret(secret))?.kind === 'admin',
      reserves: { minFreeBytes: 0, minFreeInodes: 0 },
      logger: pino({ level: 'silent' }),
      clock: () => now,
    });
    server = http.createServer(registry.app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    now = new Date('2026-11-24T12:00:00.000Z');
  });

  async function pushBlob(repo: string, bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/octet-stream' }, body: bytes });
    assert.equal(res.status, 201, await res.text());
    return digest;
  }

  /** Pushes a one-layer image under `reference`; `seed` makes each manifest distinct. */
  async function pushImage(repo: string, reference: string, seed: string): Promise<{ bytes: Buffer; digest: string }> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
    const layer = Buffer.from(`layer ${seed}`);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob(repo, config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await pushBlob(repo, layer), size: layer.length }],
      }),
    );
    const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { ...ADMIN, 'content-type': OCI_MANIFEST }, body: manifest });
    assert.equal(res.status, 201, await res.text());
    return { bytes: manifest, digest: sha256(manifest) };
  }

  async function pull(repo: string, reference: string, headers: Record<string, string> = {}): Promise<{ status: number; digest: string | null; bytes: Buffer }> {
    const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, { headers: { accept: OCI_MANIFEST, ...headers } });
    return { status: res.status, digest: res.headers.get('docker-content-digest'), bytes: Buffer.from(await res.arrayBuffer()) };
  }

  describe('tags and manifests (no stale window at all)', () => {
    it('a moved tag: the next GET and HEAD answer the new manifest', async () => {
      const first = await pushImage('moves/app', 'v1', 'one');
      for (let i = 0; i < 3; i++) assert.equal((await pull('moves/app', 'v1')).digest, first.digest);
      const second = await pushImage('moves/app', 'v1', 'two');
      const after = await pull('moves/app', 'v1');
      assert.equal(after.status, 200);
      assert.equal(after.digest, second.digest);
      assert.deepEqual(after.bytes, second.bytes);
      const head = await fetch(`${url}/v2/moves/app/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
      assert.equal(head.headers.get('docker-content-digest'), second.digest);
      assert.equal(head.headers.get('content-length'), String(second.bytes.length));
      // The old manifest is still there by digest (only the tag moved).
      assert.deepEqual((await pull('moves/app', first.digest)).bytes, first.bytes);
    });

    it('a deleted tag: the next GET is 404, and the manifest stays readable by digest', async () => {
      const image = await pushImage('deletes/app', 'v1', 'tag-delete');
      assert.equal((await pull('deletes/app', 'v1')).status, 200);
      const del = await fetch(`${url}/v2/deletes/app/manifests/v1`, { method: 'DELETE', headers: ADMIN });
      assert.equal(del.status, 202);
      const gone = await fetch(`${url}/v2/deletes/app/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(gone.status, 404);
      assert.equal(((await gone.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'MANIFEST_UNKNOWN');
      assert.equal((await fetch(`${url}/v2/deletes/app/manifests/v1`, { method: 'HEAD' })).status, 404);
      assert.equal((await pull('deletes/app', image.digest)).status, 200);
    });

    it('a deleted manifest: GET by digest and by every tag that named it are 404 at once', async () => {
      const image = await pushImage('deletes/other', 'a', 'manifest-delete');
      await fetch(`${url}/v2/deletes/other/manifests/b`, { method: 'PUT', headers: { ...ADMIN, 'content-type': OCI_MANIFEST }, body: image.bytes });
      for (const ref of ['a', 'b', image.digest]) assert.equal((await pull('deletes/other', ref)).status, 200, ref);
      const del = await fetch(`${url}/v2/deletes/other/manifests/${image.digest}`, { method: 'DELETE', headers: ADMIN });
      assert.equal(del.status, 202);
      for (const ref of ['a', 'b', image.digest]) assert.equal((await pull('deletes/other', ref)).status, 404, ref);
      // Pushed again, it is served again (nothing remembered the absence).
      await fetch(`${url}/v2/deletes/other/manifests/a`, { method: 'PUT', headers: { ...ADMIN, 'content-type': OCI_MANIFEST }, body: image.bytes });
      assert.equal((await pull('deletes/other', 'a')).digest, image.digest);
    });

    it('a write through another RegistryMetadata on the same store is seen by the next GET', async () => {
      const image = await pushImage('elsewhere/app', 'v1', 'elsewhere');
      assert.equal((await pull('elsewhere/app', 'v1')).digest, image.digest);
      const other = new RegistryMetadata(store.knex);
      assert.equal(await other.deleteTag('elsewhere/app', 'v1'), true);
      assert.equal((await pull('elsewhere/app', 'v1')).status, 404);
    });

    it('a tag moved while pulls of it are in flight: every pull after the move answers the new manifest', async () => {
      const meta = registry.metadata;
      const images = [await pushImage('racing/app', 'v0', 'race-a'), await pushImage('racing/app', 'v0-b', 'race-b')];
      const input = (digest: string, size: number) => ({ digest, mediaType: OCI_MANIFEST, size, references: [] });
      for (let i = 0; i < 20; i++) {
        const target = images[i % 2]!;
        // Pulls started before the move, the move, and pulls started while it is being written.
        const before = [meta.resolveManifest('racing/app', 'v0'), meta.resolveManifest('racing/app', 'v0')];
        const move = meta.putManifest('racing/app', input(target.digest, target.bytes.length), 'v0', { by: 'admin', at: now.toISOString() });
        const during = [meta.resolveManifest('racing/app', 'v0'), pull('racing/app', 'v0')];
        await Promise.all([...before, move, ...during]);
        assert.equal((await meta.resolveManifest('racing/app', 'v0')).digest, target.digest, `round ${i}`);
        assert.equal((await pull('racing/app', 'v0')).digest, target.digest, `round ${i} over HTTP`);
      }
    });

    it('an answer read under an older generation is never used (the read raced with a write)', () => {
      const lookups = new ManifestLookups();
      const head = { digest: 'sha256:' + 'a'.repeat(64), mediaType: OCI_MANIFEST, size: 10 };
      const before = lookups.generation('r');
      lookups.invalidate('r'); // a write committed while the read was in flight
      lookups.set('r', 'v1', before, head);
      assert.equal(lookups.get('r', 'v1'), undefined);
      lookups.set('r', 'v1', lookups.generation('r'), head);
      assert.deepEqual(lookups.get('r', 'v1'), head);
      lookups.invalidate('other');
      assert.deepEqual(lookups.get('r', 'v1'), head, 'a write elsewhere leaves it');
      lookups.invalidate('r');
      assert.equal(lookups.get('r', 'v1'), undefined);
    });

    it('stays bounded, and forgetting every generation at once cannot revive an old answer', () => {
      const lookups = new ManifestLookups(3, 2);
      const head = (n: number) => ({ digest: `sha256:${String(n).repeat(64)}`.slice(0, 71), mediaType: OCI_MANIFEST, size: n });
      for (let i = 0; i < 5; i++) lookups.set('r', `t${i}`, lookups.generation('r'), head(i));
      assert.equal(lookups.size, 3);
      assert.equal(lookups.get('r', 't0'), undefined, 'least recently used first out');
      const stale = lookups.generation('fresh');
      lookups.invalidate('a');
      lookups.invalidate('b');
      lookups.invalidate('fresh'); // third repository with its own generation: everything is forgotten
      lookups.set('fresh', 'v1', stale, head(1));
      assert.equal(lookups.get('fresh', 'v1'), undefined);
      assert.equal(lookups.size, 0);
    });
  });

  describe('manifest bytes (by digest)', () => {
    it('never serves bytes that do not match their digest (a damaged disk answers 500)', async () => {
      const image = await pushImage('damaged/app', 'v1', 'damaged');
      const hex = image.digest.slice('sha256:'.length);
      await writeFile(path.join(dir, 'registry', 'blobs', 'sha256', hex.slice(0, 2), hex), Buffer.from('{"not":"the manifest"}'));
      const res = await pull('damaged/app', 'v1');
      assert.equal(res.status, 500);
      assert.ok(!res.bytes.toString().includes('not'), 'the damaged bytes are not served');
    });

    it('keeps at most its byte budget, least recently used out first', async () => {
      const blobs = new BlobStore(path.join(dir, 'bytes-budget'));
      const cache = new ManifestBytes(blobs, 250);
      const digests = [];
      for (let i = 0; i < 4; i++) {
        const bytes = Buffer.from(JSON.stringify({ n: i, pad: 'x'.repeat(90) }));
        digests.push((await blobs.put(Readable.from([bytes]), { digest: sha256(bytes) })).digest);
      }
      for (const digest of digests) assert.equal(sha256(await cache.get(digest)), digest);
      assert.ok(cache.size.bytes <= 250, `${cache.size.bytes} bytes kept`);
      assert.equal(cache.size.entries, 2);
    });
  });

  describe('access (ACL rules, users): seen at once when written here, within 10 s otherwise', () => {
    after(async () => {
      for (const rule of await registry.auth.acl.list()) await registry.auth.acl.remove(rule.repositoryGlob, rule.subject);
    });

    it('a repository made private: the next anonymous GET is 401, and public again: 200', async () => {
      await pushImage('acl/app', 'v1', 'acl');
      assert.equal((await pull('acl/app', 'v1')).status, 200);
      await registry.auth.acl.set({ repositoryGlob: 'acl/**', subject: 'anonymous', actions: [] });
      const refused = await fetch(`${url}/v2/acl/app/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /scope="repository:acl\/app:pull"/);
      assert.equal((await pull('acl/app', 'v1', ADMIN)).status, 200, 'admin still pulls');
      assert.equal(await registry.auth.acl.remove('acl/**', 'anonymous'), true);
      assert.equal((await pull('acl/app', 'v1')).status, 200);
    });

    it('a rule written through another RegistryAcl on the same store (the platform API) is seen at once', async () => {
      await pushImage('acl/api', 'v1', 'acl-api');
      assert.equal((await pull('acl/api', 'v1')).status, 200);
      const platform = new RegistryAcl(store.knex);
      await platform.set({ repositoryGlob: 'acl/api', subject: 'anonymous', actions: [] });
      assert.equal((await pull('acl/api', 'v1')).status, 401);
      await platform.remove('acl/api', 'anonymous');
      assert.equal((await pull('acl/api', 'v1')).status, 200);
    });

    it('a rule written outside the process is seen within 10 s', async () => {
      await pushImage('acl/outside', 'v1', 'acl-outside');
      assert.equal((await pull('acl/outside', 'v1')).status, 200);
      await store.knex('registry_acl').insert({ repository_glob: 'acl/outside', subject: 'anonymous', actions: '[]', created_at: now.toISOString() });
      now = new Date(now.getTime() + 10_000);
      assert.equal((await pull('acl/outside', 'v1')).status, 401);
      await store.knex('registry_acl').where({ repository_glob: 'acl/outside' }).delete();
      now = new Date(now.getTime() + 10_000);
      assert.equal((await pull('acl/outside', 'v1')).status, 200);
    });

    it('a removed user: refused at once (Basic and bearer token alike)', async () => {
      await registry.auth.users.add({ name: 'carol', kind: 'user', password: 'carol-password', groups: ['team'] });
      await registry.auth.acl.set({ repositoryGlob: 'private/**', subject: 'anonymous', actions: [] });
      await registry.auth.acl.set({ repositoryGlob: 'private/**', subject: 'group:team', actions: ['pull'] });
      await pushImage('private/app', 'v1', 'private');
      const carol = basic('carol', 'carol-password');
      const tokenRes = await fetch(`${url}/token?service=gantry-registry&scope=repository:private/app:pull`, { headers: carol });
      const jwt = ((await tokenRes.json()) as { token: string }).token;
      for (let i = 0; i < 2; i++) {
        assert.equal((await pull('private/app', 'v1', carol)).status, 200);
        assert.equal((await pull('private/app', 'v1', { authorization: `Bearer ${jwt}` })).status, 200);
      }
      // Removed through another RegistryUsers on the same store, as the platform API does.
      assert.equal(await new RegistryUsers(store.knex).remove('carol'), true);
      assert.equal((await pull('private/app', 'v1', carol)).status, 401);
      assert.notEqual((await pull('private/app', 'v1', { authorization: `Bearer ${jwt}` })).status, 200);
    });

    it('a user removed outside the process is refused within 10 s', async () => {
      await registry.auth.users.add({ name: 'dave', kind: 'user', password: 'dave-password', groups: ['team'] });
      const dave = basic('dave', 'dave-password');
      assert.equal((await pull('private/app', 'v1', dave)).status, 200);
      await store.knex('registry_users').where({ name: 'dave' }).delete();
      now = new Date(now.getTime() + 10_000);
      assert.equal((await pull('private/app', 'v1', dave)).status, 401);
    });

    it('a user removed and added again with another password: the old password is refused at once', async () => {
      await registry.auth.users.add({ name: 'erin', kind: 'user', password: 'first-password', groups: ['team'] });
      assert.equal((await pull('private/app', 'v1', basic('erin', 'first-password'))).status, 200);
      await registry.auth.users.remove('erin');
      await registry.auth.users.add({ name: 'erin', kind: 'user', password: 'second-password', groups: ['team'] });
      assert.equal((await pull('private/app', 'v1', basic('erin', 'first-password'))).status, 401);
      assert.equal((await pull('private/app', 'v1', basic('erin', 'second-password'))).status, 200);
    });
  });
});
