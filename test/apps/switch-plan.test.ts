// Blue-green and canary arithmetic: when the switch waits, steps, holds the rollback window, finishes or
// goes back, as a table of states and what the green looks like.
import assert from 'node:assert/strict';
import { greenShare, nextSwitchMove, otherColour, parseSteps, type GreenFacts, type SwitchSettings, type SwitchState } from '../../src/apps/blue-green/switch-plan.ts';

const canary: SwitchSettings = { steps: [10, 50, 100], pauseMs: 30_000, rollbackWindowMs: 60_000 };
const manual: SwitchSettings = { ...canary, pauseMs: null };
const healthy: GreenFacts = { healthy: true, failed: null };
const starting: GreenFacts = { healthy: false, failed: null };

describe('blue-green switch moves', () => {
  const table: Array<[string, SwitchSettings, SwitchState, GreenFacts, number, boolean, ReturnType<typeof nextSwitchMove>]> = [
    ['waits for the green to be fully healthy', canary, { phase: 'starting', step: 0, since: 0 }, starting, 5_000, false, { kind: 'wait', until: null }],
    ['then takes the first step', canary, { phase: 'starting', step: 0, since: 0 }, healthy, 5_000, false, { kind: 'step', step: 0 }],
    ['holds a step for its pause', canary, { phase: 'shifting', step: 0, since: 1_000 }, healthy, 20_000, false, { kind: 'wait', until: 31_000 }],
    ['then takes the next', canary, { phase: 'shifting', step: 0, since: 1_000 }, healthy, 31_000, false, { kind: 'step', step: 1 }],
    ['a promote does not wait for the pause', canary, { phase: 'shifting', step: 1, since: 1_000 }, healthy, 2_000, true, { kind: 'step', step: 2 }],
    ['after the last step, the rollback window', canary, { phase: 'shifting', step: 2, since: 0 }, healthy, 1, false, { kind: 'window' }],
    ['all at once needs no promote: 100 % goes on to the window', manual, { phase: 'shifting', step: 2, since: 0 }, healthy, 1, false, { kind: 'window' }],
    ['without a pause, each step waits for a promote', manual, { phase: 'shifting', step: 0, since: 0 }, healthy, 10 ** 9, false, { kind: 'wait', until: null }],
    ['the window ends: finish (the blue goes)', canary, { phase: 'window', step: 2, since: 0 }, healthy, 60_000, false, { kind: 'finish' }],
    ['a green that fails its deployment goes back', canary, { phase: 'starting', step: 0, since: 0 }, { healthy: false, failed: 'its instances kept failing' }, 1, false, { kind: 'abort', reason: 'its instances kept failing' }],
    ['a green losing an instance while shifting goes back', canary, { phase: 'shifting', step: 1, since: 0 }, starting, 1, false, { kind: 'abort', reason: 'the green lost a healthy instance while it took traffic' }],
  ];
  for (const [what, settings, state, green, now, promote, expected] of table) {
    it(what, () => assert.deepEqual(nextSwitchMove(settings, state, green, now, promote), expected));
  }

  it('shares: 0 while starting, the step\'s while shifting, all in the window', () => {
    assert.equal(greenShare(canary, { phase: 'starting', step: 0, since: 0 }), 0);
    assert.equal(greenShare(canary, { phase: 'shifting', step: 1, since: 0 }), 50);
    assert.equal(greenShare(canary, { phase: 'window', step: 2, since: 0 }), 100);
    assert.equal(greenShare(canary, { phase: 'aborted', step: 2, since: 0 }), 0);
  });

  it('reads steps, adding the 100 and refusing what cannot be', () => {
    assert.deepEqual(parseSteps('10,50'), [10, 50, 100]);
    assert.deepEqual(parseSteps('10%, 50%, 100%'), [10, 50, 100]);
    assert.deepEqual(parseSteps(''), [100]);
    assert.throws(() => parseSteps('50,10'), /must rise/);
    assert.throws(() => parseSteps('0,100'), /from 1 to 100/);
  });

  it('colours alternate between the group\'s id and its -green', () => {
    assert.equal(otherColour('/prod/web', '/prod/web'), '/prod/web-green');
    assert.equal(otherColour('/prod/web', '/prod/web-green'), '/prod/web');
  });
});
