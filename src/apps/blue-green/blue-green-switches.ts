// Carries blue-green switches through (switch-plan.ts decides, this acts): starts the green as a second
// app of the live one's deployment group, moves traffic step by step as the green stays fully healthy,
// holds the blue for the rollback window, then removes it; an abort (asked, or the green failing) sends
// all traffic back and removes the green. Each move is written compare-and-set before it is acted on,
// and a server that starts again picks its switches up where they stand. The shares reach discovery
// through the apps' endpoints (trafficShare).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { Conflict, NotFound } from '../../shared/errors.ts';
import type { Timers, TimerHandle } from '../../shared/timers.ts';
import { ACTIVE_PHASES, greenShare, nextSwitchMove, otherColour, type GreenFacts, type SwitchDecision, type SwitchSettings } from './switch-plan.ts';
import type { SwitchRecord, SwitchStore } from './switch-store.ts';

/** What the switches need of the apps (AppsService gives it). */
export interface SwitchHost {
  exists(appId: string): boolean;
  /** How many instances the app wants, how many are up, and whether a deployment of it runs. */
  readiness(appId: string): { wanted: number; up: number; deploying: boolean } | null;
  deploymentState(id: string): Promise<string | null>;
  create(json: Record<string, unknown>): Promise<{ deploymentId: string }>;
  remove(appId: string): Promise<void>;
  /** The app's traffic share changed: discovery reads its endpoints again. */
  announce(appId: string): void;
  watch(listener: (appId: string) => void): () => void;
}

export interface SwitchesOptions {
  store: SwitchStore;
  host: SwitchHost;
  clock: Clock;
  timers: Timers;
  logger: Logger;
}

export class BlueGreenSwitches {
  /** Active switches by id. */
  private readonly active = new Map<string, SwitchRecord>();
  private readonly timers = new Map<string, TimerHandle>();
  /** One tick at a time per switch; a tick asked for meanwhile runs after it. */
  private readonly lanes = new Map<string, { running: Promise<void>; again: boolean; promote: boolean }>();
  private unwatch: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: SwitchesOptions) {}

  async start(): Promise<void> {
    for (const record of await this.options.store.active()) this.active.set(record.id, record);
    this.unwatch = this.options.host.watch((appId) => {
      for (const record of this.active.values()) if (record.green === appId || record.blue === appId) this.tick(record.id);
    });
    for (const record of this.active.values()) {
      this.options.host.announce(record.blue);
      this.options.host.announce(record.green);
      this.tick(record.id);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    for (const handle of this.timers.values()) this.options.timers.clearTimeout(handle);
    await Promise.all([...this.lanes.values()].map((lane) => lane.running));
  }

  /** The app's share of its group's new requests during a switch; null outside one. */
  shareOf(appId: string): number | null {
    for (const record of this.active.values()) {
      const green = greenShare(record.settings, record);
      if (record.green === appId) return green;
      if (record.blue === appId) return 100 - green;
    }
    return null;
  }

  list(): SwitchRecord[] {
    return [...this.active.values()];
  }

  recent(): Promise<SwitchRecord[]> {
    return this.options.store.recent();
  }

  /**
   * Starts the new version (`json`, whose id names the group) as the green of the live app. With no
   * live app of the group, it is simply created (nothing to switch from): null.
   */
  async begin(json: Record<string, unknown>, group: string, settings: SwitchSettings): Promise<{ record: SwitchRecord; deploymentId: string } | null> {
    if (this.groupSwitch(group)) throw new Conflict(`a blue-green switch of ${group} is in progress: promote or abort it first`);
    const colours = [group, otherColour(group, group)].filter((id) => this.options.host.exists(id));
    if (colours.length === 0) return null;
    if (colours.length === 2) throw new Conflict(`both ${colours[0]} and ${colours[1]} exist and no switch is in progress: remove the one that should not serve`);
    const blue = colours[0]!;
    const green = otherColour(group, blue);
    const labels = { ...((json.labels as Record<string, string> | undefined) ?? {}), HAPROXY_DEPLOYMENT_GROUP: group };
    const record: SwitchRecord = {
      id: randomUUID(),
      group,
      blue,
      green,
      settings,
      phase: 'starting',
      step: 0,
      since: this.now(),
      greenDeployment: null,
      reason: null,
      createdAt: new Date(this.now()).toISOString(),
      finishedAt: null,
    };
    await this.options.store.insert(record);
    this.active.set(record.id, record);
    let deploymentId: string;
    try {
      ({ deploymentId } = await this.options.host.create({ ...json, id: green, labels }));
    } catch (err) {
      await this.end(record, 'failed', `the green could not be created: ${(err as Error).message}`);
      throw err;
    }
    await this.options.store.move(record.id, record, { greenDeployment: deploymentId });
    record.greenDeployment = deploymentId;
    this.options.logger.info({ group, blue, green, steps: settings.steps }, 'blue-green switch started');
    this.options.host.announce(blue);
    this.tick(record.id);
    return { record, deploymentId };
  }

  /** Goes on now: the next step without waiting its pause, or the end of the rollback window. */
  promote(appOrGroup: string): SwitchRecord {
    const record = this.find(appOrGroup);
    this.tick(record.id, true);
    return record;
  }

  /** All traffic back to the blue, the green removed. */
  async abort(appOrGroup: string, reason = 'aborted by request'): Promise<SwitchRecord> {
    const record = this.find(appOrGroup);
    await this.lane(record.id);
    await this.goBack(record, reason);
    return record;
  }

  private find(appOrGroup: string): SwitchRecord {
    const record = this.groupSwitch(appOrGroup) ?? [...this.active.values()].find((r) => r.blue === appOrGroup || r.green === appOrGroup);
    if (!record) throw new NotFound(`no blue-green switch of ${appOrGroup} is in progress`);
    return record;
  }

  private groupSwitch(group: string): SwitchRecord | undefined {
    return [...this.active.values()].find((r) => r.group === group);
  }

  /** Settles once the switch's tick (if any) ran. */
  private async lane(id: string): Promise<void> {
    while (this.lanes.has(id)) await this.lanes.get(id)!.running;
  }

  private tick(id: string, promote = false): void {
    if (this.stopped) return;
    const lane = this.lanes.get(id);
    if (lane) {
      lane.again = true;
      lane.promote ||= promote;
      return;
    }
    const next = { running: Promise.resolve(), again: false, promote };
    this.lanes.set(id, next);
    next.running = Promise.resolve().then(async () => {
      do {
        const wantsPromote = next.promote;
        next.again = false;
        next.promote = false;
        const record = this.active.get(id);
        if (!record) break;
        try {
          await this.step(record, wantsPromote);
        } catch (err) {
          this.options.logger.error({ switch: id, err: (err as Error).message }, 'blue-green switch step failed');
        }
      } while (next.again && !this.stopped);
      this.lanes.delete(id);
    });
  }

  private async step(record: SwitchRecord, promote: boolean): Promise<void> {
    const decision = nextSwitchMove(record.settings, record, await this.facts(record), this.now(), promote);
    await this.act(record, decision);
  }

  private async facts(record: SwitchRecord): Promise<GreenFacts> {
    const { host } = this.options;
    if (!host.exists(record.green)) return { healthy: false, failed: `the green ${record.green} was removed` };
    if (record.greenDeployment) {
      const state = await host.deploymentState(record.greenDeployment);
      if (state === 'failed' || state === 'canceled') return { healthy: false, failed: `the green's deployment ${state}` };
    }
    const readiness = host.readiness(record.green);
    const healthy = readiness !== null && !readiness.deploying && readiness.wanted > 0 && readiness.up >= readiness.wanted;
    return { healthy, failed: null };
  }

  private async act(record: SwitchRecord, decision: SwitchDecision): Promise<void> {
    const from = { phase: record.phase, step: record.step };
    switch (decision.kind) {
      case 'wait':
        if (decision.until !== null) this.wake(record.id, decision.until);
        return;
      case 'step':
        if (!(await this.options.store.move(record.id, from, { phase: 'shifting', step: decision.step, since: this.now() }))) return this.reload(record);
        Object.assign(record, { phase: 'shifting', step: decision.step, since: this.now() });
        this.options.logger.info({ group: record.group, share: record.settings.steps[decision.step] }, 'blue-green: traffic shifted to the green');
        break;
      case 'window':
        if (!(await this.options.store.move(record.id, from, { phase: 'window', since: this.now() }))) return this.reload(record);
        Object.assign(record, { phase: 'window', since: this.now() });
        this.options.logger.info({ group: record.group, rollbackWindowMs: record.settings.rollbackWindowMs }, 'blue-green: the green takes everything; the blue is kept for the rollback window');
        break;
      case 'finish':
        if (this.options.host.exists(record.blue)) await this.options.host.remove(record.blue);
        await this.end(record, 'succeeded', null);
        this.options.logger.info({ group: record.group, live: record.green }, 'blue-green switch succeeded: the blue is removed');
        return;
      case 'abort':
        await this.goBack(record, decision.reason);
        return;
    }
    this.announce(record);
    this.tick(record.id);
  }

  private async goBack(record: SwitchRecord, reason: string): Promise<void> {
    if (!ACTIVE_PHASES.includes(record.phase)) return;
    // Traffic first (the blue takes it all again), then the green goes.
    const from = { phase: record.phase, step: record.step };
    if (!(await this.options.store.move(record.id, from, { phase: 'aborted', reason, finishedAt: new Date(this.now()).toISOString() }))) return this.reload(record);
    Object.assign(record, { phase: 'aborted', reason });
    this.active.delete(record.id);
    this.announce(record);
    this.options.logger.warn({ group: record.group, reason }, 'blue-green switch aborted: all traffic back to the blue');
    if (this.options.host.exists(record.green)) await this.options.host.remove(record.green);
  }

  private async end(record: SwitchRecord, phase: 'succeeded' | 'failed', reason: string | null): Promise<void> {
    await this.options.store.move(record.id, record, { phase, reason, finishedAt: new Date(this.now()).toISOString() });
    Object.assign(record, { phase, reason });
    this.active.delete(record.id);
    this.announce(record);
  }

  /** Someone else moved it (another tick): read it again and look once more. */
  private async reload(record: SwitchRecord): Promise<void> {
    const fresh = await this.options.store.get(record.id);
    if (!fresh || !ACTIVE_PHASES.includes(fresh.phase)) this.active.delete(record.id);
    else this.active.set(record.id, fresh);
    this.announce(fresh ?? record);
  }

  private announce(record: SwitchRecord): void {
    this.options.host.announce(record.blue);
    this.options.host.announce(record.green);
  }

  private wake(id: string, at: number): void {
    const held = this.timers.get(id);
    if (held) this.options.timers.clearTimeout(held);
    this.timers.set(
      id,
      this.options.timers.setTimeout(() => {
        this.timers.delete(id);
        this.tick(id);
      }, Math.max(0, at - this.now())),
    );
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }
}
