// The keep-alive agent of one server (HTTP mode). A server being drained must get no new request, and
// its idle keep-alive sockets must not linger: drain() closes the idle ones now, and every socket that
// becomes idle afterwards is closed instead of kept. Requests in flight finish on their sockets.
import http from 'node:http';
import type { Duplex } from 'node:stream';

/** Idle keep-alive sockets close after this (or sooner when the server's Keep-Alive hint says so). */
const IDLE_SOCKET_MS = 15_000;

export class DrainableAgent extends http.Agent {
  private draining = false;

  constructor() {
    super({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' });
  }

  override keepSocketAlive(socket: Duplex): boolean {
    if (this.draining) return false;
    return super.keepSocketAlive(socket) as unknown as boolean;
  }

  /** No idle socket kept from now on; the idle ones close now. */
  drain(): void {
    this.draining = true;
    this.dropIdle();
  }

  /** Closes the idle keep-alive sockets (one was found reset: the others are as old). */
  dropIdle(): void {
    for (const sockets of Object.values(this.freeSockets)) for (const socket of [...(sockets ?? [])]) socket.destroy();
  }

  /** Back in service (a drain undone by the catalog). */
  undrain(): void {
    this.draining = false;
  }

  /** Idle sockets the agent keeps now (tests). */
  idleSockets(): number {
    return Object.values(this.freeSockets).reduce((n, sockets) => n + (sockets?.length ?? 0), 0);
  }
}
