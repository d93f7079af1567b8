// startServer's failures half-way: what it had started is stopped again (shared/closers.ts), so that a
// failed start leaves no listener, timer or store behind.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { loadServerConfig } from '../src/config/server-config.ts';
import { startServer } from '../src/main.ts';
import { tempDir } from './helpers/temp-dirs.ts';

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
});
