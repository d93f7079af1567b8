// The catalog over apps' endpoints: a change of one app rebuilds its entry and tells the listeners at
// once (no polling), a change that alters nothing tells nobody, an agent's hostname is resolved once and
// its instances appear when it is, and weights (canary shares) apply to an app's backends.
import assert from 'node:assert/strict';
import { ServiceCatalog, type Endpoints, type EndpointsSource } from '../../src/discovery/catalog/service-catalog.ts';
import type { CatalogSnapshot } from '../../src/discovery/model.ts';

class Source implements EndpointsSource {
  readonly apps = new Map<string, Endpoints>();
  private readonly listeners = new Set<(appId: string) => void>();
  list(): Endpoints[] {
    return [...this.apps.values()];
  }
  get(appId: string): Endpoints | null {
    return this.apps.get(appId) ?? null;
  }
  watch(listener: (appId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(endpoints: Endpoints): void {
    this.apps.set(endpoints.appId, endpoints);
    for (const l of this.listeners) l(endpoints.appId);
  }
  remove(appId: string): void {
    this.apps.delete(appId);
    for (const l of this.listeners) l(appId);
  }
}

function web(instances: Endpoints['instances']): Endpoints {
  return { appId: '/prod/web', labels: {}, ports: [{ index: 0, name: 'http', protocol: 'tcp', servicePort: 10001 }], instances, trafficShare: null };
}

describe('the service catalog', () => {
  it('follows the apps\' changes as they come, and only real ones', () => {
    const source = new Source();
    source.set(web([{ instanceId: 'i1', taskId: 't1', host: '10.0.0.1', ports: [31000], state: 'up' }]));
    const catalog = new ServiceCatalog(source);
    catalog.start();
    const seen: CatalogSnapshot[] = [];
    catalog.subscribe((s) => seen.push(s));
    assert.deepEqual(catalog.snapshot().services.map((s) => s.backends.map((b) => `${b.address}:${b.ports[0]} ${b.state}`)), [['10.0.0.1:31000 up']]);

    source.set(web([{ instanceId: 'i1', taskId: 't1', host: '10.0.0.1', ports: [31000], state: 'draining' }]));
    assert.equal(seen.length, 1, 'told at once');
    assert.equal(seen[0]!.services[0]!.backends[0]!.state, 'draining');
    source.set(web([{ instanceId: 'i1', taskId: 't1', host: '10.0.0.1', ports: [31000], state: 'draining' }]));
    assert.equal(seen.length, 1, 'nothing changed: nobody told');
    source.remove('/prod/web');
    assert.deepEqual(seen.at(-1)!.services, []);
    assert.ok(seen.at(-1)!.version > seen[0]!.version);
  });

  it('resolves an agent\'s hostname once; its instances appear when it is known', async () => {
    const source = new Source();
    let lookups = 0;
    let release!: () => void;
    const resolved = new Promise<void>((resolve) => (release = resolve));
    const catalog = new ServiceCatalog(source, undefined, async () => {
      lookups += 1;
      await resolved;
      return '192.0.2.7';
    });
    catalog.start();
    const changed = new Promise<CatalogSnapshot>((resolve) => catalog.subscribe((s) => s.services[0]?.backends.length && resolve(s)));
    source.set(web([{ instanceId: 'i1', taskId: 't1', host: 'node-1', ports: [31000], state: 'up' }]));
    assert.deepEqual(catalog.service('/prod/web')!.backends, [], 'not before its address is known');
    release();
    const snapshot = await changed;
    assert.equal(snapshot.services[0]!.backends[0]!.address, '192.0.2.7');
    source.set(web([{ instanceId: 'i2', taskId: 't2', host: 'node-1', ports: [31001], state: 'up' }]));
    assert.equal(catalog.service('/prod/web')!.backends[0]!.address, '192.0.2.7');
    assert.equal(lookups, 1);
  });
});
