// The service catalog: which instances of every app serve (up) or are going away (draining), at which
// address and ports (their agent's, resolved once; or their own on a container network), and how each
// port is exposed. Built from apps' endpoints (an `EndpointsSource`, wired in main.ts), kept up to date
// by their change events, never by polling: each change of an app rebuilds that app's entry only, and
// listeners get the new snapshot at once.
import type { Logger } from 'pino';
import type { CatalogFeed, CatalogSnapshot, Service, ServiceBackend } from '../model.ts';
import { readExposure, type Exposure } from '../exposure/exposure.ts';
import { HostAddresses } from './host-addresses.ts';

/** An app's endpoints as apps hand them (apps' `AppEndpoints`, the same shape). */
export interface Endpoints extends Exposure {
  /**
   * `address`: the instance's own IP on its container network, with `ports` its container ports; null
   * (or absent): reached at `host` (resolved here) on its host ports.
   */
  instances: Array<{ instanceId: string; taskId: string; host: string; address?: string | null; ports: number[]; state: 'up' | 'draining' }>;
  /** During a blue-green switch, the app's share of its group's new requests (0..100); else null. */
  trafficShare: number | null;
}

export interface EndpointsSource {
  list(): Endpoints[];
  get(appId: string): Endpoints | null;
  watch(listener: (appId: string) => void): () => void;
}

/** HAProxy's default weight; blue-green shares are turned into weights per route (lb-model.ts). */
export const DEFAULT_WEIGHT = 100;

export class ServiceCatalog implements CatalogFeed {
  private readonly services = new Map<string, Service>();
  private readonly listeners = new Set<(snapshot: CatalogSnapshot) => void>();
  private readonly addresses: HostAddresses;
  /** Apps with a backend whose host's address is being looked up, by host. */
  private readonly waitingForHost = new Map<string, Set<string>>();
  private version = 0;
  private snapshotHeld: CatalogSnapshot | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly source: EndpointsSource,
    private readonly logger?: Logger,
    resolve?: (host: string) => Promise<string>,
  ) {
    this.addresses = new HostAddresses(
      (host) => this.hostResolved(host),
      resolve,
      (host, err) => this.logger?.warn({ host, err: err.message }, 'an agent\'s hostname does not resolve: its instances stay out of DNS and load balancers'),
    );
  }

  /** Reads every app, then follows their changes. */
  start(): void {
    this.unwatch = this.source.watch((appId) => this.refresh(appId));
    for (const endpoints of this.source.list()) this.refresh(endpoints.appId);
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  snapshot(): CatalogSnapshot {
    this.snapshotHeld ??= { version: this.version, services: [...this.services.values()].sort((a, b) => (a.appId < b.appId ? -1 : 1)) };
    return this.snapshotHeld;
  }

  subscribe(listener: (snapshot: CatalogSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  service(appId: string): Service | undefined {
    return this.services.get(appId);
  }

  /** Builds the app's entry again; tells the listeners when it changed. */
  refresh(appId: string): void {
    const endpoints = this.source.get(appId);
    const next = endpoints ? this.serviceOf(endpoints) : undefined;
    const held = this.services.get(appId);
    if (JSON.stringify(next) === JSON.stringify(held)) return;
    if (next) this.services.set(appId, next);
    else this.services.delete(appId);
    this.version += 1;
    this.snapshotHeld = undefined;
    const snapshot = this.snapshot();
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        this.logger?.error({ err: (err as Error).message }, 'a catalog listener failed');
      }
    }
  }

  private serviceOf(endpoints: Endpoints): Service {
    const { specs, deploymentGroup } = readExposure(endpoints);
    const backends: ServiceBackend[] = [];
    for (const instance of endpoints.instances) {
      // An instance on a container network has an address of its own: no hostname to resolve.
      const address = instance.address ?? this.addresses.addressOf(instance.host);
      if (address === undefined) {
        const apps = this.waitingForHost.get(instance.host) ?? new Set<string>();
        apps.add(endpoints.appId);
        this.waitingForHost.set(instance.host, apps);
        continue;
      }
      backends.push({ appId: endpoints.appId, instanceId: instance.instanceId, taskId: instance.taskId, host: instance.host, address, ports: instance.ports, state: instance.state, weight: DEFAULT_WEIGHT });
    }
    return { appId: endpoints.appId, deploymentGroup, share: endpoints.trafficShare, ports: specs, backends };
  }

  private hostResolved(host: string): void {
    const apps = this.waitingForHost.get(host);
    this.waitingForHost.delete(host);
    for (const appId of apps ?? []) this.refresh(appId);
  }
}
