// The built-in load balancer: Gantry's embedded default, nothing to install. Each service port is a
// listener in this process (TCP or HTTP mode) and apply() changes what runs in place, as HAProxy's
// runtime API would and without a reload: a listener added is bound, one removed stops accepting while
// its connections finish, routes and servers change under the connections that are open.
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { SerialLane } from '../../shared/serial-lane.ts';
import { systemTimers, type Timers } from '../../shared/timers.ts';
import type { LbDataPlane, LbModel, LbServerStatus } from '../model.ts';
import { DEFAULT_EJECTION, type EjectionPolicy } from './ejection.ts';
import { ProxyListener, type ListenerOptions } from './listener.ts';

export interface BuiltinDataPlaneOptions {
  logger: Logger;
  /** The address the listeners bind: every interface by default. */
  bindHost?: string;
  clock?: Clock;
  timers?: Timers;
  /** Passive ejection: failures in a row, first period, longest period. */
  ejection?: Partial<EjectionPolicy>;
  /** Other servers tried after a connection failed before reaching one (default 2). */
  retries?: number;
  /** How long a connection to a server may take to be established (default 2000 ms). */
  connectTimeoutMs?: number;
}

export class BuiltinDataPlane implements LbDataPlane {
  readonly kind = 'builtin' as const;
  private readonly bindHost: string;
  private readonly options: ListenerOptions;
  private readonly listeners = new Map<number, ProxyListener>();
  /** Removed (or changing mode) with connections still open. */
  private readonly stopping = new Set<ProxyListener>();
  private readonly lane = new SerialLane();
  private closed = false;

  constructor(options: BuiltinDataPlaneOptions) {
    this.bindHost = options.bindHost ?? '0.0.0.0';
    this.options = {
      logger: options.logger,
      clock: options.clock ?? systemClock,
      timers: options.timers ?? systemTimers,
      ejection: { ...DEFAULT_EJECTION, ...options.ejection },
      retries: options.retries ?? 2,
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    };
  }

  /** Makes the listeners those of `model`; a port that cannot be bound is reported by status(), not thrown. */
  apply(model: LbModel): Promise<void> {
    return this.lane.run(async () => {
      if (this.closed) return;
      const wanted = new Map(model.listeners.map((spec) => [spec.port, spec]));
      for (const [port, listener] of this.listeners) {
        const spec = wanted.get(port);
        if (spec !== undefined && spec.mode === listener.mode) continue;
        this.listeners.delete(port);
        this.stop(listener);
      }
      for (const spec of wanted.values()) {
        const listener = this.listeners.get(spec.port);
        if (listener === undefined) this.listeners.set(spec.port, new ProxyListener(spec, this.options));
        else listener.update(spec.routes);
      }
      // Binds the new listeners, and again those that failed to bind before.
      await Promise.all([...this.listeners.values()].map((listener) => listener.listen(this.bindHost)));
      this.options.logger.debug({ version: model.version, listeners: this.listeners.size }, 'load balancer: model applied');
    });
  }

  async status(): Promise<{ healthy: boolean; message: string | null; servers: LbServerStatus[] }> {
    const listeners = [...this.listeners.values()];
    const failures = listeners.filter((l) => l.bindError !== null).map((l) => `port ${l.port}: ${l.bindError}`);
    return {
      healthy: failures.length === 0,
      message: failures.length === 0 ? null : `cannot listen on ${failures.join('; ')}`,
      servers: listeners.flatMap((l) => l.routes.status()),
    };
  }

  /** Stops every listener and ends every connection. */
  close(): Promise<void> {
    this.closed = true;
    return this.lane.run(async () => {
      const all = [...this.listeners.values(), ...this.stopping];
      this.listeners.clear();
      await Promise.all(all.map((listener) => listener.destroy()));
    });
  }

  private stop(listener: ProxyListener): void {
    this.stopping.add(listener);
    void listener.stop().then(() => this.stopping.delete(listener));
  }
}
