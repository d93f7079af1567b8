// The apps' endpoints as service discovery needs them: per app, its exposure (ports, service ports,
// labels) and the instances that serve (`up`: running, and healthy and ready where its version has those
// checks) or are going away (`draining`: running, its kill asked for, out of DNS and load balancers
// while its shutdown delay lets it finish what it was sent), at their agent's host and host ports, or on
// a container network at their own address and container ports. Read from the runtime's instances (the
// pool's tasks, watched: never polled); `watch` tells which app changed, discovery reads it again.
import { checksOf, isAvailable } from '../deployments/index.ts';
import type { AppsRuntime } from '../runtime/apps-runtime.ts';
import type { TrackedInstance } from '../runtime/instance-tracker.ts';
import { exposureOf, type AppExposure } from './exposure.ts';

export interface EndpointInstance {
  instanceId: string;
  taskId: string;
  /** The agent's hostname. */
  host: string;
  /**
   * Its own IP address on its container network, where it is reached (DNS names it, load balancers
   * send to it); null: it is reached at its agent's host.
   */
  address: string | null;
  /** By port index: the host ports, or with an address the container's own ports. */
  ports: number[];
  state: 'up' | 'draining';
}

export interface AppEndpoints extends AppExposure {
  instances: EndpointInstance[];
  /** During a blue-green switch, the app's share of its group's new requests (0..100); else null. */
  trafficShare: number | null;
}

export class AppEndpointsFeed {
  /** Told of changes that are not the runtime's (a blue-green share). */
  private readonly listeners = new Set<(appId: string) => void>();

  constructor(
    private readonly runtime: AppsRuntime,
    private readonly shareOf: (appId: string) => number | null = () => null,
  ) {}

  list(): AppEndpoints[] {
    return this.runtime.allApps().map((state) => this.get(state.record.id)!);
  }

  /** The app's endpoints; null once it is removed (its instances still draining serve no new work). */
  get(appId: string): AppEndpoints | null {
    const state = this.runtime.app(appId);
    if (!state) return null;
    const instances = this.runtime.tracker
      .instancesOf(appId)
      .flatMap((instance) => {
        const endpoint = this.endpointOf(instance, state.current.definition);
        return endpoint ? [endpoint] : [];
      })
      .sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
    return { ...exposureOf(state.current.definition), instances, trafficShare: this.shareOf(appId) };
  }

  /** Calls `listener` with the id of an app whose endpoints may have changed. */
  watch(listener: (appId: string) => void): () => void {
    const unwatch = this.runtime.watchApps(listener);
    this.listeners.add(listener);
    return () => {
      unwatch();
      this.listeners.delete(listener);
    };
  }

  /** The app's endpoints changed outside the runtime (its traffic share). */
  announce(appId: string): void {
    for (const listener of this.listeners) listener(appId);
  }

  private endpointOf(instance: TrackedInstance, current: Parameters<typeof checksOf>[0]): EndpointInstance | null {
    const { task } = instance;
    if (task.state !== 'running' || !task.allocation?.host) return null;
    const checks = checksOf(this.runtime.definitionOf(instance) ?? current);
    const serving = isAvailable({ phase: 'running', healthy: task.health === null ? null : task.health === 'healthy', ready: task.ready }, checks);
    if (!serving) return null;
    const { host, ports } = task.allocation;
    // On a container network: its address there and the ports it listens on inside (0: the host port's number).
    const inside = task.address !== null ? ports.map((port, i) => task.spec.containerPorts?.[i] || port) : null;
    return {
      instanceId: instance.instanceId,
      taskId: task.id,
      host,
      address: task.address,
      ports: inside ?? [...ports],
      state: task.killRequested ? 'draining' : 'up',
    };
  }
}
