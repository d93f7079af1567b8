// Beyond Marathon: where a failed deployment rolls back to, and when it has failed for want of progress.
import assert from 'node:assert/strict';
import { checkProgressDeadline, recordProgress, rollbackTarget, type VersionRecord } from '../../../src/apps/deployments/index.ts';

const v = (version: string, reachedFullHealth: boolean): VersionRecord => ({ version, reachedFullHealth });

describe('apps: rollback target', () => {
  // [history oldest first, failing (default: the newest), the target]
  const table: Array<[string, VersionRecord[], string | undefined, string | null]> = [
    ['the version before, when it was healthy', [v('v1', true), v('v2', true), v('v3', false)], undefined, 'v2'],
    ['skips versions that never got all their instances healthy', [v('v1', true), v('v2', false), v('v3', false)], undefined, 'v1'],
    ['nothing earlier ever healthy: no target', [v('v1', false), v('v2', false)], undefined, null],
    ['the first version failing: no target', [v('v1', false)], undefined, null],
    ['never the failing version itself, even if it was healthy once (a later change broke it)', [v('v1', true), v('v2', true)], 'v2', 'v1'],
    ['from a version in the middle: only earlier ones count', [v('v1', true), v('v2', false), v('v3', true), v('v4', true)], 'v3', 'v1'],
    ['a failing version not in the history: the newest healthy one', [v('v1', true), v('v2', true)], 'v9', 'v2'],
    ['no history', [], undefined, null],
  ];
  for (const [name, history, failing, target] of table) {
    it(name, () => {
      assert.equal(failing === undefined ? rollbackTarget(history) : rollbackTarget(history, failing), target);
    });
  }
});

describe('apps: progress deadline', () => {
  const start = Date.parse('2026-03-01T12:00:00Z');
  const s = (seconds: number) => start + seconds * 1000;

  it('is not expired within the deadline from the start, and says how long is left', () => {
    assert.deepEqual(checkProgressDeadline({ startedAt: start, deadlineSeconds: 600, lastProgressAt: null, now: s(599) }), { expired: false, remainingMs: 1000 });
  });

  it('expires at the deadline with no progress since the start, saying so', () => {
    const verdict = checkProgressDeadline({ startedAt: start, deadlineSeconds: 600, lastProgressAt: null, now: s(600) });
    assert.deepEqual(verdict, { expired: true, reason: 'no progress since the deployment started 600 s ago: past its progress deadline of 600 s' });
  });

  it('counts from the last progress: each step forward buys another deadline', () => {
    assert.equal(checkProgressDeadline({ startedAt: start, deadlineSeconds: 600, lastProgressAt: s(500), now: s(1000) }).expired, false);
    const verdict = checkProgressDeadline({ startedAt: start, deadlineSeconds: 600, lastProgressAt: s(500), now: s(1130) });
    assert.deepEqual(verdict, { expired: true, reason: 'no progress for 630 s (last at 2026-03-01T12:08:20.000Z): past its progress deadline of 600 s' });
  });

  it('never expires without a deadline', () => {
    assert.deepEqual(checkProgressDeadline({ startedAt: start, deadlineSeconds: null, lastProgressAt: null, now: s(1e6) }), { expired: false, remainingMs: null });
  });

  it('progress is beating the best so far: a flapping health check is not progress each time it passes', () => {
    let best = recordProgress(null, { available: 0, leftToRemove: 3 });
    assert.equal(best.progressed, false, 'the first measure is the baseline');
    // [available, leftToRemove, progressed]
    const steps: Array<[number, number, boolean]> = [
      [1, 3, true], // a new instance became healthy
      [0, 3, false], // it failed its check again
      [1, 3, false], // and passed again: not beyond the best
      [1, 2, true], // an old instance ended
      [2, 2, true],
      [2, 2, false],
    ];
    for (const [available, leftToRemove, progressed] of steps) {
      best = recordProgress(best.best, { available, leftToRemove });
      assert.equal(best.progressed, progressed, `${available} available, ${leftToRemove} to go`);
    }
    assert.deepEqual(best.best, { available: 2, leftToRemove: 2 });
  });
});
