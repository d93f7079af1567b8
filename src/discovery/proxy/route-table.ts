// A listener's routes, in the model's order (most specific first), each with its pool of servers kept
// across apply() by route name: a route that stays keeps its servers' state, a route that goes retires
// its servers (their open connections finish and stay visible in status() until then).
import type { LbRoute, LbServerStatus } from '../model.ts';
import { BackendPool, type PoolOptions } from './backend-pool.ts';

export class RouteTable {
  private pools: BackendPool[] = [];
  private readonly retired = new Set<BackendPool>();

  constructor(private readonly options: PoolOptions) {}

  update(routes: readonly LbRoute[]): void {
    const byName = new Map(this.pools.map((pool) => [pool.name, pool]));
    const next = routes.map((route) => {
      const pool = byName.get(route.name);
      if (pool === undefined) return new BackendPool(route, this.options);
      byName.delete(route.name);
      pool.update(route);
      return pool;
    });
    for (const pool of byName.values()) this.retire(pool);
    this.pools = next;
  }

  /** In the model's order. */
  routes(): readonly BackendPool[] {
    return this.pools;
  }

  /** Every route retires (the listener closes). */
  retireAll(): void {
    for (const pool of this.pools) this.retire(pool);
    this.pools = [];
  }

  status(): LbServerStatus[] {
    const servers = this.pools.flatMap((pool) => pool.status());
    for (const pool of this.retired) {
      const finishing = pool.status();
      if (finishing.length === 0) this.retired.delete(pool);
      servers.push(...finishing);
    }
    return servers;
  }

  destroy(): void {
    for (const pool of [...this.pools, ...this.retired]) pool.destroy();
    this.retired.clear();
  }

  private retire(pool: BackendPool): void {
    pool.retireAll();
    this.retired.add(pool);
  }
}
