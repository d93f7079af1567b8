// The one model every part of discovery reads: the service catalog (which apps serve, on which
// addresses and ports, which instances are up or draining) and, derived from it, the load balancer's
// model (listeners, routes, servers) that both data planes apply: the built-in proxy and HAProxy.
// Nothing here knows apps' or the pool's types: main.ts adapts apps' instances to `CatalogFeed`, so
// DNS and load balancing are written and tested against these shapes alone.

/** How one of an app's ports is exposed, from the app's definition and marathon-lb's labels. */
export interface ServicePortSpec {
  /** The app's port index (PORT0, PORT1, ...): a backend's `ports[index]` is where it listens for this port. */
  index: number;
  /** The port's name in the definition (`http`), or null. */
  name: string | null;
  protocol: 'tcp' | 'udp';
  /** The load balancer's port for it (Marathon's service port); null: not load balanced on a port of its own. */
  servicePort: number | null;
  /** HAPROXY_{n}_MODE: `http` routes by host and path and retries; `tcp` passes bytes. `http` when a vhost is set. */
  mode: 'tcp' | 'http';
  /** HAPROXY_{n}_VHOST (comma separated): host names routed to this port on the shared HTTP port. */
  vhosts: string[];
  /** HAPROXY_{n}_PATH: a path prefix the vhost route (or the http service port) matches; null: every path. */
  path: string | null;
  /** HAPROXY_{n}_BALANCE: round robin (default), least connections, or a hash of the client's address. */
  balance: BalanceAlgorithm;
  /** HAPROXY_GROUP: which load balancers serve it (`external` by default, as marathon-lb). */
  group: string;
}

export const BALANCE_ALGORITHMS = ['roundrobin', 'leastconn', 'source'] as const;
export type BalanceAlgorithm = (typeof BALANCE_ALGORITHMS)[number];

/**
 * One instance of a service. `up`: running, healthy and ready (each where the app has the check), so in
 * DNS and sent new requests. `draining`: asked to stop: out of DNS, no new requests, its open
 * connections finish; it gets its SIGTERM only after the drain delay.
 */
export interface ServiceBackend {
  appId: string;
  instanceId: string;
  taskId: string;
  /** The agent's hostname the instance runs on. */
  host: string;
  /** The IP address to reach it at: the agent's (host or bridge networking) or its own on a container network. */
  address: string;
  /** By port index: the port to reach it on at `address` (the host port; on a container network the container's). */
  ports: number[];
  state: 'up' | 'draining';
  /** Share of new requests relative to the other backends of the same route (HAProxy's 0..256); 0: none. */
  weight: number;
}

export interface Service {
  /** Absolute app id: `/prod/web`. */
  appId: string;
  /**
   * HAPROXY_DEPLOYMENT_GROUP, else the app's id: the apps of one group (a blue and a green) share
   * service ports and virtual hosts, and the group's id is also a DNS name for those taking traffic.
   */
  deploymentGroup: string;
  /** During a blue-green switch, this app's share of the group's new requests (0..100); else null. */
  share: number | null;
  ports: ServicePortSpec[];
  /** Up and draining instances; instances that are neither (staging, unhealthy, not ready) are absent. */
  backends: ServiceBackend[];
}

export interface CatalogSnapshot {
  /** Grows with every change: a consumer that saw this version has seen everything up to it. */
  version: number;
  /** Sorted by app id. */
  services: Service[];
}

/** Where the catalog comes from (implemented over apps in main.ts): a snapshot now, and each change after. */
export interface CatalogFeed {
  snapshot(): CatalogSnapshot;
  /** Called with the new snapshot after every change, synchronously in the order they happen. */
  subscribe(listener: (snapshot: CatalogSnapshot) => void): () => void;
}

// ---- The load balancer's model, derived from the catalog (lb-model.ts) --------------------------

/** One server of a route: one backend's port. */
export interface LbServer {
  /** Stable while the instance lives: `<taskId>:<port index>`. */
  id: string;
  appId: string;
  address: string;
  port: number;
  weight: number;
  /** Draining: no new connections or requests; the ones open go on. */
  draining: boolean;
}

/** A set of servers a listener sends to, with how it picks one. */
export interface LbRoute {
  /** Stable, unique in the model, usable as an HAProxy backend name: `prod_web_10001`, `prod_web_vhost_0`. */
  name: string;
  /** The app(s) behind it (two during a blue-green deployment). */
  appIds: string[];
  /** HTTP only: the Host header values (lower case, no port) it answers; empty: any host. */
  hosts: string[];
  /** HTTP only: the path prefix it answers (`/api`); null: any path. */
  pathPrefix: string | null;
  balance: BalanceAlgorithm;
  servers: LbServer[];
}

export interface LbListener {
  /** The port it listens on (a service port, or the shared HTTP port for virtual hosts). */
  port: number;
  mode: 'tcp' | 'http';
  /**
   * tcp: exactly one route. http: routes tried in order (the most specific host and longest path first);
   * a request no route matches gets 503 with a one-line reason.
   */
  routes: LbRoute[];
}

export interface LbModel {
  /** The catalog version it was derived from. */
  version: number;
  /** Sorted by port. */
  listeners: LbListener[];
}

/** What a data plane reports of one server (`gantry lb ls`). */
export interface LbServerStatus {
  id: string;
  route: string;
  address: string;
  port: number;
  state: 'up' | 'draining' | 'down';
  /** Connections open to it now. */
  connections: number;
  /** Why it is down (passive ejection: "refused 3 connections in a row"), or null. */
  reason: string | null;
}

/** A data plane: the built-in proxy or the managed HAProxy. Apply is idempotent and never drops a connection. */
export interface LbDataPlane {
  readonly kind: 'builtin' | 'haproxy';
  apply(model: LbModel): Promise<void>;
  status(): Promise<{ healthy: boolean; message: string | null; servers: LbServerStatus[] }>;
  close(): Promise<void>;
}
