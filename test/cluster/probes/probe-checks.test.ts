// The checks themselves against real servers on loopback: an HTTP GET passes on 2xx and 3xx or on the
// statuses the probe names; an HTTPS GET does the same over TLS without checking the task's certificate
// (a self-signed one, as tasks often have); each failure says what answered.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROBE_CHECKS } from '../../../src/cluster/agent/probes/probe-checks.ts';
import { probeSpec, type ProbeSpec } from '../../../src/cluster/probes/probe-spec.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

/** Answers with the status in the path: GET /204 → 204. */
const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  res.writeHead(Number(req.url!.slice(1)) || 200);
  res.end('body');
};

function spec(input: Parameters<typeof probeSpec>[1]): ProbeSpec {
  const made = probeSpec('readiness', input, 1);
  if (Array.isArray(made)) throw new Error(made.join('; '));
  return made;
}

describe('probe checks', () => {
  const servers: Array<http.Server | https.Server> = [];
  let httpPort = 0;
  let httpsPort = 0;

  before(async () => {
    const dir = tempDir('probe-tls');
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=task.local'], { stdio: 'ignore' });
    const plain = http.createServer(answer);
    const tls = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, answer);
    for (const server of [plain, tls]) {
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    httpPort = (plain.address() as AddressInfo).port;
    httpsPort = (tls.address() as AddressInfo).port;
  });
  after(() => servers.forEach((s) => s.close()));

  const check = (probe: ProbeSpec, port: number) => PROBE_CHECKS[probe.kind](probe, { host: '127.0.0.1', ports: [port] }, AbortSignal.timeout(2000));

  it('http passes on 2xx and 3xx, fails on the rest saying what answered', async () => {
    assert.equal(await check(spec({ kind: 'http', path: '/204' }), httpPort), true);
    assert.equal(await check(spec({ kind: 'http', path: '/302' }), httpPort), true);
    assert.equal(await check(spec({ kind: 'http', path: '/503' }), httpPort), `GET http://127.0.0.1:${httpPort}/503 answered 503`);
  });

  it('passes only on the statuses it names (Marathon\'s httpStatusCodesForReady)', async () => {
    const onlyOk = { kind: 'http' as const, statuses: [200] };
    assert.equal(await check(spec({ ...onlyOk, path: '/200' }), httpPort), true);
    assert.equal(await check(spec({ ...onlyOk, path: '/204' }), httpPort), `GET http://127.0.0.1:${httpPort}/204 answered 204`);
    assert.equal(await check(spec({ kind: 'http', path: '/503', statuses: [503] }), httpPort), true);
  });

  it('https passes against a self-signed certificate; plain http on a TLS port fails', async () => {
    assert.equal(await check(spec({ kind: 'https', path: '/200' }), httpsPort), true);
    assert.equal(await check(spec({ kind: 'https', path: '/500' }), httpsPort), `GET https://127.0.0.1:${httpsPort}/500 answered 500`);
    assert.notEqual(await check(spec({ kind: 'http', path: '/200' }), httpsPort), true);
  });

  it('a closed port fails naming the error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    assert.equal(await check(spec({ kind: 'http' }), port), `GET http://127.0.0.1:${port}/: ECONNREFUSED`);
  });
});
