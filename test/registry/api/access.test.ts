import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { ALICE, READER, WRONG, errorCode, memoryLogger, pushBlob, rawRequest, sha256, startRegistry, type ErrorBody, type TestRegistry } from './helpers.ts';

describe('registry API: base, authorization and bad input', function () {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => reg?.close());

  it('answers GET /v2/ with 200 {} to authenticated callers, 401 with the challenge to anonymous ones and wrong credentials', async () => {
    const anonymous = await fetch(`${reg.url}/v2/`);
    assert.equal(anonymous.status, 401, 'clients send credentials only after a challenge here');
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    for (const headers of [ALICE, READER]) {
      const res = await fetch(`${reg.url}/v2/`, { headers });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.deepEqual(await res.json(), {});
    }
    const wrong = await fetch(`${reg.url}/v2/`, { headers: WRONG });
    assert.equal(wrong.status, 401);
    assert.equal(await errorCode(wrong), 'UNAUTHORIZED');
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
  });

  it('answers an anonymous push with 401 UNAUTHORIZED and the challenge for the scope', async () => {
    const bytes = randomBytes(100);
    const res = await fetch(`${reg.url}/v2/team/anon/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', body: bytes });
    assert.equal(res.status, 401);
    assert.equal(await errorCode(res), 'UNAUTHORIZED');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="http://127.0.0.1/token",service="gantry-test",scope="repository:team/anon:pull,push"');
    assert.equal(await reg.blobs.has(sha256(bytes)), false);
    const manifest = await fetch(`${reg.url}/v2/team/anon/manifests/v1`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: '{}' });
    assert.equal(manifest.status, 401);
  });

  it('answers a push by a pull-only user with 403 DENIED, and lets them pull', async () => {
    const bytes = randomBytes(100);
    const res = await fetch(`${reg.url}/v2/team/ro/blobs/uploads/`, { method: 'POST', headers: READER });
    assert.equal(res.status, 403);
    assert.equal(await errorCode(res), 'DENIED');
    assert.equal(res.headers.get('www-authenticate'), null);
    const digest = await pushBlob(reg.url, 'team/ro', bytes);
    assert.equal((await fetch(`${reg.url}/v2/team/ro/blobs/${digest}`, { headers: READER })).status, 200);
    const del = await fetch(`${reg.url}/v2/team/ro/blobs/${digest}`, { method: 'DELETE', headers: READER });
    assert.equal(del.status, 403);
    const anonDel = await fetch(`${reg.url}/v2/team/ro/blobs/${digest}`, { method: 'DELETE' });
    assert.equal(anonDel.status, 401);
    assert.match(anonDel.headers.get('www-authenticate') ?? '', /scope="repository:team\/ro:delete"/);
    const patch = await fetch(`${reg.url}/v2/team/ro/blobs/uploads/abc`, { method: 'PATCH', headers: READER, body: 'x' });
    assert.equal(patch.status, 403);
  });

  it('refuses wrong credentials on a pull instead of treating the caller as anonymous', async () => {
    const digest = await pushBlob(reg.url, 'team/creds', randomBytes(10));
    const res = await fetch(`${reg.url}/v2/team/creds/blobs/${digest}`, { headers: WRONG });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="repository:team\/creds:pull"/);
  });

  it('refuses invalid names and traversal attempts with NAME_INVALID', async () => {
    for (const path of ['/v2/Team/App/tags/list', '/v2/team//app/tags/list', '/v2/-team/tags/list']) {
      const res = await fetch(`${reg.url}${path}`);
      assert.equal(res.status, 400, path);
      assert.equal(await errorCode(res), 'NAME_INVALID', path);
    }
    for (const path of ['/v2/../x/tags/list', '/v2/team/../../etc/blobs/uploads/', '/v2/%2e%2e/x/tags/list', '/v2/team/%2E%2E/x/manifests/latest', '/v2/team%2fx/tags/list']) {
      const method = path.endsWith('uploads/') ? 'POST' : 'GET';
      const res = await rawRequest(reg.url, method, path);
      assert.equal(res.status, 400, path);
      assert.equal((JSON.parse(res.body) as ErrorBody).errors[0]?.code, 'NAME_INVALID', path);
    }
  });

  it('answers unknown endpoints with 404 and unsupported methods with 405, in the spec error form', async () => {
    const unknown = await fetch(`${reg.url}/v2/team/app/nothing/here`);
    assert.equal(unknown.status, 404);
    assert.ok(((await unknown.json()) as ErrorBody).errors[0]?.code);
    const method = await fetch(`${reg.url}/v2/team/app/tags/list`, { method: 'DELETE', headers: ALICE });
    assert.equal(method.status, 405);
    assert.equal(await errorCode(method), 'UNSUPPORTED');
    assert.equal(method.headers.get('allow'), 'GET');
  });

  it('answers an unexpected failure with 500 and a generic message', async () => {
    const { logger, records } = memoryLogger();
    const broken = await startRegistry(undefined, logger);
    try {
      await broken.store.knex.destroy();
      const res = await fetch(`${broken.url}/v2/team/app/tags/list`);
      assert.equal(res.status, 500);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.errors[0]?.message, 'internal error; see the server log');
      assert.ok(!JSON.stringify(body).includes('knex'), 'no internals in the answer');
      assert.ok(records.some((r) => r.msg === 'registry request failed' && r.level === 50), 'the failure is logged');
    } finally {
      await broken.close().catch(() => undefined);
    }
  });
});

describe('registry API: storage reserves', function () {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ minFreeBytes: Number.MAX_SAFE_INTEGER, minFreeInodes: 0 });
  });
  after(async () => reg?.close());

  it('answers 507 DENIED saying which resource ran out, and writes nothing', async () => {
    const bytes = randomBytes(100);
    const mono = await fetch(`${reg.url}/v2/team/full/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', headers: ALICE, body: bytes });
    assert.equal(mono.status, 507);
    const body = (await mono.json()) as ErrorBody;
    assert.equal(body.errors[0]?.code, 'DENIED');
    assert.deepEqual((body.errors[0]?.detail as { resource: string }).resource, 'bytes');
    assert.match(body.errors[0]?.message ?? '', /free space/);

    const session = await fetch(`${reg.url}/v2/team/full/blobs/uploads/`, { method: 'POST', headers: ALICE });
    assert.equal(session.status, 507);
    const manifest = await fetch(`${reg.url}/v2/team/full/manifests/v1`, {
      method: 'PUT',
      headers: { ...ALICE, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(bytes), size: 100 }, layers: [] }),
    });
    assert.equal(manifest.status, 507);
    assert.equal(await reg.blobs.has(sha256(bytes)), false);
    assert.deepEqual(await reg.blobs.listUploads(), []);
    assert.deepEqual(await readdir(reg.blobs.root).catch(() => []), [], 'nothing written under the root');
    assert.equal(await reg.metadata.repositoryExists('team/full'), false);
  });
});

describe('registry API: inode reserve', function () {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ minFreeBytes: 0, minFreeInodes: Number.MAX_SAFE_INTEGER });
  });
  after(async () => reg?.close());

  it('answers 507 naming inodes when the inode reserve is not free (filesystems with an inode limit)', async function () {
    const capacity = await import('../../../src/registry/storage/index.ts').then((m) => m.readCapacity(reg.blobs.root));
    if (capacity.totalInodes === 0) this.skip(); // no inode limit here (btrfs): the reserve does not apply
    const res = await fetch(`${reg.url}/v2/team/inodes/blobs/uploads/`, { method: 'POST', headers: ALICE });
    assert.equal(res.status, 507);
    const body = (await res.json()) as ErrorBody;
    assert.equal((body.errors[0]?.detail as { resource: string }).resource, 'inodes');
  });
});
