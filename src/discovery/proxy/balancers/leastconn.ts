// `leastconn`: the server with the fewest open connections relative to its weight, as HAProxy's
// (connections + 1) / weight, so that a heavier idle server is preferred to a lighter idle one. Ties go
// to the one picked least recently (never picked first, then in the order given): round robin among
// equals, so that short requests that never overlap still spread over every server.
import type { Balancer, Candidate } from './types.ts';

export class LeastConnBalancer implements Balancer {
  private readonly lastPicked = new Map<string, number>();
  private picks = 0;

  pick<T extends Candidate>(candidates: readonly T[]): T | undefined {
    let best: T | undefined;
    for (const candidate of candidates) {
      if (best === undefined || this.compare(candidate, best) < 0) best = candidate;
    }
    if (best !== undefined) this.lastPicked.set(best.id, ++this.picks);
    return best;
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of this.lastPicked.keys()) if (!ids.has(id)) this.lastPicked.delete(id);
  }

  /** < 0: `a` is the better pick. Load compared by cross-multiplying, so no rounding. */
  private compare(a: Candidate, b: Candidate): number {
    const load = (a.connections + 1) * b.weight - (b.connections + 1) * a.weight;
    if (load !== 0) return load;
    return (this.lastPicked.get(a.id) ?? 0) - (this.lastPicked.get(b.id) ?? 0);
  }
}
