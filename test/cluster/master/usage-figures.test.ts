// The master's view of what running tasks use: the CPU rate from two samples of CPU time, memory as
// last sampled, an older sample ignored, and an ended task's figures gone.
import assert from 'node:assert/strict';
import { UsageFigures } from '../../../src/cluster/master/usage-figures.ts';

describe('usage figures', () => {
  it('turns two samples of CPU time into CPUs in use, and keeps the latest memory', () => {
    const figures = new UsageFigures();
    figures.record({ at: '2026-12-07T10:00:00.000Z', tasks: [{ taskId: 'a', cpuSeconds: 10, memBytes: 1000 }] });
    assert.deepEqual(figures.of('a'), { at: '2026-12-07T10:00:00.000Z', cpus: null, cpuSeconds: 10, memBytes: 1000 }, 'one sample: no rate yet');
    figures.record({ at: '2026-12-07T10:00:10.000Z', tasks: [{ taskId: 'a', cpuSeconds: 25, memBytes: 3000 }] });
    assert.deepEqual(figures.of('a'), { at: '2026-12-07T10:00:10.000Z', cpus: 1.5, cpuSeconds: 25, memBytes: 3000 });
  });

  it('ignores a sample no newer than the one it holds, and forgets an ended task', () => {
    const figures = new UsageFigures();
    figures.record({ at: '2026-12-07T10:00:10.000Z', tasks: [{ taskId: 'a', cpuSeconds: 5, memBytes: 10 }] });
    figures.record({ at: '2026-12-07T10:00:05.000Z', tasks: [{ taskId: 'a', cpuSeconds: 1, memBytes: 99 }] });
    assert.equal(figures.of('a')?.memBytes, 10);
    figures.forget('a');
    assert.equal(figures.of('a'), null);
  });

  it('gives no rate when the CPU time went backwards (a task restarted in place counts from zero again)', () => {
    const figures = new UsageFigures();
    figures.record({ at: '2026-12-07T10:00:00.000Z', tasks: [{ taskId: 'a', cpuSeconds: 50, memBytes: 1 }] });
    figures.record({ at: '2026-12-07T10:00:10.000Z', tasks: [{ taskId: 'a', cpuSeconds: 2, memBytes: 1 }] });
    assert.equal(figures.of('a')?.cpus, null);
  });
});
