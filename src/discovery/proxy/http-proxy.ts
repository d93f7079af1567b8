// HTTP mode: a request (or an Upgrade, such as a WebSocket) finds its route by Host and path and goes
// to a server of it; a request no route answers gets 503 naming what it asked for. Upgrades are passed
// as bytes once the request head is sent: the server's 101 and everything after go back untouched.
import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { BackendPool } from './backend-pool.ts';
import { clientAddressOf, connectToRoute, type ConnectOptions } from './connect.ts';
import { forwardRequest, reply, type ForwardOptions } from './http-forward.ts';
import { requestHeaders } from './http-headers.ts';
import { matchRoute, routingHost, routingPath } from './http-routing.ts';
import { splice } from './splice.ts';

function findRoute(routes: readonly BackendPool[], req: http.IncomingMessage): { pool: BackendPool } | { pool: undefined; reason: string } {
  const host = routingHost(req.headers.host);
  const path = routingPath(req.url);
  const pool = matchRoute(routes, host, path);
  if (pool !== undefined) return { pool };
  return { pool: undefined, reason: `no route for host ${host === '' ? '(none)' : host} and path ${path}` };
}

export function proxyHttpRequest(req: http.IncomingMessage, res: http.ServerResponse, routes: readonly BackendPool[], options: ForwardOptions): void {
  const found = findRoute(routes, req);
  if (found.pool === undefined) return reply(res, 503, found.reason);
  forwardRequest(req, res, found.pool, options);
}

export function proxyHttpUpgrade(req: http.IncomingMessage, client: Duplex, head: Buffer, routes: readonly BackendPool[], options: ConnectOptions & { port: number; logger: Logger }): void {
  const socket = client as net.Socket;
  socket.on('error', () => socket.destroy());
  const found = findRoute(routes, req);
  if (found.pool === undefined) return rawReply(socket, 503, found.reason);
  const pool = found.pool;
  const abort = new AbortController();
  const onClientClose = (): void => abort.abort();
  socket.once('close', onClientClose);
  const clientAddress = clientAddressOf(socket);
  void connectToRoute(pool, clientAddress, options, abort.signal).then((connected) => {
    socket.off('close', onClientClose);
    if (connected.socket === null) {
      if (!abort.signal.aborted) rawReply(socket, 503, connected.reason);
      return;
    }
    const { backend, socket: upstream } = connected;
    const headers = requestHeaders(req.rawHeaders, { clientAddress, port: options.port, proto: 'http' }, { upgrade: true });
    let requestHead = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i + 1 < headers.length; i += 2) requestHead += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(`${requestHead}\r\n`);
    if (head.length > 0) upstream.write(head);
    splice(socket, upstream, () => backend.closed());
  });
}

/** An answer written on a socket taken over from the HTTP server (an upgrade that found no server). */
function rawReply(socket: net.Socket, status: number, message: string): void {
  const body = `${message}\n`;
  const reason = status === 503 ? 'Service Unavailable' : 'Bad Gateway';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
