// `roundrobin`: nginx's smooth weighted round robin (ngx_http_upstream_get_peer). Each pick, every
// candidate's current weight grows by its weight; the largest wins and drops by the sum of weights. With
// weights 1:3 the picks go b a b b, b a b b, ...: exactly in proportion, and spread out rather than in
// bursts. A candidate left out of one pick (tried already, ejected) keeps its current weight.
import type { Balancer, Candidate } from './types.ts';

export class RoundRobinBalancer implements Balancer {
  private readonly current = new Map<string, number>();

  pick<T extends Candidate>(candidates: readonly T[]): T | undefined {
    let total = 0;
    let best: T | undefined;
    let bestWeight = 0;
    for (const candidate of candidates) {
      const weight = (this.current.get(candidate.id) ?? 0) + candidate.weight;
      this.current.set(candidate.id, weight);
      total += candidate.weight;
      if (best === undefined || weight > bestWeight) {
        best = candidate;
        bestWeight = weight;
      }
    }
    if (best !== undefined) this.current.set(best.id, bestWeight - total);
    return best;
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of this.current.keys()) if (!ids.has(id)) this.current.delete(id);
  }
}
