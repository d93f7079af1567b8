// More than one connection accepted per turn of the event loop on a listening socket.
//
// Why: since libuv 1.45 (Node 20 has 1.46) a listening handle accepts a single connection each time
// the loop polls, to share connections fairly between processes listening on one port. Gantry's
// platform port is served by one process, so when many connections arrive at once — GitHub opens a
// connection per webhook delivery, and a push to many repositories or a redelivery of hundreds comes
// as a burst — they are accepted one per turn, and every turn also serves the connections already
// open: the last of 50 simultaneous connections waited 30–80 ms before its request was even read
// (bench/README.md, CI).
//
// How: more handles on the same listening socket. Each is a duplicate file descriptor, so epoll
// reports each as readable and each accepts one connection per turn. Node 20 has no `dup()` and no
// SO_REUSEPORT listener (`reusePort` came in 22.12), but the IPC channel to a child process duplicates
// a descriptor when it passes a handle (SCM_RIGHTS) — the way the cluster module shares a port. A
// short-lived helper is handed the socket and hands it back `count` times; the copies listen here and
// give their connections to the server as its own. The helper never listens itself (it receives the
// raw handle, not a net.Server), so it cannot take a connection.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Logger } from 'pino';

export interface ExtraAcceptors {
  /** How many copies listen beside the server's own handle, once made (0 if they could not be, or close came first). */
  readonly ready: Promise<number>;
  /**
   * Stops the copies listening, at once, and a helper still at work (the socket closes once the
   * server's own handle closes too). Their connections are the server's: they end with it
   * (closeAllConnections), not here. Shutdown never waits for the helper.
   */
  close(): void;
}

const HELPER_TIMEOUT_MS = 10_000;

// Runs in the helper (`node -e`): sends the handle it is given back `count` times, then exits. (A
// 'message' listener keeps the IPC channel referenced while the handles wait for their acks.)
const HELPER_SOURCE = `
process.on('message', (message, handle) => {
  if (!handle) return;
  let sent = 0;
  const sendNext = () => {
    if (sent === message.count) { handle.close(); process.disconnect(); return; }
    sent++;
    process.send({ copy: sent }, handle, { keepOpen: true }, (err) => err ? process.exit(1) : sendNext());
  };
  sendNext();
});
`;

/**
 * Starts making `count` more handles on `server`'s listening socket, whose connections `server`
 * serves as its own; the server keeps serving on its own handle meanwhile. Failing to make them is
 * not fatal: the server keeps its one handle, with a warning.
 */
export function addExtraAcceptors(server: net.Server, count: number, logger: Logger, execPath = process.execPath): ExtraAcceptors {
  const copies: net.Server[] = [];
  let closed = false;
  let helper: ChildProcess | undefined;
  const make = async (): Promise<number> => {
    const own = (server as unknown as { _handle?: unknown })._handle;
    if (count <= 0 || !server.listening || !own) return 0;
    try {
      for (const handle of await duplicates(own, count, execPath, (child) => (helper = child))) {
        if (closed) {
          (handle as { close(): void }).close();
          continue;
        }
        const copy = net.createServer((socket) => server.emit('connection', socket));
        // A raw handle from another process listens again here (listen(2) on a listening socket
        // only sets its backlog), so the copy's connections come from the same queue as the server's.
        copy.listen(handle as net.ListenOptions);
        copies.push(copy);
      }
    } catch (err) {
      closeAll(copies);
      if (!closed) logger.warn({ err: (err as Error).message }, 'one connection accepted per turn of the event loop: the listening socket could not be shared');
      return 0;
    } finally {
      helper = undefined;
    }
    return copies.length;
  };
  return {
    ready: make(),
    close() {
      closed = true;
      helper?.kill('SIGKILL');
      closeAll(copies);
    },
  };
}

/** `count` duplicates of the native handle `own`, received from a helper process. */
function duplicates(own: unknown, count: number, execPath: string, started: (helper: ChildProcess) => void): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const received: unknown[] = [];
    // No environment: the helper needs none, and the server's holds its secrets (and NODE_OPTIONS).
    const helper = spawn(execPath, ['-e', HELPER_SOURCE], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: {} });
    started(helper);
    let stderr = '';
    helper.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    const timer = setTimeout(() => {
      helper.kill('SIGKILL');
      finish(new Error(`the helper did not answer in ${HELPER_TIMEOUT_MS / 1000} s`));
    }, HELPER_TIMEOUT_MS);
    let settled = false;
    /** Settles once: with the copies, or with why there are none (closing any that came). */
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!err) return resolve(received);
      for (const handle of received) (handle as { close(): void }).close();
      reject(err);
    };
    helper.on('error', (err) => finish(err));
    helper.on('message', (_message, handle) => {
      if (handle) received.push(handle);
    });
    // 'close', not 'exit': it comes once the IPC channel is closed too, after every message on it.
    helper.on('close', (code, signal) => {
      const missing = received.length !== count;
      finish(missing ? new Error(`the helper exited (${signal ?? code}) after ${received.length} of ${count} copies${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`) : undefined);
    });
    // keepOpen: without it Node closes the sender's handle — the server's own — once it is passed.
    helper.send({ count }, own as net.Server, { keepOpen: true }, (err) => {
      if (err) finish(err);
    });
  });
}

/**
 * Closes the copies' listening handles (libuv closes the descriptor right away). Not awaited: a
 * net.Server's close callback waits for the connections it accepted to end, and those are the
 * server's, often kept alive or following a log.
 */
function closeAll(servers: net.Server[]): void {
  for (const copy of servers) if (copy.listening) copy.close();
}
