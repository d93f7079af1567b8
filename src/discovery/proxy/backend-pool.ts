// The servers of one route as the proxy runs them, changed in place by apply(): a server added is a
// candidate for the next connection, a draining or removed one is no longer a candidate while its open
// connections finish. Picks a server for each connection or request (the route's algorithm among the
// servers in service and not ejected) and keeps each server's passive-ejection state.
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { BalanceAlgorithm, LbRoute, LbServerStatus } from '../model.ts';
import { Backend } from './backend.ts';
import { createBalancer, type Balancer } from './balancers/index.ts';
import { afterFailure, afterSuccess, ejectionReason, isEjected, type EjectionPolicy } from './ejection.ts';

export interface PoolOptions {
  clock: Clock;
  logger: Logger;
  ejection: EjectionPolicy;
}

export class BackendPool {
  route: LbRoute;
  private algorithm: BalanceAlgorithm;
  private balancer: Balancer;
  private servers = new Map<string, Backend>();
  /** Removed from the model with connections still open: listed by status() until they close. */
  private readonly retired = new Set<Backend>();

  constructor(
    route: LbRoute,
    private readonly options: PoolOptions,
  ) {
    this.route = route;
    this.algorithm = route.balance;
    this.balancer = createBalancer(route.balance);
    this.update(route);
  }

  get name(): string {
    return this.route.name;
  }

  get hosts(): readonly string[] {
    return this.route.hosts;
  }

  get pathPrefix(): string | null {
    return this.route.pathPrefix;
  }

  update(route: LbRoute): void {
    this.route = route;
    for (const backend of this.retired) if (backend.connections === 0) this.retired.delete(backend);
    if (route.balance !== this.algorithm) {
      this.algorithm = route.balance;
      this.balancer = createBalancer(route.balance);
    }
    const next = new Map<string, Backend>();
    for (const server of route.servers) {
      let backend = this.servers.get(server.id);
      if (backend !== undefined && !backend.sameAs(server)) {
        this.retire(backend);
        backend = undefined;
      }
      if (backend === undefined) backend = new Backend(server);
      else backend.update(server);
      next.set(server.id, backend);
    }
    for (const [id, backend] of this.servers) if (next.get(id) !== backend) this.retire(backend);
    this.servers = next;
    this.balancer.retain(new Set(next.keys()));
  }

  /** The route left the model (or its listener closed): every server is retired. */
  retireAll(): void {
    for (const backend of this.servers.values()) this.retire(backend);
    this.servers = new Map();
  }

  /**
   * A server for a new connection or request from `clientAddress`, other than those in `tried`; undefined
   * when none is in service. Servers ejected are passed over, unless every one left is ejected: then they
   * are tried anyway (panic mode, as Envoy's panic threshold) since refusing every request is worse than
   * trying a server that may have come back, and passive ejection may have misjudged (a whole app restarting).
   */
  pick(clientAddress: string, tried: ReadonlySet<Backend> = new Set()): Backend | undefined {
    const now = this.options.clock.now().getTime();
    const usable = [...this.servers.values()].filter((b) => b.inService && !tried.has(b));
    const live = usable.filter((b) => !isEjected(b.ejection, now));
    return this.balancer.pick(live.length > 0 ? live : usable, clientAddress);
  }

  /** A connection to `backend` was established. */
  connected(backend: Backend): void {
    backend.ejection = afterSuccess();
  }

  /** A connection to `backend` failed before it was established (`error`: ECONNREFUSED, connect timeout, ...). */
  connectFailed(backend: Backend, error: string): void {
    const now = this.options.clock.now().getTime();
    const wasEjected = isEjected(backend.ejection, now);
    backend.ejection = afterFailure(backend.ejection, this.options.ejection, now, error);
    const reason = ejectionReason(backend.ejection, now);
    if (!wasEjected && reason !== null) {
      this.options.logger.warn({ route: this.name, server: backend.id, address: `${backend.address}:${backend.port}`, reason }, 'load balancer: server ejected');
    }
  }

  status(): LbServerStatus[] {
    const now = this.options.clock.now().getTime();
    for (const backend of this.retired) if (backend.connections === 0) this.retired.delete(backend);
    return [...this.servers.values(), ...this.retired].map((b) => ({
      id: b.id,
      route: this.name,
      address: b.address,
      port: b.port,
      state: b.draining || b.retired ? 'draining' : isEjected(b.ejection, now) ? 'down' : 'up',
      connections: b.connections,
      reason: b.retired ? 'removed; its open connections finish' : b.draining ? null : ejectionReason(b.ejection, now),
    }));
  }

  /** Ends every keep-alive socket (the data plane closes). */
  destroy(): void {
    for (const backend of [...this.servers.values(), ...this.retired]) backend.destroy();
    this.retired.clear();
  }

  private retire(backend: Backend): void {
    backend.retire();
    if (backend.connections > 0) this.retired.add(backend);
  }
}
