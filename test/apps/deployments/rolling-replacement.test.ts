// Rolling replacement, stepped through a small world one event at a time (simulation.ts checks at
// every step that kills keep the healthy minimum and starts stay within the maximum). The scripted
// cases are Marathon's TaskReplaceActorTest
// (src/test/scala/mesosphere/marathon/core/deployment/impl/TaskReplaceActorTest.scala), each step
// being the starts and kills Marathon's test verifies after the same event; then a sweep of random
// event orders over many strategies, checking the guarantees and that every run ends.
import assert from 'node:assert/strict';
import { nextReplacementStep, type InstanceView } from '../../../src/apps/deployments/index.ts';
import { seeded, World, type Scenario, type WorldEvent } from './simulation.ts';

const none = { health: false, readiness: false };
const health = { health: true, readiness: false };
const readiness = { health: false, readiness: true };
const both = { health: true, readiness: true };
const strategy = (minimumHealthCapacity: number, maximumOverCapacity = 1) => ({ minimumHealthCapacity, maximumOverCapacity });

/** [the event (init: the first decision; again: decide again, nothing changed), starts decided, kills decided, done?] */
type ScriptStep = [WorldEvent | 'init' | 'again', number, number, 'done'?];

interface ScriptedCase {
  name: string;
  scenario: Scenario;
  script: ScriptStep[];
}

const cases: ScriptedCase[] = [
  {
    name: 'replace old tasks without health checks (N=5, m=0): all old killed and all new queued at once',
    scenario: { target: 5, strategy: strategy(0), checks: none, old: 2 },
    script: [['init', 5, 2], ['newRun', 0, 0], ['killsEnd', 0, 0, 'done']],
  },
  {
    name: 'not kill new and already started tasks: the new one found running is kept, 4 more started',
    scenario: { target: 5, strategy: strategy(0), checks: none, old: 1, alreadyNew: 1 },
    script: [['init', 4, 1], ['newRun', 0, 0], ['killsEnd', 0, 0, 'done']],
  },
  {
    name: 'replace old tasks with health checks: done once all 5 new are healthy',
    scenario: { target: 5, strategy: strategy(0), checks: health, old: 2 },
    script: [['init', 5, 2], ['killsEnd', 0, 0], ['newRun', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 0, 'done']],
  },
  {
    name: 'replace and scale down from more than the new minCapacity (N=2 over 3 old, m=1)',
    scenario: { target: 2, strategy: strategy(1), checks: none, old: 3 },
    script: [['init', 1, 1], ['newRun', 0, 1], ['killsEnd', 1, 0], ['newRun', 0, 1], ['killsEnd', 0, 0, 'done']],
  },
  {
    name: 'replace tasks with minimum running number of tasks (N=3, m=0.5, o=1): ceil(1.5)=2 stay, one killed per healthy new one',
    scenario: { target: 3, strategy: strategy(0.5), checks: health, old: 3 },
    script: [['init', 3, 1], ['newRun', 0, 0], ['newHealthy', 0, 1], ['newHealthy', 0, 1], ['newHealthy', 0, 0], ['killsEnd', 0, 0, 'done']],
  },
  {
    name: 'respect upgrade strategy (MARATHON-8716): a new instance from a previous master, not yet healthy, lets no old one go',
    scenario: { target: 2, strategy: strategy(0.5, 0), checks: health, old: 1, alreadyNew: 1, alreadyNewUnhealthy: 1 },
    script: [['init', 0, 0], ['newHealthy', 0, 1], ['killsEnd', 1, 0], ['newRun', 0, 0], ['newHealthy', 0, 0, 'done']],
  },
  {
    name: 'replace tasks during rolling upgrade *without* over-capacity (N=3, m=0.5, o=0): one at a time, each start after a kill',
    scenario: { target: 3, strategy: strategy(0.5, 0), checks: health, old: 3 },
    script: [
      ['init', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 0, 'done'],
    ],
  },
  {
    name: 'replace tasks during rolling upgrade *with* minimal over-capacity (N=3, m=1, o=0): one over capacity, the special case',
    scenario: { target: 3, strategy: strategy(1, 0), checks: health, old: 3 },
    script: [
      ['init', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 0, 0, 'done'],
    ],
  },
  {
    name: 'replace tasks during rolling upgrade with 2/3 over-capacity (N=3, m=1, o=0.7): floor(5.1)=5, two started at once',
    scenario: { target: 3, strategy: strategy(1, 0.7), checks: health, old: 3 },
    script: [['init', 2, 0], ['newRun', 0, 0], ['newHealthy', 0, 1], ['killsEnd', 1, 0], ['newHealthy', 0, 1], ['newRun', 0, 0], ['newHealthy', 0, 1], ['killsEnd', 0, 0, 'done']],
  },
  {
    name: 'downscale tasks during rolling upgrade with 1 over-capacity (4 old, N=3, m=1, o=0.3): the extra one goes first',
    scenario: { target: 3, strategy: strategy(1, 0.3), checks: health, old: 4 },
    script: [
      ['init', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 1, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 0, 0, 'done'],
    ],
  },
  {
    name: 'stop the actor if all tasks are replaced already',
    scenario: { target: 2, strategy: strategy(1), checks: none, old: 0, alreadyNew: 2 },
    script: [['init', 0, 0, 'done']],
  },
  {
    name: 'wait for readiness checks if all tasks are replaced already',
    scenario: { target: 1, strategy: strategy(1), checks: readiness, old: 0, alreadyNew: 1, alreadyNewUnhealthy: 1 },
    script: [['init', 0, 0], ['newReady', 0, 0, 'done']],
  },
  {
    name: 'wait for the readiness checks and health checks if all tasks are replaced already',
    scenario: { target: 1, strategy: strategy(1), checks: both, old: 0, alreadyNew: 1, alreadyNewUnhealthy: 1 },
    script: [['init', 0, 0], ['newHealthy', 0, 0], ['newReady', 0, 0, 'done']],
  },
  {
    name: 'wait for health and readiness checks for new tasks (m=1, o=1): unhealthy, then healthy but unready, kill nothing',
    scenario: { target: 1, strategy: strategy(1, 1), checks: both, old: 1 },
    script: [['init', 1, 0], ['newRun', 0, 0], ['newUnhealthy', 0, 0], ['newHealthy', 0, 0], ['newReady', 0, 1], ['killsEnd', 0, 0, 'done']],
  },
  // The brief's cases beyond Marathon's tests.
  {
    name: 'N=5, m=0.5, o=0: floor(5 - ceil(2.5)) = 2 killed at once, then new ones start as room frees',
    scenario: { target: 5, strategy: strategy(0.5, 0), checks: health, old: 5 },
    script: [
      ['init', 0, 2],
      ['killsEnd', 2, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['newHealthy', 0, 1],
      ['killsEnd', 2, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 1],
      ['killsEnd', 1, 0],
      ['newHealthy', 0, 0],
      ['newRun', 0, 0],
      ['newHealthy', 0, 0, 'done'],
    ],
  },
  {
    name: 'm=0, o=1: everything old goes and everything new starts at once',
    scenario: { target: 3, strategy: strategy(0, 1), checks: health, old: 3 },
    script: [['init', 3, 3], ['newRun', 0, 0], ['killsEnd', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 0, 'done']],
  },
  {
    name: 'm=1, o=1: all new start at once, an old one goes per healthy new one',
    scenario: { target: 3, strategy: strategy(1, 1), checks: health, old: 3 },
    script: [['init', 3, 0], ['newRun', 0, 0], ['newHealthy', 0, 1], ['newHealthy', 0, 1], ['newHealthy', 0, 1], ['killsEnd', 0, 0, 'done']],
  },
  // Old instances that do not count as healthy (where Gantry differs from Marathon, see rolling-replacement.ts).
  {
    name: 'an old instance failing its checks goes at once when the minimum holds without it',
    scenario: { target: 3, strategy: strategy(0.5, 0), checks: health, old: 3, oldUnhealthy: 1 },
    script: [['init', 0, 1], ['killsEnd', 1, 0], ['newRun', 0, 0], ['newHealthy', 0, 1], ['killsEnd', 1, 0], ['newRun', 0, 0], ['newHealthy', 0, 1], ['killsEnd', 1, 0], ['newRun', 0, 0], ['newHealthy', 0, 0, 'done']],
  },
  {
    name: 'under the minimum, failing old instances stay while there is room, and go once the minimum holds without them',
    scenario: { target: 4, strategy: strategy(0.75, 1), checks: health, old: 4, oldUnhealthy: 3 },
    script: [['init', 4, 0], ['newRun', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 3], ['newHealthy', 0, 1], ['killsEnd', 0, 0], ['newHealthy', 0, 0, 'done']],
  },
  {
    name: 'under the minimum with no room left, failing old instances make room for new ones (Marathon waits for its health checks to kill them)',
    scenario: { target: 4, strategy: strategy(0.75, 0), checks: health, old: 4, oldUnhealthy: 3 },
    script: [['init', 0, 3], ['killsEnd', 3, 0], ['newRun', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 0], ['newHealthy', 0, 1], ['killsEnd', 1, 0], ['newRun', 0, 0], ['newHealthy', 0, 0, 'done']],
  },
  {
    name: 'over capacity and under the minimum, failing old instances go as far as room is needed, counting the kills under way',
    scenario: { target: 2, strategy: strategy(1, 1), checks: health, old: 5, oldUnhealthy: 4 },
    script: [['init', 0, 3], ['again', 0, 0], ['killsEnd', 2, 0], ['newRun', 0, 0], ['newHealthy', 0, 1], ['newHealthy', 0, 1], ['killsEnd', 0, 0, 'done']],
  },
  {
    name: 'new instances beyond N (an agent back with instances already replaced) are killed',
    scenario: { target: 2, strategy: strategy(1, 0), checks: none, old: 0, alreadyNew: 3 },
    script: [['init', 0, 1], ['killsEnd', 0, 0, 'done']],
  },
];

describe('apps: rolling replacement (Marathon TaskReplaceActor)', () => {
  for (const { name, scenario, script } of cases) {
    it(name, () => {
      const world = new World(scenario);
      const trace: string[] = [];
      for (const [event, start, kills, done] of script) {
        if (event !== 'init' && event !== 'again') world.apply(event);
        const decision = world.decide();
        trace.push(`${event}: start ${decision.start}, kill ${decision.kill.length}${decision.done ? ', done' : ''}`);
        assert.deepEqual([decision.start, decision.kill.length, decision.done], [start, kills, done === 'done'], trace.join('\n'));
      }
    });
  }

  it('kills old instances by killSelection: YOUNGEST_FIRST the latest started, OLDEST_FIRST the earliest', () => {
    const old = (id: string, since: number): InstanceView => ({ id, phase: 'running', available: true, killing: false, since });
    const oldInstances = [old('a', 1000), old('b', 3000), old('c', 2000)];
    const decide = (killSelection: 'YOUNGEST_FIRST' | 'OLDEST_FIRST') =>
      nextReplacementStep({ target: 3, upgradeStrategy: strategy(1 / 3, 0), killSelection, oldInstances, newInstances: [] }).kill;
    assert.deepEqual(decide('YOUNGEST_FIRST'), ['b', 'c']);
    assert.deepEqual(decide('OLDEST_FIRST'), ['a', 'c']);
  });

  it('kills old instances that do not count before those that do, whatever the killSelection', () => {
    const oldInstances: InstanceView[] = [
      { id: 'healthy-young', phase: 'running', available: true, killing: false, since: 9000 },
      { id: 'failing-old', phase: 'running', available: false, killing: false, since: 1000 },
      { id: 'healthy-old', phase: 'running', available: true, killing: false, since: 2000 },
    ];
    // m=0: every old instance goes; the order is the kill order.
    const { kill } = nextReplacementStep({ target: 3, upgradeStrategy: strategy(0, 0), killSelection: 'YOUNGEST_FIRST', oldInstances, newInstances: [] });
    assert.deepEqual(kill, ['failing-old', 'healthy-young', 'healthy-old']);
  });

  it('a scale to 0 through a replacement kills every old instance and is done once they ended', () => {
    const oldInstances: InstanceView[] = [{ id: 'a', phase: 'running', available: true, killing: false, since: 1 }];
    const first = nextReplacementStep({ target: 0, upgradeStrategy: strategy(1, 0), killSelection: 'YOUNGEST_FIRST', oldInstances, newInstances: [] });
    assert.deepEqual([first.start, first.kill, first.done], [0, ['a'], false]);
    const last = nextReplacementStep({ target: 0, upgradeStrategy: strategy(1, 0), killSelection: 'YOUNGEST_FIRST', oldInstances: [], newInstances: [] });
    assert.equal(last.done, true);
  });

  describe('random event orders: the guarantees hold at every step and every run ends', () => {
    const fractions = [0, 0.25, 0.5, 0.75, 1];
    const overs = [0, 0.3, 0.5, 1];
    const checkKinds = [none, health, both];
    for (const target of [1, 2, 3, 5, 7]) {
      it(`N=${target}: every minimumHealthCapacity × maximumOverCapacity × checks × old count, 4 seeds each, with crashes`, () => {
        let runs = 0;
        for (const m of fractions)
          for (const o of overs)
            for (const checks of checkKinds)
              for (const old of [0, Math.max(0, target - 1), target, target + 2])
                for (const oldUnhealthy of new Set([0, Math.min(1, old), Math.ceil(old / 2), old]))
                  for (let seed = 1; seed <= 4; seed++) {
                    runs++;
                    const scenario: Scenario = { target, strategy: strategy(m, o), checks, old, oldUnhealthy, alreadyNew: seed === 4 ? 1 : 0, killSelection: seed % 2 ? 'YOUNGEST_FIRST' : 'OLDEST_FIRST' };
                    simulate(scenario, seed * 7919 + target * 31 + old);
                  }
        assert.ok(runs > 1000);
      });
    }
  });
});

/** Runs the world with events in a random order (crashes at most 3 times) until the replacement is done. */
function simulate(scenario: Scenario, seed: number): void {
  const random = seeded(seed);
  const world = new World(scenario);
  const events: string[] = [];
  let crashes = 3;
  const fail = (why: string) =>
    assert.fail(`${why}\n${JSON.stringify({ ...scenario, seed })}\nevents: ${events.join(' ')}\nlast decision: ${JSON.stringify(world.decisions.at(-1))}\ninstances: ${JSON.stringify(world.instances)}`);
  try {
    if (world.decide().done) return;
    for (let n = 0; n < 2000; n++) {
      const possible = world.possible().filter((e) => crashes > 0 || (e !== 'newCrash' && e !== 'oldCrash'));
      if (possible.length === 0) fail('stuck: nothing can happen and the replacement is not done');
      const event = possible[Math.floor(random() * possible.length)]!;
      if (event === 'newCrash' || event === 'oldCrash') crashes--;
      events.push(event);
      world.apply(event, (k) => Math.floor(random() * k));
      if (world.decide().done) return;
    }
    fail('did not end in 2000 events');
  } catch (error) {
    if (error instanceof assert.AssertionError && !error.message.includes('\nevents:')) fail(error.message);
    throw error;
  }
}
