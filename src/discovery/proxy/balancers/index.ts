// The balancing algorithms by the name marathon-lb's HAPROXY_{n}_BALANCE gives them: a new algorithm is
// one file here and one line in the table.
import type { BalanceAlgorithm } from '../../model.ts';
import { LeastConnBalancer } from './leastconn.ts';
import { RoundRobinBalancer } from './roundrobin.ts';
import { SourceHashBalancer } from './source.ts';
import type { Balancer } from './types.ts';

export const BALANCERS: Readonly<Record<BalanceAlgorithm, () => Balancer>> = {
  roundrobin: () => new RoundRobinBalancer(),
  leastconn: () => new LeastConnBalancer(),
  source: () => new SourceHashBalancer(),
};

export function createBalancer(algorithm: BalanceAlgorithm): Balancer {
  return BALANCERS[algorithm]();
}

export type { Balancer, Candidate } from './types.ts';
export { LeastConnBalancer } from './leastconn.ts';
export { RoundRobinBalancer } from './roundrobin.ts';
export { SourceHashBalancer, rendezvousHash, rendezvousScore } from './source.ts';
