// The catalog as the load balancer's model: a listener per service port, the shared HTTP port for
// virtual hosts with the most specific routes first, draining servers kept (their connections finish),
// groups filtered, and two apps of one deployment group side by side in one route.
import assert from 'node:assert/strict';
import { lbModelOf } from '../../src/discovery/lb-model.ts';
import type { CatalogSnapshot, Service, ServiceBackend, ServicePortSpec } from '../../src/discovery/model.ts';

function port(index: number, extra: Partial<ServicePortSpec> = {}): ServicePortSpec {
  return { index, name: null, protocol: 'tcp', servicePort: null, mode: 'tcp', vhosts: [], path: null, balance: 'roundrobin', group: 'external', ...extra };
}

function backend(appId: string, taskId: string, ports: number[], extra: Partial<ServiceBackend> = {}): ServiceBackend {
  return { appId, instanceId: taskId, taskId, host: 'h1', address: '10.0.0.1', ports, state: 'up', weight: 100, ...extra };
}

function svc(appId: string, ports: ServicePortSpec[], backends: ServiceBackend[], extra: Partial<Service> = {}): Service {
  return { appId, deploymentGroup: appId, share: null, ports, backends, ...extra };
}

function snapshot(...services: Service[]): CatalogSnapshot {
  return { version: 7, services };
}

const options = { httpPort: 80, groups: ['external'] };

describe('the load balancer model', () => {
  it('a service port: one tcp listener, one route, a server per backend; draining ones are marked', () => {
    const model = lbModelOf(snapshot(svc('/prod/web', [port(0, { servicePort: 10001 })], [backend('/prod/web', 't1', [31000]), backend('/prod/web', 't2', [31001], { state: 'draining' })])), options);
    assert.equal(model.version, 7);
    assert.deepEqual(model.listeners, [
      {
        port: 10001,
        mode: 'tcp',
        routes: [
          {
            name: 'prod_web_10001',
            appIds: ['/prod/web'],
            hosts: [],
            pathPrefix: null,
            balance: 'roundrobin',
            servers: [
              { id: 't1:0', appId: '/prod/web', address: '10.0.0.1', port: 31000, weight: 100, draining: false },
              { id: 't2:0', appId: '/prod/web', address: '10.0.0.1', port: 31001, weight: 100, draining: true },
            ],
          },
        ],
      },
    ]);
  });

  it('virtual hosts share the HTTP port, hosts and longer paths first; other groups and ports without service port stay out', () => {
    const model = lbModelOf(
      snapshot(
        svc('/api', [port(0, { mode: 'http', vhosts: ['example.com'], path: '/api' })], [backend('/api', 'a1', [31010])]),
        svc('/site', [port(0, { mode: 'http', vhosts: ['example.com'] })], [backend('/site', 's1', [31011])]),
        svc('/internal', [port(0, { servicePort: 10005, group: 'internal' })], [backend('/internal', 'i1', [31012])]),
        svc('/plain', [port(0)], [backend('/plain', 'p1', [31013])]),
      ),
      options,
    );
    assert.deepEqual(model.listeners.map((l) => [l.port, l.mode, l.routes.map((r) => `${r.name} ${r.hosts.join(',')}${r.pathPrefix ?? ''}`)]), [[80, 'http', ['api_vhost_0 example.com/api', 'site_vhost_0 example.com']]]);
    assert.equal(lbModelOf(snapshot(svc('/internal', [port(0, { servicePort: 10005, group: 'internal' })], [])), { ...options, groups: ['*'] }).listeners[0]!.port, 10005);
  });

  it('a blue and a green on one service port: one route, the share of each app spread over its servers', () => {
    const spec = port(0, { servicePort: 10001 });
    const shares = (blue: number, green: number) =>
      lbModelOf(
        snapshot(
          svc('/web', [spec], [backend('/web', 'b1', [31000]), backend('/web', 'b2', [31001]), backend('/web', 'b3', [31002])], { share: blue }),
          svc('/web-green', [spec], [backend('/web-green', 'g1', [31003])], { deploymentGroup: '/web', share: green }),
        ),
        options,
      ).listeners[0]!.routes[0]!;
    const route = shares(90, 10);
    assert.deepEqual(route.appIds, ['/web', '/web-green']);
    // 90 % over three servers (30 each) against 10 % on one: 256 : 85.
    assert.deepEqual(route.servers.map((s) => [s.id, s.weight]), [['b1:0', 256], ['b2:0', 256], ['b3:0', 256], ['g1:0', 85]]);
    assert.deepEqual(shares(0, 100).servers.map((s) => s.weight), [0, 0, 0, 256], 'the blue keeps its connections, takes no new ones');
  });
});
