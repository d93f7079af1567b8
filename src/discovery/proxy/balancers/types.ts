// What a balancing algorithm sees of a route's servers and what it decides: which one gets the next
// connection or request. The algorithms are pure (no sockets, no clock) so that each is table-tested;
// the pool (../backend-pool.ts) decides who is a candidate (not draining, not ejected, weight > 0).

/** What an algorithm reads of a server. */
export interface Candidate {
  /** Stable across apply(): the key of the algorithm's state. */
  readonly id: string;
  /** > 0: servers of weight 0 are never candidates. */
  readonly weight: number;
  /** Connections (or requests in flight) open to it now. */
  readonly connections: number;
}

export interface Balancer {
  /** One of `candidates`, or undefined when there are none. `clientAddress` is the client's IP. */
  pick<T extends Candidate>(candidates: readonly T[], clientAddress: string): T | undefined;
  /** Forgets the servers not in `ids`: the ones that remain keep their state across apply(). */
  retain(ids: ReadonlySet<string>): void;
}
