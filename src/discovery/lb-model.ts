// The catalog as a load balancer sees it (pure): a listener per service port, and one shared HTTP
// listener for virtual hosts, each with its routes and servers. Both data planes (the built-in proxy
// and HAProxy) apply this same model. Apps of one deployment group that share a service port or
// virtual host share its route: their servers side by side, each with its weight (blue-green, canary).
import type { CatalogSnapshot, LbListener, LbModel, LbRoute, LbServer, Service, ServicePortSpec } from './model.ts';

export interface LbModelOptions {
  /** The port virtual hosts are served on (marathon-lb's 80). */
  httpPort: number;
  /** The HAPROXY_GROUPs this load balancer serves; `*`: all. */
  groups: readonly string[];
}

export function lbModelOf(snapshot: CatalogSnapshot, options: LbModelOptions): LbModel {
  const byPort = new Map<number, { mode: 'tcp' | 'http'; routes: Map<string, LbRoute> }>();
  const vhostRoutes = new Map<string, LbRoute>();
  const serves = (spec: ServicePortSpec): boolean => spec.protocol === 'tcp' && (options.groups.includes('*') || options.groups.includes(spec.group));

  for (const service of snapshot.services) {
    for (const spec of service.ports) {
      if (!serves(spec)) continue;
      const servers = serversOf(service, spec);
      if (spec.servicePort !== null) {
        const listener = byPort.get(spec.servicePort) ?? { mode: spec.mode, routes: new Map() };
        byPort.set(spec.servicePort, listener);
        // One route per service port: apps sharing it (one deployment group) add their servers to it.
        const key = String(spec.servicePort);
        const route = listener.routes.get(key) ?? newRoute(`${safeName(service.appId)}_${spec.servicePort}`, spec, [], listener.mode === 'http' ? spec.path : null);
        join(route, service.appId, servers);
        listener.routes.set(key, route);
      }
      if (spec.mode === 'http' && spec.vhosts.length > 0) {
        const key = `${[...spec.vhosts].sort().join(',')} ${spec.path ?? ''}`;
        const route = vhostRoutes.get(key) ?? newRoute(`${safeName(service.appId)}_vhost_${spec.index}`, spec, [...spec.vhosts].sort(), spec.path);
        join(route, service.appId, servers);
        vhostRoutes.set(key, route);
      }
    }
  }

  const shares = new Map(snapshot.services.map((s) => [s.appId, s.share]));
  for (const route of [...[...byPort.values()].flatMap((l) => [...l.routes.values()]), ...vhostRoutes.values()]) weighByShares(route, shares);
  const listeners: LbListener[] = [...byPort.entries()].map(([port, l]) => ({ port, mode: l.mode, routes: [...l.routes.values()] }));
  if (vhostRoutes.size > 0 && !byPort.has(options.httpPort)) {
    listeners.push({ port: options.httpPort, mode: 'http', routes: [...vhostRoutes.values()].sort(bySpecificity) });
  }
  listeners.sort((a, b) => a.port - b.port);
  return { version: snapshot.version, listeners };
}

function serversOf(service: Service, spec: ServicePortSpec): LbServer[] {
  return service.backends
    .filter((b) => b.ports[spec.index] !== undefined && b.ports[spec.index]! > 0)
    .map((b) => ({ id: `${b.taskId}:${spec.index}`, appId: b.appId, address: b.address, port: b.ports[spec.index]!, weight: b.weight, draining: b.state === 'draining' }));
}

function newRoute(name: string, spec: ServicePortSpec, hosts: string[], pathPrefix: string | null): LbRoute {
  return { name, appIds: [], hosts, pathPrefix, balance: spec.balance, servers: [] };
}

function join(route: LbRoute, appId: string, servers: LbServer[]): void {
  if (!route.appIds.includes(appId)) route.appIds.push(appId);
  route.servers.push(...servers);
  route.servers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** HAProxy's largest weight: shares are spread over this range. */
const MAX_WEIGHT = 256;

/**
 * During a blue-green switch the apps of a route split its new requests by their shares, whatever their
 * instance counts: each app's servers get its share divided by how many of them take requests, scaled
 * so the heaviest is 256 (an app at 0 % gets weight 0: its open connections finish, no new ones come).
 */
function weighByShares(route: LbRoute, shares: ReadonlyMap<string, number | null>): void {
  if (!route.appIds.some((appId) => (shares.get(appId) ?? null) !== null)) return;
  const perServer = new Map<string, number>();
  for (const appId of route.appIds) {
    const serving = route.servers.filter((s) => s.appId === appId && !s.draining).length;
    const share = shares.get(appId) ?? 100;
    perServer.set(appId, serving === 0 ? 0 : share / serving);
  }
  const heaviest = Math.max(...perServer.values());
  for (const server of route.servers) {
    const each = perServer.get(server.appId) ?? 0;
    server.weight = heaviest === 0 || each === 0 ? 0 : Math.max(1, Math.round((each / heaviest) * MAX_WEIGHT));
  }
}

/** Routes with hosts before those for any host; a longer path before a shorter; then by name (stable). */
function bySpecificity(a: LbRoute, b: LbRoute): number {
  const hosts = Number(b.hosts.length > 0) - Number(a.hosts.length > 0);
  if (hosts !== 0) return hosts;
  const paths = (b.pathPrefix?.length ?? 0) - (a.pathPrefix?.length ?? 0);
  if (paths !== 0) return paths;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** `/prod/web` → `prod_web`: letters, digits, `_`, `-` and `.` only (HAProxy's names). */
export function safeName(appId: string): string {
  return appId.replace(/^\//, '').replace(/[^A-Za-z0-9_.-]+/g, '_') || 'root';
}
