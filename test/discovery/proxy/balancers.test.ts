// The balancing algorithms as tables: the picks each makes from given servers, weights and loads.
import assert from 'node:assert/strict';
import { LeastConnBalancer, RoundRobinBalancer, SourceHashBalancer, createBalancer, type Candidate } from '../../../src/discovery/proxy/index.ts';

const servers = (weights: Record<string, number>, connections: Record<string, number> = {}): Candidate[] =>
  Object.entries(weights).map(([id, weight]) => ({ id, weight, connections: connections[id] ?? 0 }));

function picks(balancer: { pick(c: readonly Candidate[], client: string): Candidate | undefined }, candidates: Candidate[], n: number): string {
  return Array.from({ length: n }, () => balancer.pick(candidates, '10.0.0.1')?.id ?? '-').join(' ');
}

describe('proxy balancers', () => {
  describe('roundrobin (smooth weighted, as nginx)', () => {
    const table: Array<[string, Record<string, number>, number, string]> = [
      ['equal weights take turns', { a: 1, b: 1, c: 1 }, 6, 'a b c a b c'],
      ['1:3 spreads the light one out', { a: 1, b: 3 }, 8, 'b a b b b a b b'],
      ["nginx's own example, 5:1:1", { a: 5, b: 1, c: 1 }, 7, 'a a b a c a a'],
      ['a single server', { a: 2 }, 3, 'a a a'],
      ['no server', {}, 2, '- -'],
    ];
    for (const [name, weights, n, expected] of table) {
      it(name, () => assert.equal(picks(new RoundRobinBalancer(), servers(weights), n), expected));
    }

    it('gives each server its share over many picks', () => {
      const balancer = new RoundRobinBalancer();
      const counts = new Map<string, number>();
      for (let i = 0; i < 400; i++) {
        const id = balancer.pick(servers({ a: 1, b: 3 }))!.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries(counts), { b: 300, a: 100 });
    });

    it('keeps its place for the servers that remain and forgets the others', () => {
      const balancer = new RoundRobinBalancer();
      assert.equal(picks(balancer, servers({ a: 1, b: 1, c: 1 }), 2), 'a b');
      balancer.retain(new Set(['b', 'c']));
      // c kept the credit it built while a and b were picked, so it catches up first.
      assert.equal(picks(balancer, servers({ b: 1, c: 1 }), 4), 'c c b c');
    });
  });

  describe('leastconn', () => {
    const table: Array<[string, Candidate[], string]> = [
      ['the idle one while the others are busy', servers({ a: 1, b: 1, c: 1 }, { a: 3, b: 0, c: 2 }), 'b'],
      ['relative to weight: 2 open on weight 3 beats 1 open on weight 1', servers({ a: 1, b: 3 }, { a: 1, b: 2 }), 'b'],
      ['an idle heavy server before an idle light one', servers({ a: 1, b: 2 }), 'b'],
      ['equal load: the first never picked', servers({ a: 1, b: 1 }, { a: 1, b: 1 }), 'a'],
    ];
    for (const [name, candidates, expected] of table) {
      it(name, () => assert.equal(new LeastConnBalancer().pick(candidates)?.id, expected));
    }

    it('takes turns among equals (round robin on ties)', () => {
      assert.equal(picks(new LeastConnBalancer(), servers({ a: 1, b: 1, c: 1 }), 6), 'a b c a b c');
    });

    it('forgets removed servers', () => {
      const balancer = new LeastConnBalancer();
      assert.equal(picks(balancer, servers({ a: 1, b: 1 }), 1), 'a');
      balancer.retain(new Set(['b']));
      // a's last pick is forgotten: it counts as never picked, before b.
      assert.equal(picks(balancer, servers({ a: 1, b: 1 }), 1), 'a');
    });
  });

  describe('source (weighted rendezvous hashing)', () => {
    const clients = Array.from({ length: 4000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const assign = (candidates: Candidate[]): Map<string, string> => {
      const balancer = new SourceHashBalancer();
      return new Map(clients.map((client) => [client, balancer.pick(candidates, client)!.id]));
    };

    it('sends a client to the same server every time', () => {
      const balancer = new SourceHashBalancer();
      const candidates = servers({ a: 1, b: 1, c: 1 });
      for (const client of clients.slice(0, 50)) {
        const first = balancer.pick(candidates, client)!.id;
        for (let i = 0; i < 3; i++) assert.equal(balancer.pick(candidates, client)!.id, first);
      }
    });

    it('moves only the clients of a removed server, and a new server takes only its share', () => {
      const before = assign(servers({ a: 1, b: 1, c: 1 }));
      const after = assign(servers({ a: 1, c: 1 }));
      const moved = clients.filter((client) => before.get(client) !== after.get(client));
      assert.ok(moved.length > 0);
      assert.ok(moved.every((client) => before.get(client) === 'b'));
      const grown = assign(servers({ a: 1, b: 1, c: 1, d: 1 }));
      assert.ok(clients.every((client) => grown.get(client) === 'd' || grown.get(client) === before.get(client)));
    });

    it('holds weights in proportion', () => {
      const shares = assign(servers({ a: 1, b: 3 }));
      const onA = [...shares.values()].filter((id) => id === 'a').length / clients.length;
      assert.ok(onA > 0.22 && onA < 0.28, `a has ${onA}`);
    });
  });

  it('the table names each algorithm of the model', () => {
    assert.ok(createBalancer('roundrobin') instanceof RoundRobinBalancer);
    assert.ok(createBalancer('leastconn') instanceof LeastConnBalancer);
    assert.ok(createBalancer('source') instanceof SourceHashBalancer);
  });
});
