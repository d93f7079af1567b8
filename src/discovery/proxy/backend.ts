// One server of one route as the proxy runs it: what the model says of it (weight, draining), what the
// proxy knows of it (connections open now, passive ejection) and, in HTTP mode, its keep-alive agent.
// Kept across apply() by server id, so a server that stays keeps its connections count, its ejection
// and its place in the balancing.
import type { LbServer } from '../model.ts';
import type { Candidate } from './balancers/types.ts';
import { DrainableAgent } from './drainable-agent.ts';
import { NOT_EJECTED, type EjectionState } from './ejection.ts';

export class Backend implements Candidate {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  weight: number;
  draining: boolean;
  /** No longer in the model: gets nothing new, shown in status() while connections to it finish. */
  retired = false;
  /** Connections (TCP) or requests and upgraded sockets (HTTP) open to it now. */
  connections = 0;
  ejection: EjectionState = NOT_EJECTED;
  private agent: DrainableAgent | null = null;

  constructor(server: LbServer) {
    this.id = server.id;
    this.address = server.address;
    this.port = server.port;
    this.weight = server.weight;
    this.draining = server.draining;
  }

  /** Whether `server` is this one (same id at the same address): if not, it replaces this one. */
  sameAs(server: LbServer): boolean {
    return server.id === this.id && server.address === this.address && server.port === this.port;
  }

  update(server: LbServer): void {
    this.weight = server.weight;
    if (server.draining !== this.draining) {
      this.draining = server.draining;
      if (server.draining) this.agent?.drain();
      else this.agent?.undrain();
    }
  }

  retire(): void {
    this.retired = true;
    this.agent?.drain();
  }

  /** Gets new connections or requests. */
  get inService(): boolean {
    return !this.retired && !this.draining && this.weight > 0;
  }

  /** The keep-alive agent its HTTP requests go through. */
  httpAgent(): DrainableAgent {
    if (this.agent === null) {
      this.agent = new DrainableAgent();
      if (this.draining || this.retired) this.agent.drain();
    }
    return this.agent;
  }

  opened(): void {
    this.connections++;
  }

  closed(): void {
    this.connections = Math.max(0, this.connections - 1);
  }

  /** Ends its keep-alive sockets (the data plane closes). */
  destroy(): void {
    this.agent?.destroy();
    this.agent = null;
  }
}
