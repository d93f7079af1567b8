import assert from 'node:assert/strict';
import { DueIndex } from '../../../src/batch/firing/due-index.ts';

describe('batch due index', () => {
  it('pops what is due, earliest first, and leaves the rest', () => {
    const index = new DueIndex();
    index.set('c', 30);
    index.set('a', 10);
    index.set('b', 20);
    index.set('d', 40);
    assert.deepEqual(index.popDue(25).map((e) => e.key), ['a', 'b']);
    assert.equal(index.size, 2);
    assert.equal(index.peek()?.key, 'c');
  });

  it('moves a key when it is set again, earlier or later', () => {
    const index = new DueIndex();
    for (const [key, at] of [['a', 10], ['b', 20], ['c', 30]] as const) index.set(key, at);
    index.set('c', 5);
    assert.equal(index.peek()?.key, 'c');
    index.set('c', 50);
    assert.equal(index.peek()?.key, 'a');
    assert.equal(index.size, 3);
    assert.deepEqual(index.popDue(100).map((e) => [e.key, e.dueAt]), [['a', 10], ['b', 20], ['c', 50]]);
  });

  it('deletes any key, keeping the order of the others', () => {
    const index = new DueIndex();
    for (let i = 0; i < 50; i++) index.set(`k${i}`, (i * 37) % 50);
    for (let i = 0; i < 50; i += 3) assert.equal(index.delete(`k${i}`), true);
    assert.equal(index.delete('k0'), false);
    const popped = index.popDue(Infinity);
    const times = popped.map((e) => e.dueAt);
    assert.deepEqual(times, [...times].sort((x, y) => x - y));
    assert.equal(popped.length, 50 - 17);
    assert.ok(popped.every((e) => Number(e.key.slice(1)) % 3 !== 0));
  });

  it('agrees with a sorted list under random operations', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const index = new DueIndex();
    const model = new Map<string, number>();
    for (let step = 0; step < 5000; step++) {
      const key = `k${Math.floor(random() * 200)}`;
      const op = random();
      if (op < 0.6) {
        const at = Math.floor(random() * 10_000);
        index.set(key, at);
        model.set(key, at);
      } else if (op < 0.8) {
        assert.equal(index.delete(key), model.delete(key));
      } else {
        const now = Math.floor(random() * 10_000);
        const expected = [...model].filter(([, at]) => at <= now).map(([, at]) => at).sort((a, b) => a - b);
        const popped = index.popDue(now);
        assert.deepEqual(popped.map((e) => e.dueAt), expected);
        for (const e of popped) model.delete(e.key);
      }
      assert.equal(index.size, model.size);
    }
  });
});
