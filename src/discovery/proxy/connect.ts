// Connecting to one of a route's servers for a byte stream (TCP mode, HTTP upgrades). A connection that
// fails before it is established (refused, timed out, unreachable) reached no one, so the next server is
// tried, up to `retries` more; each failure counts towards the server's passive ejection. The caller's
// client is not read meanwhile: what it sends waits in its socket until the streams are spliced.
import net from 'node:net';
import type { Timers } from '../../shared/timers.ts';
import type { Backend } from './backend.ts';
import type { BackendPool } from './backend-pool.ts';

export interface ConnectOptions {
  retries: number;
  connectTimeoutMs: number;
  timers: Timers;
}

/** The code a failed connection is reported by: ECONNREFUSED, EHOSTUNREACH, `connect timeout`, ... */
export const CONNECT_TIMEOUT = 'connect timeout';

export function failureCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

/** The client's IP as the algorithms see it (IPv4 clients of a dual-stack socket without `::ffff:`). */
export function clientAddressOf(socket: net.Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

export type Connected = { socket: net.Socket; backend: Backend } | { socket: null; backend: null; reason: string };

/** A connection to a server of `pool`; the server's connection count includes it until the caller releases it. */
export async function connectToRoute(pool: BackendPool, clientAddress: string, options: ConnectOptions, signal: AbortSignal): Promise<Connected> {
  const tried = new Set<Backend>();
  let lastError: string | null = null;
  while (tried.size <= options.retries && !signal.aborted) {
    const backend = pool.pick(clientAddress, tried);
    if (backend === undefined) break;
    tried.add(backend);
    backend.opened();
    const outcome = await connectOnce(backend, options, signal);
    if (outcome.socket !== null) {
      pool.connected(backend);
      return { socket: outcome.socket, backend };
    }
    backend.closed();
    if (signal.aborted) break;
    pool.connectFailed(backend, outcome.error);
    lastError = outcome.error;
  }
  if (signal.aborted) return { socket: null, backend: null, reason: 'the client went away' };
  if (lastError === null) return { socket: null, backend: null, reason: `no healthy backend for route ${pool.name}` };
  return { socket: null, backend: null, reason: `no backend of route ${pool.name} accepted the connection (${lastError})` };
}

function connectOnce(backend: Backend, options: ConnectOptions, signal: AbortSignal): Promise<{ socket: net.Socket } | { socket: null; error: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: backend.address, port: backend.port, allowHalfOpen: true, noDelay: true });
    let settled = false;
    const settle = (error: string | null): void => {
      if (settled) return;
      settled = true;
      options.timers.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error === null) return resolve({ socket });
      socket.destroy();
      resolve({ socket: null, error });
    };
    const onAbort = (): void => settle('aborted');
    const timer = options.timers.setTimeout(() => settle(CONNECT_TIMEOUT), options.connectTimeoutMs);
    // Stays on: an error between here and the caller's splice must not go unhandled (splice sees the socket destroyed).
    socket.on('error', (err) => settle(failureCode(err)));
    socket.once('connect', () => settle(null));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
