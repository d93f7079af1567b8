// startServer's failures half-way: what it had started is stopped again (shared/closers.ts), so that a
// failed start leaves no listener, timer or store behind. And its stop: a request still being handled
// (an agent's long poll, which reads the store once its connection closes) finishes before the store
// closes, so a clean stop logs no error.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { loadServerConfig } from '../src/config/server-config.ts';
import { startServer } from '../src/main.ts';
import { tempDir } from './helpers/temp-dirs.ts';
import { JOIN_TOKEN } from './helpers/processes.ts';

async function listenOn(port: number): Promise<http.Server> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

const close = (server: http.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe('startServer', function () {
  this.timeout(30_000);

  it('stops what it started when the registry cannot listen, and says why in one sentence', async () => {
    const taken = await listenOn(0);
    const takenPort = (taken.address() as AddressInfo).port;
    const probe = await listenOn(0);
    const platformPort = (probe.address() as AddressInfo).port;
    await close(probe);
    try {
      const config = loadServerConfig({
        env: {},
        flags: {
          dataDir: path.join(tempDir('main'), 'data'),
          listen: `127.0.0.1:${platformPort}`,
          registryListen: `127.0.0.1:${takenPort}`,
          localAgent: false,
          logLevel: 'silent',
        },
      });
      await assert.rejects(startServer(config, pino({ level: 'silent' })), (err: Error) => err.message === `cannot listen on 127.0.0.1:${takenPort}: the address is in use`);
      // The platform API had listened: its port is free again.
      await close(await listenOn(platformPort));
    } finally {
      await close(taken);
    }
  });

  it('lets a long poll still at work finish before the store closes: a stop logs no error', async () => {
    const lines: Array<{ level: number; msg: string; err?: { message?: string } }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const config = loadServerConfig({
      env: { GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      flags: { dataDir: path.join(tempDir('main-stop'), 'data'), listen: '127.0.0.1:0', registryListen: '127.0.0.1:0', discovery: { dnsListen: '127.0.0.1:0' }, localAgent: false },
    });
    const server = await startServer(config, logger);
    const post = (route: string, token: string, body: unknown) =>
      fetch(server.url + route, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const registered = (await (await post('/api/v1/agent/register', JOIN_TOKEN, {
      hostname: 'poller', resources: { scalars: { cpus: 1, mem: 128 }, ranges: {}, sets: {} }, attributes: {}, drivers: ['exec'], taskUsers: [], runningTaskIds: [],
    })).json()) as { agentId: string; agentToken: string };
    // A poll that waits for orders: the stop closes its connection, and its handler then reads the store.
    const polling = post(`/api/v1/agent/${registered.agentId}/poll`, registered.agentToken, { runningTaskIds: [], waitMs: 20_000 }).catch(() => 'connection closed');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the poll is in the master's wait
    await server.close();
    assert.equal(await polling, 'connection closed');
    const errors = lines.filter((line) => line.level >= 50);
    assert.deepEqual(errors.map((line) => `${line.msg}: ${line.err?.message ?? ''}`), [], 'nothing failed while stopping');
  });
});
