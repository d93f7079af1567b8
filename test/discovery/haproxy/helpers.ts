// What the HAProxy data plane's tests share: the real haproxy (required in CI with
// GANTRY_REQUIRE_HAPROXY=1), backends that say who they are (HTTP and TCP), models built from them, and
// clients that record every answer.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { LbListener, LbModel, LbRoute, LbServer } from '../../../src/discovery/model.ts';

export const HAPROXY = '/usr/sbin/haproxy';

/** Skips the suite without haproxy, unless CI requires it: then it fails. */
export function requireHaproxy(context: Mocha.Context): void {
  if (existsSync(HAPROXY)) return;
  if (process.env.GANTRY_REQUIRE_HAPROXY === '1') throw new Error('GANTRY_REQUIRE_HAPROXY=1 but haproxy is not installed');
  context.skip();
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Backend {
  name: string;
  port: number;
  /** Requests (HTTP) or connections (TCP) it took. */
  hits: number;
  close(): Promise<void>;
}

export interface HttpBackend extends Backend {
  /** Requests to `/hold` wait until this is called. */
  release(): void;
  /** Resolves when a `/hold` request has arrived. */
  held(): Promise<void>;
}

/** An HTTP server answering `<name>` (200) to every request; `/hold` answers only when released. */
export async function httpBackend(name: string): Promise<HttpBackend> {
  let releases: Array<() => void> = [];
  let released = false;
  let heldWaiters: Array<() => void> = [];
  let heldCount = 0;
  const backend: HttpBackend = {
    name,
    port: 0,
    hits: 0,
    release() {
      released = true;
      for (const go of releases.splice(0)) go();
    },
    held(): Promise<void> {
      if (heldCount > 0) return Promise.resolve();
      return new Promise<void>((resolve) => heldWaiters.push(resolve));
    },
    close: async () => undefined,
  };
  const server = http.createServer((request, response) => {
    backend.hits += 1;
    const answer = (): void => void response.end(name);
    if (request.url === '/hold' && !released) {
      heldCount += 1;
      for (const wake of heldWaiters.splice(0)) wake();
      releases.push(answer);
    } else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as net.AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      releases = [];
      heldWaiters = [];
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return backend;
}

/** A TCP server that greets each connection with `<name>\n` and echoes every line as `<name>:<line>`. */
export async function tcpBackend(name: string): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const backend: Backend = { name, port: 0, hits: 0, close: async () => undefined };
  const server = net.createServer((socket) => {
    backend.hits += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(`${name}\n`);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\n')) !== -1) {
        socket.write(`${name}:${buffered.slice(0, end)}\n`);
        buffered = buffered.slice(end + 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as net.AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return backend;
}

export function server(backend: Backend, options: Partial<LbServer> = {}): LbServer {
  return { id: `${backend.name}:0`, appId: '/app', address: '127.0.0.1', port: backend.port, weight: 1, draining: false, ...options };
}

export function route(name: string, servers: LbServer[], options: Partial<LbRoute> = {}): LbRoute {
  return { name, appIds: ['/app'], hosts: [], pathPrefix: null, balance: 'roundrobin', servers, ...options };
}

export function listener(port: number, mode: 'tcp' | 'http', routes: LbRoute[]): LbListener {
  return { port, mode, routes };
}

export function model(version: number, listeners: LbListener[]): LbModel {
  return { version, listeners: [...listeners].sort((a, b) => a.port - b.port) };
}

/** One GET on a connection of its own: status and body. */
export function get(port: number, path = '/', host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false, headers: host === undefined ? {} : { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.setTimeout(10_000, () => request.destroy(new Error('no answer in 10 s')));
    request.on('error', reject);
  });
}

/** The bodies of `count` GETs, one connection each, in order. */
export async function bodies(port: number, count: number, path = '/'): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await get(port, path);
    assert.equal(answer.status, 200, `request ${i}: ${answer.status} ${answer.body}`);
    seen.push(answer.body);
  }
  return seen;
}

/** A TCP client through the load balancer: the greeting tells which backend it reached. */
export interface TcpClient {
  greeting: string;
  /** Sends a line, resolves with the answer line. */
  say(line: string): Promise<string>;
  close(): void;
}

export function tcpConnect(port: number): Promise<TcpClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffered = '';
    const waiting: Array<(line: string) => void> = [];
    const closedWaiters: Array<(err: Error) => void> = [];
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        waiting.shift()?.(line);
      }
    });
    socket.on('error', (err) => {
      for (const fail of closedWaiters.splice(0)) fail(err);
      reject(err);
    });
    socket.on('close', () => {
      for (const fail of closedWaiters.splice(0)) fail(new Error('connection closed'));
      reject(new Error('connection closed before its greeting'));
    });
    const next = (): Promise<string> =>
      new Promise((ok, fail) => {
        waiting.push(ok);
        closedWaiters.push(fail);
      });
    next().then((greeting) =>
      resolve({
        greeting,
        say(line: string) {
          const answer = next();
          socket.write(`${line}\n`);
          return answer;
        },
        close: () => socket.destroy(),
      }),
      reject,
    );
  });
}

export interface LoadResult {
  total: number;
  /** Every answer that was not a 2xx, and every error, with what it was. */
  failures: string[];
}

/**
 * `clients` loops of GET (one request at a time each) until stop(), on keep-alive connections or on a
 * new connection each; `answered(n)` resolves once n more requests in all have been answered.
 */
export function steadyLoad(port: number, clients = 4, keepAlive = true): { stop(): Promise<LoadResult>; answered(count: number): Promise<void>; result: LoadResult } {
  const agent = new http.Agent({ keepAlive, maxSockets: clients });
  const result: LoadResult = { total: 0, failures: [] };
  let waiters: Array<{ at: number; resolve: () => void }> = [];
  let stopping = false;
  const done = (failure: string | null): void => {
    result.total += 1;
    if (failure !== null) result.failures.push(failure);
    waiters = waiters.filter((waiter) => (result.total >= waiter.at ? (waiter.resolve(), false) : true));
  };
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          done(status >= 200 && status < 300 ? null : `status ${status}`);
          resolve();
        });
        response.on('error', (err) => {
          done(`response: ${err.message}`);
          resolve();
        });
      });
      request.setTimeout(10_000, () => request.destroy(new Error('no answer in 10 s')));
      request.on('error', (err) => {
        done(`request: ${err.message}`);
        resolve();
      });
    });
  const loops = Array.from({ length: clients }, async () => {
    while (!stopping) await once();
  });
  return {
    result,
    answered: (count) => new Promise<void>((resolve) => waiters.push({ at: result.total + count, resolve })),
    async stop() {
      stopping = true;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
