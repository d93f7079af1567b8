// Gantry's real registry in this process, for when OCI_ROOT_URL names none: createRegistry over a store in
// a temp dir, with the real access policy (users, ACL, the Docker token flow) on a loopback port. The suite
// reaches it as any registry, through the OCI_* values this returns.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createRegistry } from '../../../src/registry/index.ts';
import { openStore } from '../../../src/store/index.ts';

export interface InProcessRegistry {
  /** OCI_ROOT_URL, OCI_USERNAME and OCI_PASSWORD pointing at this registry. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const CONFORMANCE_USER = 'conformance';

export async function startGantryRegistry(): Promise<InProcessRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-oci-conformance-'));
  const store = await openStore({ dataDir: dir });
  const registry = createRegistry({
    root: path.join(dir, 'registry'),
    knex: store.knex,
    isAdminToken: async () => false,
    reserves: { minFreeBytes: 0, minFreeInodes: 0 },
    logger: pino({ level: 'silent' }),
  });
  const password = randomBytes(18).toString('base64url');
  await registry.auth.users.add({ name: CONFORMANCE_USER, kind: 'user', password });
  // Authenticated users may pull and push by default, and nobody may delete; the content management
  // workflow deletes, as distribution's `delete: enabled: true` allows.
  await registry.auth.acl.set({ repositoryGlob: '**', subject: CONFORMANCE_USER, actions: ['pull', 'push', 'delete'] });

  const server = http.createServer(registry.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { OCI_ROOT_URL: `http://127.0.0.1:${port}`, OCI_USERNAME: CONFORMANCE_USER, OCI_PASSWORD: password },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
