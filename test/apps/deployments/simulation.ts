// A small world for the deployment arithmetic: instances that stage, run, pass or fail their checks and
// end when killed, one event at a time. Each step applies one event, asks nextReplacementStep what to do,
// applies the answer and checks the two guarantees against the instances as they were just before:
// kills never take the healthy count below the minimum (or below what it was, when it already was),
// and starts never take the total above the maximum.
import assert from 'node:assert/strict';
import { isAvailable, nextReplacementStep, type InstanceView, type ReplacementDecision, type VersionChecks } from '../../../src/apps/deployments/index.ts';
import type { KillSelection, UpgradeStrategy } from '../../../src/apps/index.ts';
import { seededRng } from '../../../src/cluster/placement/seeded-rng.ts';

export interface SimInstance {
  id: string;
  version: 'old' | 'new';
  phase: 'staging' | 'running';
  healthy: boolean | null;
  ready: boolean | null;
  killing: boolean;
  since: number;
}

export type WorldEvent =
  | 'killsEnd' // every instance being killed ends
  | 'newRun' // every staging new instance runs
  | 'newHealthy' // one running new instance passes its health check
  | 'newReady' // one running new instance passes its readiness check
  | 'newUnhealthy' // one running new instance without a verdict fails its health check
  | 'newCrash' // one new instance ends on its own
  | 'oldCrash'; // one old instance ends on its own

export interface Scenario {
  target: number;
  strategy: UpgradeStrategy;
  killSelection?: KillSelection;
  checks: VersionChecks;
  /** The old instances: healthy (running, checks passed) unless listed in `oldUnhealthy`. */
  old: number;
  oldUnhealthy?: number;
  /** New-version instances already there (a master that took over mid-deployment): running, healthy unless `newUnhealthy`. */
  alreadyNew?: number;
  alreadyNewUnhealthy?: number;
}

export class World {
  instances: SimInstance[] = [];
  decisions: ReplacementDecision[] = [];
  private clock = 1_000_000;
  private ids = 0;

  constructor(readonly scenario: Scenario) {
    const add = (version: 'old' | 'new', healthy: boolean) =>
      this.instances.push({ id: this.nextId(version), version, phase: 'running', healthy, ready: healthy, killing: false, since: this.tick() });
    for (let i = 0; i < scenario.old; i++) add('old', i >= (scenario.oldUnhealthy ?? 0));
    for (let i = 0; i < (scenario.alreadyNew ?? 0); i++) add('new', i >= (scenario.alreadyNewUnhealthy ?? 0));
  }

  private nextId(version: string): string {
    return `${version}-${++this.ids}`;
  }

  private tick(): number {
    return (this.clock += 1000);
  }

  private available(i: SimInstance): boolean {
    return !i.killing && isAvailable(i, this.scenario.checks);
  }

  views(version: 'old' | 'new'): InstanceView[] {
    return this.instances
      .filter((i) => i.version === version)
      .map((i) => ({ id: i.id, phase: i.phase, available: isAvailable(i, this.scenario.checks), killing: i.killing, since: i.since }));
  }

  healthy(): number {
    return this.instances.filter((i) => this.available(i)).length;
  }

  count(version: 'old' | 'new'): number {
    return this.instances.filter((i) => i.version === version).length;
  }

  /** Asks for the next decision, checks it, applies it. */
  decide(): ReplacementDecision {
    const { scenario } = this;
    const decision = nextReplacementStep({
      target: scenario.target,
      upgradeStrategy: scenario.strategy,
      killSelection: scenario.killSelection ?? 'YOUNGEST_FIRST',
      oldInstances: this.views('old'),
      newInstances: this.views('new'),
    });
    const { minHealthy, maxCapacity } = decision.limits;
    const healthyBefore = this.healthy();
    const liveNewBefore = this.instances.filter((i) => i.version === 'new' && !i.killing).length;
    assert.equal(new Set(decision.kill).size, decision.kill.length, 'an instance is killed once');
    for (const id of decision.kill) {
      const instance = this.instances.find((i) => i.id === id);
      assert.ok(instance && !instance.killing, `${id} is there and not already being killed`);
      if (instance.version === 'new') assert.ok(liveNewBefore > scenario.target, `new ${id} is killed only beyond the target`);
      instance.killing = true;
    }
    assert.ok(this.healthy() >= Math.min(minHealthy, healthyBefore), `kills keep ${Math.min(minHealthy, healthyBefore)} healthy: ${this.healthy()} left`);
    if (decision.start > 0) assert.ok(this.instances.length + decision.start <= maxCapacity, `starting ${decision.start} over ${this.instances.length} stays within ${maxCapacity}`);
    for (let n = 0; n < decision.start; n++) {
      this.instances.push({ id: this.nextId('new'), version: 'new', phase: 'staging', healthy: null, ready: null, killing: false, since: this.tick() });
    }
    if (decision.done) {
      assert.equal(this.count('old'), 0, 'done: no old instance left');
      assert.equal(this.count('new'), scenario.target, 'done: the target count of new ones');
      assert.equal(this.healthy(), scenario.target, 'done: all of them healthy');
    }
    this.decisions.push(decision);
    return decision;
  }

  /** The events that can happen now. */
  possible(): WorldEvent[] {
    const events: WorldEvent[] = [];
    const is = (f: (i: SimInstance) => boolean) => this.instances.some(f);
    if (is((i) => i.killing)) events.push('killsEnd');
    if (is((i) => i.version === 'new' && i.phase === 'staging' && !i.killing)) events.push('newRun');
    if (is((i) => this.canPass(i, 'healthy'))) events.push('newHealthy');
    if (is((i) => this.canPass(i, 'ready'))) events.push('newReady');
    if (this.scenario.checks.health && is((i) => i.version === 'new' && i.phase === 'running' && i.healthy === null && !i.killing)) events.push('newUnhealthy');
    if (is((i) => i.version === 'new' && !i.killing)) events.push('newCrash');
    if (is((i) => i.version === 'old' && !i.killing)) events.push('oldCrash');
    return events;
  }

  /** A running new instance whose version has that check and has not passed it yet. */
  private canPass(i: SimInstance, check: 'healthy' | 'ready'): boolean {
    const checked = check === 'healthy' ? this.scenario.checks.health : this.scenario.checks.readiness;
    return checked && i.version === 'new' && i.phase === 'running' && !i.killing && i[check] !== true;
  }

  apply(event: WorldEvent, pick: (n: number) => number = () => 0): void {
    const one = (f: (i: SimInstance) => boolean): SimInstance => {
      const candidates = this.instances.filter(f);
      assert.ok(candidates.length > 0, `${event}: nothing it can happen to`);
      return candidates[pick(candidates.length)]!;
    };
    switch (event) {
      case 'killsEnd':
        this.instances = this.instances.filter((i) => !i.killing);
        break;
      case 'newRun':
        for (const i of this.instances) if (i.version === 'new' && i.phase === 'staging' && !i.killing) Object.assign(i, { phase: 'running', since: this.tick() });
        break;
      case 'newHealthy':
        one((i) => this.canPass(i, 'healthy')).healthy = true;
        break;
      case 'newReady':
        one((i) => this.canPass(i, 'ready')).ready = true;
        break;
      case 'newUnhealthy':
        one((i) => i.version === 'new' && i.phase === 'running' && i.healthy === null && !i.killing).healthy = false;
        break;
      case 'newCrash': {
        const gone = one((i) => i.version === 'new' && !i.killing);
        this.instances = this.instances.filter((i) => i !== gone);
        break;
      }
      case 'oldCrash': {
        const gone = one((i) => i.version === 'old' && !i.killing);
        this.instances = this.instances.filter((i) => i !== gone);
        break;
      }
    }
  }
}

/** A seeded generator (mulberry32): the same seed, the same run. */
export const seeded = seededRng;
