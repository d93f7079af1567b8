// kill -9 of the whole `gantry server` while a client streams a blob into the registry, then a restart
// on the same data directory: the half-sent blob is visible nowhere (HEAD, GET, the blob files), the
// upload session survived and resumes from the size it reports, and a fresh upload works too.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

const MiB = 1024 * 1024;
const ADMIN = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;

describe('registry: kill -9 of the server during an upload', function () {
  this.timeout(90_000);
  const dataDir = path.join(tempDir('registry-crash'), 'server');
  const blob = randomBytes(6 * MiB);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  let server: (Started & { match: RegExpMatchArray }) | undefined;

  const start = () =>
    startGantry(
      ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on (http:\/\/\S+)/,
    );
  const registry = () => server!.match[1]!;
  const blobFiles = () => readdirSync(path.join(dataDir, 'registry', 'blobs', 'sha256')).flatMap((d) => readdirSync(path.join(dataDir, 'registry', 'blobs', 'sha256', d)));
  const uploadFiles = () => readdirSync(path.join(dataDir, 'registry', 'uploads')).map((f) => statSync(path.join(dataDir, 'registry', 'uploads', f)).size);

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('shows no partial blob after the restart and lets the client resume or start over', async () => {
    server = await start();
    const opened = await fetch(`${registry()}/v2/crash/app/blobs/uploads/`, { method: 'POST', headers: { authorization: ADMIN } });
    assert.equal(opened.status, 202);
    const location = new URL(opened.headers.get('location')!, registry()).pathname;

    // First chunk: acknowledged by the server before the crash.
    const first = await fetch(registry() + location, {
      method: 'PATCH',
      headers: { authorization: ADMIN, 'content-type': 'application/octet-stream', 'content-range': `0-${MiB - 1}` },
      body: blob.subarray(0, MiB),
    });
    assert.equal(first.status, 202);

    // Second chunk: the client sends 2 MiB of it and the server is killed mid-request.
    const inFlight = http.request(registry() + location, {
      method: 'PATCH',
      headers: { authorization: ADMIN, 'content-type': 'application/octet-stream' },
    });
    inFlight.on('error', () => {}); // the connection dies with the server
    inFlight.write(blob.subarray(MiB, 3 * MiB));
    await waitFor('the in-flight bytes on disk', async () => uploadFiles().some((size) => size > MiB));
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server!.child.once('exit', resolve));
    inFlight.destroy();

    server = await start();
    assert.deepEqual(blobFiles(), [], 'no blob file exists');
    const head = await fetch(`${registry()}/v2/crash/app/blobs/${digest}`, { method: 'HEAD', headers: { authorization: ADMIN } });
    assert.equal(head.status, 404, 'HEAD does not report the half-sent blob');

    // Resume: ask the session how far it got, send the rest, close with the digest.
    const status = await fetch(registry() + location, { headers: { authorization: ADMIN } });
    assert.equal(status.status, 204);
    const range = /^0-(\d+)$/.exec(status.headers.get('range') ?? '');
    assert.ok(range, `Range header: ${status.headers.get('range')}`);
    const offset = Number(range[1]) + 1;
    assert.ok(offset >= MiB && offset <= 3 * MiB, `resumes after the acknowledged chunk, at ${offset}`);
    const rest = await fetch(registry() + location, {
      method: 'PATCH',
      headers: { authorization: ADMIN, 'content-type': 'application/octet-stream', 'content-range': `${offset}-${blob.length - 1}` },
      body: blob.subarray(offset),
    });
    assert.equal(rest.status, 202, await rest.text());
    const closed = await fetch(`${registry() + location}?digest=${digest}`, { method: 'PUT', headers: { authorization: ADMIN } });
    assert.equal(closed.status, 201, await closed.text());
    const pulled = Buffer.from(await (await fetch(`${registry()}/v2/crash/app/blobs/${digest}`)).arrayBuffer());
    assert.ok(pulled.equals(blob), 'the resumed blob is byte-exact');

    // Starting over works too: a monolithic upload of the same content into another repository.
    const again = await fetch(`${registry()}/v2/crash/other/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { authorization: ADMIN, 'content-type': 'application/octet-stream' },
      body: blob,
    });
    assert.equal(again.status, 201);
    assert.equal(blobFiles().length, 1, 'one file for the blob, whichever way it came');
  });
});
