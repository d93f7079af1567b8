// The managed HAProxy as Gantry's load balancer (`lb: haproxy`): the model applied by the smallest means
// that does it. Servers that come, go, drain or change weight within the routes HAProxy has are runtime
// API commands on their slots, no reload (the configuration file is rewritten to match, for the next
// start or reload); new listeners or routes, or a route that outgrew its slots, are a new configuration,
// checked with `haproxy -c`, then a seamless reload. A configuration HAProxy refuses, or a port another
// process holds, leaves the last good one serving (its servers still follow the model where they can),
// and status() says why.
import { mkdirSync, chmodSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { SerialLane } from '../../shared/serial-lane.ts';
import type { LbDataPlane, LbModel, LbServerStatus } from '../model.ts';
import { backendNames, configStructure, renderHaproxyConfig } from './haproxy-config.ts';
import { HaproxyProcess } from './haproxy-process.ts';
import type { HaproxyServerStat } from './haproxy-runtime.ts';
import { assignSlots, drainingSlots, slotChanges, slotName, type SlotChange, type SlotTable } from './haproxy-slots.ts';

export interface HaproxyDataPlaneOptions {
  /** Configuration, sockets and pid file live here (made 0700). */
  workDir: string;
  binary?: string;
  bindHost: string;
  logger: Logger;
  /** How long a worker replaced by a reload may finish its connections. Default 5 minutes. */
  hardStopAfterMs?: number;
  /** close(): how long open connections may finish before HAProxy is stopped hard. Default 10 s. */
  stopTimeoutMs?: number;
  restartDelays?: { initialMs: number; maxMs: number };
  /** Before a reload, find new listeners' ports held by another process ourselves (default), rather than let HAProxy fail to bind them. */
  precheckPorts?: boolean;
}

/** What HAProxy runs (or, when it is down, what it will run at its next start): the file on disk. */
interface Applied {
  model: LbModel;
  slots: SlotTable;
  config: string;
}

export class HaproxyDataPlane implements LbDataPlane {
  readonly kind = 'haproxy' as const;
  readonly configFile: string;
  readonly statsSocket: string;
  readonly masterSocket: string;
  readonly process: HaproxyProcess;
  private readonly pidFile: string;
  private readonly lane = new SerialLane();
  private applied: Applied | null = null;
  /** Why the last model was not taken (the one HAProxy serves is older), or null. */
  private failure: string | null = null;
  private closed = false;

  constructor(private readonly options: HaproxyDataPlaneOptions) {
    const dir = path.resolve(options.workDir);
    this.configFile = path.join(dir, 'haproxy.cfg');
    this.statsSocket = path.join(dir, 'haproxy.sock');
    this.masterSocket = path.join(dir, 'master.sock');
    this.pidFile = path.join(dir, 'haproxy.pid');
    // sun_path holds 108 bytes; HAProxy adds a suffix to the path while it binds.
    if (Buffer.byteLength(this.masterSocket) > 90) throw new Error(`HAProxy's work directory path is too long for its unix sockets: ${dir}`);
    this.process = new HaproxyProcess({
      binary: options.binary ?? 'haproxy',
      configFile: this.configFile,
      masterSocket: this.masterSocket,
      pidFile: this.pidFile,
      logger: options.logger,
      ...(options.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: options.stopTimeoutMs }),
      ...(options.restartDelays === undefined ? {} : { restartDelays: options.restartDelays }),
      // Not awaited: the restart runs in the process's lane, which an apply may be waiting on.
      onRestart: async () => void this.lane.run(() => this.syncDraining()).catch(() => undefined),
    });
  }

  apply(model: LbModel): Promise<void> {
    return this.lane.run(async () => {
      if (this.closed) throw new Error('the HAProxy data plane is closed');
      try {
        await this.applyNow(model);
        this.failure = null;
      } catch (err) {
        this.failure = (err as Error).message;
        throw err;
      }
    });
  }

  async status(): Promise<{ healthy: boolean; message: string | null; servers: LbServerStatus[] }> {
    const applied = this.applied;
    const health = this.process.health();
    const healthy = health.healthy && this.failure === null;
    const message = this.failure ?? health.message;
    if (applied === null) return { healthy, message, servers: [] };
    let stats: HaproxyServerStat[] | null = null;
    let statsError = 'HAProxy is not running';
    if (this.process.running()) {
      stats = await this.process
        .runtime()
        .stats()
        .catch((err: Error) => {
          statsError = err.message;
          return null;
        });
    }
    if (stats !== null) statsError = "not in HAProxy's statistics";
    const byServer = new Map((stats ?? []).map((stat) => [`${stat.backend}/${stat.server}`, stat]));
    const names = backendNames(applied.model);
    const servers: LbServerStatus[] = [];
    for (const [route, slots] of applied.slots) {
      slots.forEach((slot, index) => {
        if (slot === null) return;
        const stat = byServer.get(`${names.get(route)}/${slotName(index)}`);
        const base = { id: slot.id, route, address: slot.address, port: slot.port };
        if (stat === undefined) servers.push({ ...base, state: 'down', connections: 0, reason: statsError });
        else servers.push({ ...base, ...serverState(stat), connections: stat.scur });
      });
    }
    return { healthy, message, servers };
  }

  close(): Promise<void> {
    return this.lane.run(async () => {
      this.closed = true;
      await this.process.stop();
    });
  }

  private async applyNow(model: LbModel): Promise<void> {
    const applied = this.applied;
    if (applied === null) {
      await this.firstStart(model);
      return;
    }
    if (!this.process.running()) {
      // Down between a crash and its restart: start it now, on the file, which is what `applied` says.
      await this.process.start();
      await this.syncDraining();
    }
    if (await this.applyAtRuntime(applied, model)) return;
    await this.reload(applied, model);
  }

  private async firstStart(model: LbModel): Promise<void> {
    mkdirSync(this.options.workDir, { recursive: true, mode: 0o700 });
    chmodSync(this.options.workDir, 0o700);
    const slots = assignSlots(model);
    const config = this.render(model, slots);
    renameSync(await this.checked(config), this.configFile);
    await this.process.start();
    this.applied = { model, slots, config };
    await this.syncDraining();
  }

  /** Applies `model` with runtime commands alone when it can; false when it needs a new configuration. */
  private async applyAtRuntime(applied: Applied, model: LbModel): Promise<boolean> {
    const slots = assignSlots(model, applied.slots);
    const config = this.render(model, slots);
    const changes = slotChanges(applied.slots, slots);
    if (changes === null || configStructure(config) !== configStructure(applied.config)) return false;
    try {
      await this.send(changes, backendNames(model));
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'a runtime change failed: reloading the configuration instead');
      return false;
    }
    this.writeFile(this.configFile, config);
    this.applied = { model, slots, config };
    if (changes.length > 0) this.options.logger.info({ version: model.version, changes: changes.length }, 'HAProxy servers changed at runtime');
    return true;
  }

  private async reload(applied: Applied, model: LbModel): Promise<void> {
    const slots = assignSlots(model, applied.slots);
    const config = this.render(model, slots);
    try {
      const next = await this.checked(config);
      if (this.options.precheckPorts !== false) await this.checkNewPorts(applied.model, model);
      renameSync(next, this.configFile);
      const result = await this.process.reload().catch((err: Error) => {
        this.writeFile(this.configFile, applied.config);
        throw err;
      });
      this.applied = { model, slots, config };
      if (result === 'reloaded') await this.syncDraining();
      this.options.logger.info({ version: model.version }, 'HAProxy took a new configuration');
    } catch (err) {
      await this.followOnOldConfig(applied, model);
      throw err;
    }
  }

  /**
   * The new configuration was refused: HAProxy serves the last good one. Its routes that the model still
   * has get the model's servers where runtime commands can give them, so that what runs is not older
   * than it has to be.
   */
  private async followOnOldConfig(applied: Applied, model: LbModel): Promise<void> {
    const routes = new Map(model.listeners.flatMap((listener) => listener.routes.map((route) => [route.name, route])));
    const merged: LbModel = {
      version: applied.model.version,
      listeners: applied.model.listeners.map((listener) => ({
        ...listener,
        routes: listener.routes.map((route) => ({ ...route, servers: routes.get(route.name)?.servers ?? route.servers })),
      })),
    };
    try {
      await this.applyAtRuntime(applied, merged);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'the servers of the routes HAProxy still has were not updated');
    }
  }

  private render(model: LbModel, slots: SlotTable): string {
    return renderHaproxyConfig(model, {
      bindHost: this.options.bindHost,
      slots,
      statsSocket: this.statsSocket,
      pidFile: this.pidFile,
      ...(this.options.hardStopAfterMs === undefined ? {} : { hardStopAfterMs: this.options.hardStopAfterMs }),
    });
  }

  /** Writes `config` next to the configuration file and has `haproxy -c` check it: its path, or HAProxy's reasons thrown. */
  private async checked(config: string): Promise<string> {
    const next = `${this.configFile}.next`;
    this.writeFile(next, config);
    const problem = await this.process.check(next);
    if (problem !== null) throw new Error(`HAProxy refused the new configuration: ${problem}`);
    return next;
  }

  private writeFile(file: string, text: string): void {
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, file);
  }

  /**
   * A port the new configuration listens on that another process holds would fail the reload, and
   * HAProxy's attempt pauses the old worker's listeners meanwhile: find it first.
   */
  private async checkNewPorts(before: LbModel, after: LbModel): Promise<void> {
    const had = new Set(before.listeners.map((listener) => listener.port));
    for (const listener of after.listeners) {
      if (had.has(listener.port)) continue;
      const problem = await bindProblem(this.options.bindHost, listener.port);
      if (problem !== null) throw new Error(`HAProxy cannot listen on ${this.options.bindHost}:${listener.port}: ${problem}`);
    }
  }

  private async send(changes: readonly SlotChange[], names: ReadonlyMap<string, string>): Promise<void> {
    if (changes.length === 0) return;
    const runtime = this.process.runtime();
    for (const change of changes) {
      const { route, slot, ...settings } = change;
      const backend = names.get(route);
      if (backend === undefined) throw new Error(`no backend for route ${route}`);
      await runtime.setServer(backend, slotName(slot), settings);
    }
  }

  /** A configuration cannot start a server draining: after each start and reload, the runtime API does. */
  private async syncDraining(): Promise<void> {
    const applied = this.applied;
    if (applied === null || !this.process.running()) return;
    try {
      await this.send(drainingSlots(applied.slots), backendNames(applied.model));
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'draining servers were not put in drain');
    }
  }
}

/** HAProxy's words for a server → the model's. */
function serverState(stat: HaproxyServerStat): Pick<LbServerStatus, 'state' | 'reason'> {
  const status = stat.status.toUpperCase();
  if (status.startsWith('DRAIN') || status.startsWith('NOLB')) return { state: 'draining', reason: null };
  if (status.startsWith('MAINT') || status.startsWith('DOWN')) {
    return { state: 'down', reason: `HAProxy says ${stat.status}${stat.checkStatus ? ` (${stat.checkStatus})` : ''}` };
  }
  return { state: 'up', reason: null };
}

/** Why nothing can listen on host:port now (in use, not permitted), or null. */
function bindProblem(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'the port is in use by another process' : err.message));
    try {
      probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(null)));
    } catch (err) {
      resolve((err as Error).message);
    }
  });
}
