import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ALICE, BOB, READER, errorCode, pushBlob, sha256, startRegistry, streamBody, type TestRegistry } from './helpers.ts';

describe('registry API: blob uploads', function () {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => reg?.close());

  async function startSession(repo: string): Promise<string> {
    const res = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: ALICE });
    assert.equal(res.status, 202);
    const location = res.headers.get('location');
    assert.ok(location?.startsWith(`/v2/${repo}/blobs/uploads/`), `Location ${location}`);
    assert.equal(res.headers.get('range'), '0-0');
    assert.equal(res.headers.get('docker-upload-uuid'), location!.split('/').pop());
    return location!;
  }

  async function pulled(repo: string, digest: string): Promise<Buffer> {
    const res = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    return Buffer.from(await res.arrayBuffer());
  }

  it('accepts a monolithic push in one POST ?digest= (201, Location, Docker-Content-Digest)', async () => {
    const bytes = randomBytes(4096);
    const digest = sha256(bytes);
    const res = await fetch(`${reg.url}/v2/team/mono/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: ALICE, body: bytes });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), `/v2/team/mono/blobs/${digest}`);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.deepEqual(await pulled('team/mono', digest), bytes);
  });

  it('accepts POST then PUT ?digest= with the whole body', async () => {
    const bytes = randomBytes(1000);
    const digest = sha256(bytes);
    const location = await startSession('team/post-put');
    const res = await fetch(`${reg.url}${location}?digest=${digest}`, { method: 'PUT', headers: { ...ALICE, 'content-type': 'application/octet-stream' }, body: bytes });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.deepEqual(await pulled('team/post-put', digest), bytes);
  });

  it('accepts a streamed push (POST, PATCH without Content-Range, PUT ?digest=) and records who pushed', async () => {
    const parts = [randomBytes(70_000), randomBytes(30_000), randomBytes(5)];
    const bytes = Buffer.concat(parts);
    const digest = sha256(bytes);
    const location = await startSession('team/stream');
    const patch = await fetch(`${reg.url}${location}`, { method: 'PATCH', headers: ALICE, ...streamBody(...parts) });
    assert.equal(patch.status, 202);
    assert.equal(patch.headers.get('range'), `0-${bytes.length - 1}`);
    assert.equal(patch.headers.get('location'), location);
    const put = await fetch(`${reg.url}${location}?digest=${digest}`, { method: 'PUT', headers: ALICE });
    assert.equal(put.status, 201);
    assert.deepEqual(await pulled('team/stream', digest), bytes);
    const row = await reg.store.knex('registry_repository_blobs').where({ digest }).first('pushed_by');
    assert.equal(row.pushed_by, 'alice');
    // The session is gone once finished.
    assert.equal((await fetch(`${reg.url}${location}`, { headers: ALICE })).status, 404);
  });

  it('accepts a chunked push with Content-Range, answers 416 out of order and reports progress on GET', async () => {
    const a = randomBytes(100);
    const b = randomBytes(50);
    const c = randomBytes(10);
    const digest = sha256(Buffer.concat([a, b, c]));
    const location = await startSession('team/chunked');
    const first = await fetch(`${reg.url}${location}`, { method: 'PATCH', headers: { ...ALICE, 'content-range': '0-99', 'content-type': 'application/octet-stream' }, body: a });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), '0-99');

    const skipped = await fetch(`${reg.url}${location}`, { method: 'PATCH', headers: { ...ALICE, 'content-range': '120-169' }, body: b });
    assert.equal(skipped.status, 416);
    assert.equal(await errorCode(skipped), 'RANGE_INVALID');
    const repeated = await fetch(`${reg.url}${location}`, { method: 'PATCH', headers: { ...ALICE, 'content-range': '0-49' }, body: b });
    assert.equal(repeated.status, 416);

    const status = await fetch(`${reg.url}${location}`, { headers: ALICE });
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-99');
    assert.equal(status.headers.get('docker-upload-uuid'), location.split('/').pop());

    const second = await fetch(`${reg.url}${location}`, { method: 'PATCH', headers: { ...ALICE, 'content-range': '100-149' }, body: b });
    assert.equal(second.status, 202);
    assert.equal(second.headers.get('range'), '0-149');
    const put = await fetch(`${reg.url}${location}?digest=${digest}`, { method: 'PUT', headers: { ...ALICE, 'content-range': '150-159' }, body: c });
    assert.equal(put.status, 201);
    assert.deepEqual(await pulled('team/chunked', digest), Buffer.concat([a, b, c]));
  });

  it('refuses a chunk whose Content-Range and length disagree (SIZE_INVALID)', async () => {
    const location = await startSession('team/size');
    const res = await fetch(`${reg.url}${location}`, { method: 'PATCH', headers: { ...ALICE, 'content-range': '0-99' }, body: randomBytes(10) });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'SIZE_INVALID');
    assert.equal((await fetch(`${reg.url}${location}`, { headers: ALICE })).headers.get('range'), '0-0', 'nothing appended');
  });

  it('refuses a wrong digest with 400 DIGEST_INVALID and stores nothing', async () => {
    const bytes = randomBytes(500);
    const claimed = sha256('something else');
    const uploadsBefore = (await reg.blobs.listUploads()).map((u) => u.id);
    const res = await fetch(`${reg.url}/v2/team/bad/blobs/uploads/?digest=${claimed}`, { method: 'POST', headers: ALICE, body: bytes });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');

    const location = await startSession('team/bad');
    const put = await fetch(`${reg.url}${location}?digest=${claimed}`, { method: 'PUT', headers: ALICE, body: bytes });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'DIGEST_INVALID');

    assert.equal(await reg.blobs.has(claimed), false);
    assert.equal(await reg.blobs.has(sha256(bytes)), false);
    assert.deepEqual((await reg.blobs.listUploads()).map((u) => u.id), uploadsBefore, 'no temporary file left');
    assert.equal((await fetch(`${reg.url}/v2/team/bad/blobs/${sha256(bytes)}`)).status, 404);
    assert.equal((await fetch(`${reg.url}${location}`, { headers: ALICE })).status, 404, 'the failed session is gone');
  });

  it('refuses a malformed digest and a PUT without one', async () => {
    const location = await startSession('team/nodigest');
    const none = await fetch(`${reg.url}${location}`, { method: 'PUT', headers: ALICE, body: 'x' });
    assert.equal(none.status, 400);
    assert.equal(await errorCode(none), 'DIGEST_INVALID');
    const bad = await fetch(`${reg.url}/v2/team/nodigest/blobs/uploads/?digest=sha256:xyz`, { method: 'POST', headers: ALICE, body: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
  });

  it('cancels an upload session with DELETE (204), after which it is unknown', async () => {
    const location = await startSession('team/cancel');
    await fetch(`${reg.url}${location}`, { method: 'PATCH', headers: ALICE, body: randomBytes(10) });
    const res = await fetch(`${reg.url}${location}`, { method: 'DELETE', headers: ALICE });
    assert.equal(res.status, 204);
    const after = await fetch(`${reg.url}${location}`, { headers: ALICE });
    assert.equal(after.status, 404);
    assert.equal(await errorCode(after), 'BLOB_UPLOAD_UNKNOWN');
    const id = location.split('/').pop();
    assert.ok(!(await reg.blobs.listUploads()).some((u) => u.id === id), 'the upload file is removed');
  });

  it('does not let one repository continue another repository\'s session', async () => {
    const location = await startSession('team/owner');
    const id = location.split('/').pop();
    const res = await fetch(`${reg.url}/v2/team/thief/blobs/uploads/${id}`, { method: 'PATCH', headers: ALICE, body: 'x' });
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('mounts a blob from a readable repository (201) and falls back to a session otherwise (202)', async () => {
    const bytes = randomBytes(300);
    const digest = await pushBlob(reg.url, 'team/source', bytes);
    const mounted = await fetch(`${reg.url}/v2/team/target/blobs/uploads/?mount=${digest}&from=team/source`, { method: 'POST', headers: ALICE });
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers.get('location'), `/v2/team/target/blobs/${digest}`);
    assert.equal(mounted.headers.get('docker-content-digest'), digest);
    assert.deepEqual(await pulled('team/target', digest), bytes);

    // The source does not have it: an upload session instead.
    const other = sha256('not pushed anywhere');
    const fallback = await fetch(`${reg.url}/v2/team/target/blobs/uploads/?mount=${other}&from=team/source`, { method: 'POST', headers: ALICE });
    assert.equal(fallback.status, 202);
    assert.ok(fallback.headers.get('location')?.startsWith('/v2/team/target/blobs/uploads/'));
    assert.equal((await fetch(`${reg.url}/v2/team/target/blobs/${other}`)).status, 404);
  });

  it('falls back to a session when the caller may not pull the mount source', async () => {
    const bytes = randomBytes(64);
    const digest = await pushBlob(reg.url, 'private/source', bytes);
    // The source does not have the blob: no mount, a session.
    const res = await fetch(`${reg.url}/v2/team/elsewhere/blobs/uploads/?mount=${digest}&from=team/never`, { method: 'POST', headers: ALICE });
    assert.equal(res.status, 202);
    assert.equal(await reg.metadata.blobSize('team/elsewhere', digest), null);
    // The caller may not pull the source (the test policy hides private/* from bob): a session too.
    const hidden = await fetch(`${reg.url}/v2/team/elsewhere/blobs/uploads/?mount=${digest}&from=private/source`, { method: 'POST', headers: BOB });
    assert.equal(hidden.status, 202);
    assert.equal(await reg.metadata.blobSize('team/elsewhere', digest), null);
    // The same request by someone who may read it mounts.
    const allowed = await fetch(`${reg.url}/v2/team/elsewhere/blobs/uploads/?mount=${digest}&from=private/source`, { method: 'POST', headers: ALICE });
    assert.equal(allowed.status, 201);
    assert.deepEqual(await pulled('team/elsewhere', digest), bytes);
  });

  it('serves HEAD, GET with Range (206 + Content-Range) and deletes a blob from a repository', async () => {
    const bytes = randomBytes(1000);
    const digest = await pushBlob(reg.url, 'team/read', bytes);
    const head = await fetch(`${reg.url}/v2/team/read/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '1000');
    assert.equal(head.headers.get('docker-content-digest'), digest);

    const part = await fetch(`${reg.url}/v2/team/read/blobs/${digest}`, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 100-199/1000');
    assert.equal(part.headers.get('content-length'), '100');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200));

    const tail = await fetch(`${reg.url}/v2/team/read/blobs/${digest}`, { headers: { range: 'bytes=900-' } });
    assert.equal(tail.status, 206);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(900));

    const outside = await fetch(`${reg.url}/v2/team/read/blobs/${digest}`, { headers: { range: 'bytes=5000-6000' } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), 'bytes */1000');

    const denied = await fetch(`${reg.url}/v2/team/read/blobs/${digest}`, { method: 'DELETE', headers: READER });
    assert.equal(denied.status, 403);
    const del = await fetch(`${reg.url}/v2/team/read/blobs/${digest}`, { method: 'DELETE', headers: ALICE });
    assert.equal(del.status, 202);
    const gone = await fetch(`${reg.url}/v2/team/read/blobs/${digest}`);
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), 'BLOB_UNKNOWN');
    assert.equal((await fetch(`${reg.url}/v2/team/read/blobs/${digest}`, { method: 'HEAD' })).status, 404);
  });

  it('does not show a blob to a repository it was not pushed or mounted into', async () => {
    const digest = await pushBlob(reg.url, 'team/mine', randomBytes(20));
    const res = await fetch(`${reg.url}/v2/team/yours/blobs/${digest}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
  });
});
