// The Docker token flow over real HTTP, with the real authorizer on a real SQLite store.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt, SignJWT } from 'jose';
import { createRegistry } from '../../../src/registry/index.ts';
import { RegistryError } from '../../../src/registry/protocol/errors.ts';
import { loadSigningKey } from '../../../src/registry/auth/signing-key.ts';
import { StoreAuthorizer } from '../../../src/registry/auth/store-authorizer.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { pino } from 'pino';
import { sha256 } from '../api/helpers.ts';

const ADMIN = 'gat_registry-test-token-0123456789';
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

interface TokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
}

describe('registry token flow over HTTP', () => {
  let dir: string;
  let store: Store;
  let server: http.Server;
  let url: string;
  let auth: StoreAuthorizer;
  let now = new Date('2026-11-24T12:00:00.000Z');
  let robotToken = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-registry-token-'));
    store = await openStore({ dataDir: dir });
    await store.tokens.create('admin', 'admin', ADMIN);
    const registry = createRegistry({
      root: path.join(dir, 'registry'),
      knex: store.knex,
      isAdminToken: async (secret) => (await store.tokens.findBySecret(secret))?.kind === 'admin',
      reserves: { minFreeBytes: 0, minFreeInodes: 0 },
      logger: pino({ level: 'silent' }),
      clock: () => now,
    });
    auth = registry.auth;
    await auth.users.add({ name: 'alice', kind: 'user', password: 'alice-password', groups: ['team'] });
    await auth.users.add({ name: 'bob', kind: 'user', password: 'bob-password' });
    robotToken = (await auth.users.add({ name: 'ci-bot', kind: 'robot', groups: ['team'] })).token!;
    await auth.acl.set({ repositoryGlob: 'readonly/**', subject: 'authenticated', actions: ['pull'] });
    await auth.acl.set({ repositoryGlob: 'team/secret/**', subject: 'anonymous', actions: [] });
    await auth.acl.set({ repositoryGlob: 'team/secret/**', subject: 'group:team', actions: ['pull', 'push'] });
    server = http.createServer(registry.app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    now = new Date('2026-11-24T12:00:00.000Z');
  });

  async function token(authorization: string | undefined, ...scopes: string[]): Promise<TokenAnswer> {
    const query = new URLSearchParams({ service: 'gantry-registry' });
    for (const s of scopes) query.append('scope', s);
    const res = await fetch(`${url}/token?${query}`, { headers: authorization ? { authorization } : {} });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as TokenAnswer;
  }
  const access = (jwt: string) => decodeJwt(jwt).access;
  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  it('answers an anonymous push with 401 and a Bearer challenge naming realm, service and scope', async () => {
    const res = await fetch(`${url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${url}/token",service="gantry-registry",scope="repository:team/app:pull,push"`);
    const ping = await fetch(`${url}/v2/`);
    assert.equal(ping.status, 401);
    assert.equal(ping.headers.get('www-authenticate'), `Bearer realm="${url}/token",service="gantry-registry"`);
  });

  it('asks for pull on the source too when a mount is challenged, so a token can cover both', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const res = await fetch(`${url}/v2/team/app/blobs/uploads/?mount=${digest}&from=team/base`, { method: 'POST' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${url}/token",service="gantry-registry",scope="repository:team/app:pull,push repository:team/base:pull"`);
    const badFrom = await fetch(`${url}/v2/team/app/blobs/uploads/?mount=${digest}&from=..%2Fetc`, { method: 'POST' });
    assert.match(badFrom.headers.get('www-authenticate') ?? '', /scope="repository:team\/app:pull,push"$/, 'an invalid source name is not echoed');
  });

  it('the realm follows the Host the client used', async () => {
    const res = await fetch(`${url.replace('127.0.0.1', 'localhost')}/v2/`);
    assert.match(res.headers.get('www-authenticate') ?? '', /realm="http:\/\/localhost:\d+\/token"/);
  });

  it('issues a 5-minute token with the answer fields and the claims', async () => {
    const answer = await token(basic('alice', 'alice-password'), 'repository:team/app:pull,push');
    assert.equal(answer.token, answer.access_token);
    assert.equal(answer.expires_in, 300);
    assert.equal(answer.issued_at, '2026-11-24T12:00:00.000Z');
    const claims = decodeJwt(answer.token);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.aud, 'gantry-registry');
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300);
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
  });

  it('intersects requested and allowed actions per scope', async () => {
    const cases: Array<[string | undefined, string[], unknown]> = [
      [basic('alice', 'alice-password'), ['repository:readonly/app:pull,push,delete'], [{ type: 'repository', name: 'readonly/app', actions: ['pull'] }]],
      [undefined, ['repository:team/app:pull,push'], [{ type: 'repository', name: 'team/app', actions: ['pull'] }]],
      [undefined, ['repository:team/secret/db:pull'], []],
      [basic('bob', 'bob-password'), ['repository:team/secret/db:pull,push', 'repository:team/app:*'], [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]],
      [basic('ci-bot', robotToken), ['repository:team/secret/db:pull,push,delete'], [{ type: 'repository', name: 'team/secret/db', actions: ['pull', 'push'] }]],
      [basic('admin', ADMIN), ['repository:team/secret/db:pull,push,delete', 'registry:catalog:*'], [{ type: 'repository', name: 'team/secret/db', actions: ['pull', 'push', 'delete'] }]],
    ];
    for (const [authorization, scopes, expected] of cases) assert.deepEqual(access((await token(authorization, ...scopes)).token), expected, scopes.join(' '));
  });

  it('refuses wrong credentials at the token endpoint with 401', async () => {
    for (const authorization of [basic('alice', 'wrong-password'), basic('admin', 'gat_wrong'), basic('nobody', 'whatever1')]) {
      const res = await fetch(`${url}/token?scope=repository:team/app:pull`, { headers: { authorization } });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNAUTHORIZED');
    }
  });

  it('answers 403 DENIED to a user without push on the repository (Basic and token alike)', async () => {
    const direct = await fetch(`${url}/v2/readonly/app/blobs/uploads/`, { method: 'POST', headers: { authorization: basic('bob', 'bob-password') } });
    assert.equal(direct.status, 403);
    assert.equal(((await direct.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'DENIED');
    const jwt = (await token(basic('bob', 'bob-password'), 'repository:readonly/app:pull,push')).token;
    const viaToken = await fetch(`${url}/v2/readonly/app/blobs/uploads/`, { method: 'POST', headers: bearer(jwt) });
    assert.equal(viaToken.status, 403);
  });

  it('a pull-only token cannot PATCH or POST', async () => {
    const push = (await token(basic('alice', 'alice-password'), 'repository:team/app:pull,push')).token;
    const started = await fetch(`${url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: bearer(push) });
    assert.equal(started.status, 202);
    const location = started.headers.get('location')!;
    const pullOnly = (await token(basic('alice', 'alice-password'), 'repository:team/app:pull')).token;
    const patch = await fetch(new URL(location, url), { method: 'PATCH', headers: { ...bearer(pullOnly), 'content-type': 'application/octet-stream' }, body: Buffer.from('abc') });
    assert.ok([401, 403].includes(patch.status), `PATCH answered ${patch.status}`);
    const post = await fetch(`${url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: bearer(pullOnly) });
    assert.ok([401, 403].includes(post.status));
    // A token for one repository grants nothing on another.
    const other = await fetch(`${url}/v2/team/other/blobs/uploads/`, { method: 'POST', headers: bearer(push) });
    assert.ok([401, 403].includes(other.status));
  });

  it('rejects an expired, a wrong-audience, a tampered and a foreign token with 401', async () => {
    const jwt = (await token(basic('alice', 'alice-password'), 'repository:team/app:pull')).token;
    const get = (headers: Record<string, string>) => fetch(`${url}/v2/team/app/tags/list`, { headers });
    now = new Date(now.getTime() + 301_000);
    const expired = await get(bearer(jwt));
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    now = new Date('2026-11-24T12:00:00.000Z');

    const key = await loadSigningKey(store.knex);
    const iat = Math.floor(now.getTime() / 1000);
    const sign = (audience: string, secret: Uint8Array) =>
      new SignJWT({ kind: 'user', access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('gantry-registry')
        .setSubject('alice')
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 300)
        .sign(secret);
    assert.notEqual((await get(bearer(await sign('gantry-registry', key)))).status, 401, 'a well-formed token passes');
    assert.equal((await get(bearer(await sign('another-service', key)))).status, 401);
    assert.equal((await get(bearer(await sign('gantry-registry', new Uint8Array(32).fill(7))))).status, 401);
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.equal((await get(bearer(tampered))).status, 401);
    const escalated = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(jwt), access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }] })).toString('base64url')}.${s}`;
    assert.equal((await get(bearer(escalated))).status, 401);
  });

  it('pushes and pulls an image with tokens: POST/PUT blob, PUT manifest, GET manifest', async () => {
    const push = (await token(basic('ci-bot', robotToken), 'repository:team/secret/app:pull,push')).token;
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const layer = Buffer.from('layer bytes');
    for (const blob of [config, layer]) {
      const started = await fetch(`${url}/v2/team/secret/app/blobs/uploads/`, { method: 'POST', headers: bearer(push) });
      assert.equal(started.status, 202);
      const put = new URL(started.headers.get('location')!, url);
      put.searchParams.set('digest', sha256(blob));
      const done = await fetch(put, { method: 'PUT', headers: { ...bearer(push), 'content-type': 'application/octet-stream' }, body: blob });
      assert.equal(done.status, 201, await done.text());
    }
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    });
    const put = await fetch(`${url}/v2/team/secret/app/manifests/v1`, { method: 'PUT', headers: { ...bearer(push), 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
    assert.equal(put.status, 201, await put.text());

    const pull = (await token(basic('alice', 'alice-password'), 'repository:team/secret/app:pull')).token;
    const got = await fetch(`${url}/v2/team/secret/app/manifests/v1`, { headers: { ...bearer(pull), accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(got.status, 200);
    assert.equal(await got.text(), manifest);
    const blob = await fetch(`${url}/v2/team/secret/app/blobs/${sha256(layer)}`, { headers: bearer(pull) });
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(layer));
    // Private: an anonymous token grants nothing there, and anonymous callers are asked to log in.
    const anonymous = (await token(undefined, 'repository:team/secret/app:pull')).token;
    assert.equal((await fetch(`${url}/v2/team/secret/app/manifests/v1`, { headers: bearer(anonymous) })).status, 401);
    assert.equal((await fetch(`${url}/v2/team/secret/app/manifests/v1`)).status, 401);
  });

  describe('direct credentials (simple clients)', () => {
    const cases: Array<[string, () => string | undefined, string, string[]]> = [
      ['no credentials', () => undefined, 'anonymous', ['pull']],
      ['empty Basic credentials, as skopeo sends them', () => 'Basic Og==', 'anonymous', ['pull']],
      ['Basic with the admin token as admin', () => basic('admin', ADMIN), 'admin', ['pull', 'push', 'delete']],
      ['Basic with the admin token under another name', () => basic('ci', ADMIN), 'admin', ['pull', 'push', 'delete']],
      ['Bearer with the admin token', () => `Bearer ${ADMIN}`, 'admin', ['pull', 'push', 'delete']],
      ['Basic with a user password', () => basic('bob', 'bob-password'), 'user', ['pull', 'push']],
      ['Basic with a robot token', () => basic('ci-bot', robotToken), 'robot', ['pull', 'push']],
      ['Basic with a wrong password', () => basic('bob', 'nope-nope'), 'rejected', []],
      ['Basic admin with a user-looking password', () => basic('admin', 'bob-password'), 'rejected', []],
      ['Basic without a password', () => `Basic ${Buffer.from('ci').toString('base64')}`, 'rejected', []],
      ['a Bearer that is neither a JWT nor an admin token', () => 'Bearer gat_nope', 'rejected', []],
      ['an unknown scheme', () => 'Digest abc', 'rejected', []],
    ];
    for (const [what, header, outcome, actions] of cases) {
      it(what, async () => {
        if (outcome === 'rejected') {
          await assert.rejects(auth.authenticate(header()), (err: unknown) => err instanceof RegistryError && err.code === 'UNAUTHORIZED');
          return;
        }
        const identity = await auth.authenticate(header());
        assert.equal(identity.kind, outcome);
        assert.deepEqual(await auth.allowed(identity, 'team/app', ['pull', 'push', 'delete']), actions);
      });
    }
  });
});
