// HTTP mode: one request sent to a server of its route through the server's keep-alive agent, and the
// response streamed back. A request that never reached a server is never lost: it goes to another server
// (up to `retries` more) when the connection failed before it was established, or when a reused
// keep-alive connection was reset before any response and sending it again is safe (an idempotent method,
// or no body). Otherwise the client gets 502, or 503 when no server could be reached at all.
import http from 'node:http';
import type { Logger } from 'pino';
import type { TimerHandle, Timers } from '../../shared/timers.ts';
import type { Backend } from './backend.ts';
import type { BackendPool } from './backend-pool.ts';
import { CONNECT_TIMEOUT, clientAddressOf, failureCode } from './connect.ts';
import { hasBody, isIdempotent, requestHeaders, responseHeaders } from './http-headers.ts';
import { ReplayableBody } from './request-body.ts';

/** The most of an idempotent request's body kept for sending it again. */
const REPLAY_LIMIT_BYTES = 1024 * 1024;

/** The answer when every attempt failed: 503 when no server could be reached, 502 when one failed the request. */
interface Failure {
  status: 502 | 503;
  message: string;
}

export interface ForwardOptions {
  retries: number;
  connectTimeoutMs: number;
  timers: Timers;
  logger: Logger;
  /** The listener's port (X-Forwarded-Port). */
  port: number;
}

/** A short text answer from the proxy itself. */
export function reply(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, pool: BackendPool, options: ForwardOptions): void {
  const clientAddress = clientAddressOf(req.socket);
  const headers = requestHeaders(req.rawHeaders, { clientAddress, port: options.port, proto: 'http' });
  const withBody = hasBody(req.headers);
  const resendable = !withBody || isIdempotent(req.method);
  const body = new ReplayableBody(req, withBody && resendable ? REPLAY_LIMIT_BYTES : 0);
  /** Servers whose connection failed: not tried again for this request. */
  const refused = new Set<Backend>();
  let attempts = 0;
  let clientGone = false;
  let current: http.ClientRequest | null = null;
  req.on('error', () => undefined);
  res.once('close', () => {
    clientGone = true;
    if (!res.writableFinished) current?.destroy();
  });

  const nextServer = (avoid: Backend | null): Backend | undefined => {
    if (avoid === null) return pool.pick(clientAddress, refused);
    return pool.pick(clientAddress, new Set([...refused, avoid])) ?? pool.pick(clientAddress, refused);
  };

  /**
   * `failure`: how to answer if no attempt is left (null: none was made). `avoid`: the server whose
   * keep-alive connection was just reset, taken again only when it is the only one left.
   */
  const attempt = (failure: Failure | null, avoid: Backend | null): void => {
    if (clientGone) return;
    const backend = attempts > options.retries ? undefined : nextServer(avoid);
    if (backend === undefined) {
      if (failure === null) return reply(res, 503, `no healthy backend for route ${pool.name}`);
      return reply(res, failure.status, failure.message);
    }
    attempts++;
    backend.opened();
    let released = false;
    const release = (): void => {
      if (!released) {
        released = true;
        backend.closed();
      }
    };
    let connected = false;
    let responded = false;
    let timer: TimerHandle | undefined;
    const agent = backend.httpAgent();
    const upstream = http.request({ host: backend.address, port: backend.port, method: req.method, path: req.url, headers, agent, setHost: false });
    current = upstream;
    const onConnected = (): void => {
      options.timers.clearTimeout(timer);
      connected = true;
      if (!upstream.reusedSocket) pool.connected(backend);
      body.sendTo(upstream);
    };
    upstream.once('socket', (socket) => {
      if (!socket.connecting) return onConnected();
      timer = options.timers.setTimeout(() => upstream.destroy(Object.assign(new Error(CONNECT_TIMEOUT), { code: CONNECT_TIMEOUT })), options.connectTimeoutMs);
      socket.once('connect', onConnected);
    });
    upstream.once('response', (upstreamRes) => {
      responded = true;
      body.commit();
      if (clientGone) {
        upstreamRes.destroy();
        return release();
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders(upstreamRes.rawHeaders));
      upstreamRes.pipe(res);
      upstreamRes.once('error', () => res.destroy());
      upstreamRes.once('close', () => {
        if (!upstreamRes.complete) res.destroy();
        release();
      });
    });
    upstream.on('error', (err) => {
      options.timers.clearTimeout(timer);
      release();
      if (responded || clientGone) return;
      body.detach();
      const code = failureCode(err);
      const address = `${backend.address}:${backend.port}`;
      if (!connected) {
        refused.add(backend);
        pool.connectFailed(backend, code);
        return attempt({ status: 503, message: `no backend of route ${pool.name} accepted the connection (${code})` }, null);
      }
      const failed = `backend ${backend.id} at ${address} of route ${pool.name} failed: ${code}`;
      if (upstream.reusedSocket && resendable && body.replayable) {
        // With LIFO reuse the socket reset was the most recently used one: the other idle ones are older still.
        agent.dropIdle();
        options.logger.debug({ route: pool.name, server: backend.id, address, error: code }, 'load balancer: keep-alive connection reset, request sent again');
        return attempt({ status: 502, message: failed }, backend);
      }
      reply(res, 502, failed);
    });
  };
  attempt(null, null);
}
