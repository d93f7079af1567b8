// What the built-in load balancer's tests share: real backends on loopback (HTTP servers that say who
// they are, TCP echo servers), free ports, an HTTP client, and builders for the load balancer's model.
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import type { BalanceAlgorithm, LbListener, LbModel, LbRoute, LbServer } from '../../../src/discovery/model.ts';

export const SILENT = pino({ level: 'silent' });
export const HOST = '127.0.0.1';

/** A port nothing listens on now (bound on port 0, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface HttpBackend {
  name: string;
  port: number;
  server: http.Server;
  /** Every request it received, in order. */
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

/**
 * An HTTP server answering `<name> <method> <path>` (and a POST's body back), or what `handler` does.
 * `port`: listen there (a port the test chose); else an ephemeral one.
 */
export async function httpBackend(name: string, handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void, port = 0): Promise<HttpBackend> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    if (handler) return handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.setHeader('x-backend', name);
      res.end(chunks.length > 0 ? Buffer.concat(chunks) : `${name} ${req.method} ${req.url}`);
    });
  });
  server.listen(port, HOST);
  await once(server, 'listening');
  const bound = (server.address() as net.AddressInfo).port;
  return {
    name,
    port: bound,
    server,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TcpBackend {
  name: string;
  port: number;
  server: net.Server;
  close(): Promise<void>;
}

/** A TCP server that greets with `<name>\n`, echoes what it gets and, when the client half-closes, says `bye\n` and closes. */
export async function tcpBackend(name: string): Promise<TcpBackend> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write(`${name}\n`);
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('end', () => socket.end('bye\n'));
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

export interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export function request(port: number, options: { path?: string; host?: string; method?: string; body?: string | Buffer; localAddress?: string; agent?: http.Agent | false; headers?: http.OutgoingHttpHeaders } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port, path: options.path ?? '/', method: options.method ?? 'GET', localAddress: options.localAddress, agent: options.agent ?? false, headers: { ...(options.host ? { host: options.host } : {}), ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A TCP client through the proxy: what it has read so far, and a wait for more. */
export class TcpClient {
  readonly socket: net.Socket;
  received = '';
  ended = false;
  /** Resolves once the other side ended (or the connection closed): the client sends on, being half-open. */
  gone: Promise<void>;
  closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect({ host: HOST, port, allowHalfOpen: true });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => (this.received += chunk));
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.gone = new Promise((resolve) => {
      this.socket.once('end', () => resolve());
      this.socket.once('close', () => resolve());
    });
  }

  /** Resolves once what was received contains `text`, or rejects when the connection closes first. */
  async waitFor(text: string): Promise<void> {
    await until(() => this.received.includes(text) || this.socket.closed);
    if (!this.received.includes(text)) throw new Error(`connection closed with ${JSON.stringify(this.received)}, before ${JSON.stringify(text)}`);
  }
}

/** Checks `condition` again on every turn of the event loop until it holds (bounded by the test's timeout). */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

export function lbServer(id: string, port: number, options: Partial<LbServer> = {}): LbServer {
  return { id, appId: '/app', address: HOST, port, weight: 1, draining: false, ...options };
}

export function lbRoute(name: string, servers: LbServer[], options: { hosts?: string[]; pathPrefix?: string | null; balance?: BalanceAlgorithm } = {}): LbRoute {
  return { name, appIds: ['/app'], hosts: options.hosts ?? [], pathPrefix: options.pathPrefix ?? null, balance: options.balance ?? 'roundrobin', servers };
}

export function lbModel(...listeners: LbListener[]): LbModel {
  return { version: 1, listeners: [...listeners].sort((a, b) => a.port - b.port) };
}
