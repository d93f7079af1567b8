// The engine's container events (create, start, health_status, die, destroy) as they happen, from the
// Docker API's event stream, with the engine's own nanosecond times: for Swarm the measure of "healthy"
// (its tasks' containers carry a HEALTHCHECK) and for both contenders the breakdown of where the time
// goes (the engine created the container, started it). One stream per phase, filtered by a label.
import Docker from 'dockerode';

export interface ContainerTimes {
  id: string;
  labels: Record<string, string>;
  /** ms since the epoch, from the engine's timeNano. */
  created?: number;
  started?: number;
  healthy?: number;
  died?: number;
}

export class ContainerEvents {
  readonly containers = new Map<string, ContainerTimes>();
  private readonly waiters = new Set<() => void>();
  private stream: NodeJS.ReadableStream | undefined;

  /** Starts following container events whose labels match `label` (`key` or `key=value`). */
  static async start(label: string, keep: (labels: Record<string, string>) => boolean = () => true): Promise<ContainerEvents> {
    const events = new ContainerEvents();
    const docker = new Docker();
    const stream = (await docker.getEvents({ filters: JSON.stringify({ type: ['container'], label: [label] }) })) as unknown as NodeJS.ReadableStream;
    events.stream = stream;
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) events.take(JSON.parse(line), keep);
      }
    });
    stream.on('error', () => undefined);
    return events;
  }

  private take(event: { Action?: string; id?: string; timeNano?: number; Actor?: { ID: string; Attributes: Record<string, string> } }, keep: (labels: Record<string, string>) => boolean): void {
    const id = event.Actor?.ID ?? event.id;
    if (!id || !event.Action) return;
    const labels = event.Actor?.Attributes ?? {};
    if (!keep(labels)) return;
    let c = this.containers.get(id);
    if (!c) this.containers.set(id, (c = { id, labels }));
    const at = (event.timeNano ?? Date.now() * 1e6) / 1e6;
    if (event.Action === 'create') c.created = at;
    else if (event.Action === 'start') c.started = at;
    else if (event.Action === 'health_status: healthy') c.healthy ??= at;
    else if (event.Action === 'health_status: unhealthy') c.healthy = undefined;
    else if (event.Action === 'die') c.died ??= at;
    for (const wake of this.waiters) wake();
  }

  /** Containers created at or after `since` (ms) that are healthy and have not died. */
  healthySince(since: number): ContainerTimes[] {
    return [...this.containers.values()].filter((c) => c.created !== undefined && c.created >= since && c.healthy !== undefined && c.died === undefined);
  }

  /** Containers created at or after `since` (ms) that have died since. */
  diedSince(since: number): ContainerTimes[] {
    return [...this.containers.values()].filter((c) => c.created !== undefined && c.created >= since && c.died !== undefined);
  }

  createdSince(since: number): ContainerTimes[] {
    return [...this.containers.values()].filter((c) => c.created !== undefined && c.created >= since);
  }

  /**
   * Resolves once `done()` holds after some event; throws after `timeoutMs` with `state()`, or as soon as
   * `failed()` names a reason (containers dying over and over: no point waiting out the timeout).
   */
  until(done: () => boolean, timeoutMs: number, what: string, state: () => string, failed: () => string | null = () => null): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const why = failed();
        if (why !== null) {
          finish();
          reject(new Error(`gave up waiting for ${what}: ${why} (${state()})`));
          return;
        }
        if (!done()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (${state()})`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  stop(): void {
    (this.stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }
}
