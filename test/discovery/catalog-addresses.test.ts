// The catalog's address of an instance: its own on a container network (with its container ports, no
// hostname looked up), its agent's otherwise; so DNS answers and load balancers' servers follow.
import assert from 'node:assert/strict';
import { ServiceCatalog, type Endpoints, type EndpointsSource } from '../../src/discovery/catalog/service-catalog.ts';
import { buildZone } from '../../src/discovery/dns/zone.ts';
import { lbModelOf } from '../../src/discovery/lb-model.ts';

function sourceOf(endpoints: Endpoints): EndpointsSource {
  return { list: () => [endpoints], get: (appId) => (appId === endpoints.appId ? endpoints : null), watch: () => () => undefined };
}

describe('the service catalog: addresses', () => {
  it('takes an instance\'s own address on its container network as it is, and resolves only agents\' hostnames', async () => {
    const looked: string[] = [];
    let resolvedNow!: () => void;
    const resolvedHost = new Promise<void>((resolve) => (resolvedNow = resolve));
    const endpoints: Endpoints = {
      appId: '/prod/web',
      labels: {},
      ports: [{ index: 0, name: 'http', protocol: 'tcp', servicePort: 10001 }],
      trafficShare: null,
      instances: [
        { instanceId: 'i1', taskId: 't1', host: 'node-1', address: '172.18.0.2', ports: [8080], state: 'up' },
        { instanceId: 'i2', taskId: 't2', host: 'node-1', address: '172.18.0.3', ports: [8080], state: 'up' },
        { instanceId: 'i3', taskId: 't3', host: 'node-2', address: null, ports: [31005], state: 'up' },
      ],
    };
    const catalog = new ServiceCatalog(sourceOf(endpoints), undefined, async (host) => {
      looked.push(host);
      setImmediate(resolvedNow);
      return '10.0.0.2';
    });
    catalog.start();
    assert.deepEqual(catalog.snapshot().services[0]!.backends.map((b) => `${b.address}:${b.ports[0]}`), ['172.18.0.2:8080', '172.18.0.3:8080'], 'no lookup to wait for');
    await resolvedHost;
    assert.deepEqual(looked, ['node-2'], 'node-1 never looked up: its instances carry their own addresses');
    const snapshot = catalog.snapshot();
    assert.deepEqual(snapshot.services[0]!.backends.map((b) => `${b.address}:${b.ports[0]}`), ['172.18.0.2:8080', '172.18.0.3:8080', '10.0.0.2:31005']);

    const zone = buildZone(snapshot, { domain: 'gantry' });
    const a = zone.lookup({ name: 'web.prod.gantry.', type: 'A' }).answers.map((r) => String((r as { data: unknown }).data)).sort();
    assert.deepEqual(a, ['10.0.0.2', '172.18.0.2', '172.18.0.3']);
    const servers = lbModelOf(snapshot, { httpPort: 80, groups: ['*'] }).listeners.flatMap((l) => l.routes.flatMap((r) => r.servers.map((s) => `${s.address}:${s.port}`)));
    assert.deepEqual(servers.sort(), ['10.0.0.2:31005', '172.18.0.2:8080', '172.18.0.3:8080']);
  });
});
