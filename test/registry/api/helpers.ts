// Helpers for the registry API tests: a registry on a loopback port over a real BlobStore (temp dir) and
// a real SQLite store, a small test authorizer, and fetch wrappers that speak as docker and skopeo do.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import path from 'node:path';
import type { RegistryAction, RegistryAuthorizer, RegistryIdentity, RegistryScope } from '../../../src/registry/auth/authorizer.ts';
import { ANONYMOUS } from '../../../src/registry/auth/authorizer.ts';
import { createRegistryApp, ManifestBytes } from '../../../src/registry/api/index.ts';
import { RegistryMetadata } from '../../../src/registry/metadata/registry-metadata.ts';
import { RegistryError } from '../../../src/registry/protocol/errors.ts';
import { BlobStore, type StorageReserves } from '../../../src/registry/storage/index.ts';
import { openStore, type Store } from '../../../src/store/index.ts';

/**
 * Anonymous may pull; alice:secret may do everything; reader:secret may pull; bob:secret may push
 * everywhere but pull nothing under private/ (to test mounts from unreadable sources); a wrong password
 * fails.
 */
export class TestAuthorizer implements RegistryAuthorizer {
  async authenticate(authorization: string | undefined): Promise<RegistryIdentity> {
    if (authorization === undefined) return ANONYMOUS;
    const match = /^Basic (.+)$/.exec(authorization);
    const [user, password] = match ? Buffer.from(match[1]!, 'base64').toString('utf8').split(':') : [];
    if ((user === 'alice' || user === 'reader' || user === 'bob') && password === 'secret') return { name: user, kind: 'user' };
    throw new RegistryError('UNAUTHORIZED', 'wrong user name or password');
  }

  async allowed(identity: RegistryIdentity, repository: string, actions: readonly RegistryAction[]): Promise<RegistryAction[]> {
    if (identity.name === 'alice') return [...actions];
    if (identity.name === 'bob') return actions.filter((a) => a === 'push' || (a === 'pull' && !repository.startsWith('private/')));
    return actions.filter((a) => a === 'pull');
  }

  challenge(scope?: RegistryScope | readonly RegistryScope[]): string {
    const base = 'Bearer realm="http://127.0.0.1/token",service="gantry-test"';
    const scopes: readonly RegistryScope[] = scope === undefined ? [] : 'repository' in scope ? [scope] : scope;
    return scopes.length > 0 ? `${base},scope="${scopes.map((s) => `repository:${s.repository}:${s.actions.join(',')}`).join(' ')}"` : base;
  }
}

export const ALICE = { authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` };
export const READER = { authorization: `Basic ${Buffer.from('reader:secret').toString('base64')}` };
export const BOB = { authorization: `Basic ${Buffer.from('bob:secret').toString('base64')}` };
export const WRONG = { authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}` };

export interface TestRegistry {
  url: string;
  blobs: BlobStore;
  metadata: RegistryMetadata;
  store: Store;
  close(): Promise<void>;
}

export async function startRegistry(reserves: StorageReserves = { minFreeBytes: 0, minFreeInodes: 0 }, logger?: Logger): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-registry-api-'));
  const store = await openStore({ dataDir: dir });
  const blobs = new BlobStore(path.join(dir, 'registry'));
  const metadata = new RegistryMetadata(store.knex);
  const app = createRegistryApp({
    blobs,
    metadata,
    manifestBytes: new ManifestBytes(blobs),
    authorizer: new TestAuthorizer(),
    reserves,
    clock: () => new Date('2026-11-24T12:00:00.000Z'),
    ...(logger ? { logger } : {}),
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    blobs,
    metadata,
    store,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface ErrorBody {
  errors: Array<{ code: string; message: string; detail?: unknown }>;
}

/** The first error code of a spec error answer. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as ErrorBody;
  return body.errors[0]?.code;
}

/** A streamed request body with no Content-Length (chunked transfer encoding), as docker sends. */
export function streamBody(...parts: Buffer[]): { body: ReadableStream<Uint8Array>; duplex: 'half' } {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new Uint8Array(part));
      controller.close();
    },
  });
  return { body, duplex: 'half' };
}

/** Pushes a blob monolithically (POST ?digest=) as alice. */
export async function pushBlob(url: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { ...ALICE, 'content-type': 'application/octet-stream' }, body: bytes });
  if (res.status !== 201) throw new Error(`push of ${digest} answered ${res.status}: ${await res.text()}`);
  return digest;
}

/** A request with the path sent exactly as written (fetch would normalise `..` and `%2e%2e`). */
export function rawRequest(url: string, method: string, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v2/`, { method, path: rawPath, headers: ALICE }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A pino logger that keeps its records in memory. */
export function memoryLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}
