// The order placement visits agents in: a random start and a random stride coprime with N, which walks
// every agent exactly once in an order that differs per placement. Like Nomad's shuffled node list, it
// spreads concurrent choices and avoids always probing the same agents first, without an O(N) shuffle.
export interface VisitOrder {
  start: number;
  stride: number;
}

export function visitOrder(n: number, rng: () => number): VisitOrder {
  if (n <= 1) return { start: 0, stride: 1 };
  const start = Math.floor(rng() * n) % n;
  let stride = 1 + (Math.floor(rng() * (n - 1)) % (n - 1));
  while (gcd(stride, n) !== 1) stride = stride === n - 1 ? 1 : stride + 1;
  return { start, stride };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
