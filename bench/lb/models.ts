// The load balancer's model as Gantry derives it for one app (`/bench/web`) exposed on a service port:
// one listener, one route, the app's instances as servers (ids `<name>:0`, as `<taskId>:<port index>`).
import type { LbListener, LbModel, LbServer } from '../../src/discovery/model.ts';

export interface ModelServer {
  name: string;
  port: number;
  draining?: boolean;
}

export function listenerOf(port: number, mode: 'http' | 'tcp', servers: readonly ModelServer[]): LbListener {
  const lbServers: LbServer[] = servers.map((server) => ({
    id: `${server.name}:0`,
    appId: '/bench/web',
    address: '127.0.0.1',
    port: server.port,
    weight: 1,
    draining: server.draining ?? false,
  }));
  return { port, mode, routes: [{ name: `bench_web_${port}`, appIds: ['/bench/web'], hosts: [], pathPrefix: null, balance: 'roundrobin', servers: lbServers }] };
}

export function modelOf(version: number, listeners: LbListener[]): LbModel {
  return { version, listeners: [...listeners].sort((a, b) => a.port - b.port) };
}
