// marathon-lb's labels as discovery reads them, and the rules an app's service ports and virtual
// hosts keep against the other apps' (400 for what cannot be, 409 naming the app that holds a port or host).
import assert from 'node:assert/strict';
import { checkExposure } from '../../src/discovery/exposure/exposure-check.ts';
import { readExposure, type Exposure } from '../../src/discovery/exposure/exposure.ts';
import { Conflict, Invalid } from '../../src/shared/errors.ts';

const rules = { servicePorts: { min: 10000, max: 20000 }, httpPort: 80 };

function app(appId: string, servicePorts: Array<number | null>, labels: Record<string, string> = {}): Exposure {
  return { appId, labels, ports: servicePorts.map((servicePort, index) => ({ index, name: index === 0 ? 'http' : null, protocol: 'tcp', servicePort })) };
}

describe('marathon-lb labels', () => {
  it('default: tcp, round robin, group external, no vhost', () => {
    const { specs, problems } = readExposure(app('/prod/web', [10001]));
    assert.deepEqual(problems, []);
    assert.deepEqual(specs[0], { index: 0, name: 'http', protocol: 'tcp', servicePort: 10001, mode: 'tcp', vhosts: [], path: null, balance: 'roundrobin', group: 'external' });
  });

  it('a vhost makes the port http; path, balance, group, port and enabled are read per port', () => {
    const { specs } = readExposure(
      app('/prod/web', [10001, 10002], {
        HAPROXY_GROUP: 'internal',
        HAPROXY_0_VHOST: 'Web.Example.com, api.example.com',
        HAPROXY_0_PATH: '/api',
        HAPROXY_0_BALANCE: 'leastconn',
        HAPROXY_1_PORT: '10010',
        HAPROXY_1_GROUP: 'external',
      }),
    );
    assert.deepEqual([specs[0]!.mode, specs[0]!.vhosts, specs[0]!.path, specs[0]!.balance, specs[0]!.group], ['http', ['web.example.com', 'api.example.com'], '/api', 'leastconn', 'internal']);
    assert.deepEqual([specs[1]!.servicePort, specs[1]!.group, specs[1]!.mode], [10010, 'external', 'tcp']);
    assert.equal(readExposure(app('/a', [10001], { HAPROXY_0_ENABLED: 'false' })).specs[0]!.servicePort, null);
  });

  it('names each label that does not read', () => {
    const { problems } = readExposure(app('/a', [10001], { HAPROXY_0_BALANCE: 'random', HAPROXY_0_MODE: 'udp', HAPROXY_0_PATH: 'api', HAPROXY_0_PORT: 'x', HAPROXY_0_VHOST: 'bad host' }));
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['HAPROXY_0_VHOST', 'HAPROXY_0_PATH', 'HAPROXY_0_MODE', 'HAPROXY_0_BALANCE', 'HAPROXY_0_PORT']);
  });
});

describe('exposure rules', () => {
  it('a service port outside the range, twice in one app, or the vhost port is a 400', () => {
    assert.throws(() => checkExposure(app('/a', [9000]), [], rules), (err: Error) => err instanceof Invalid && /service port 9000 is outside the service port range 10000-20000/.test(err.message));
    assert.throws(() => checkExposure(app('/a', [10001, 10001]), [], rules), (err: Error) => err instanceof Invalid && /asked for by port 0 too/.test(err.message));
    assert.throws(() => checkExposure(app('/a', [80]), [], rules), /load balancer's HTTP port/);
    assert.throws(() => checkExposure(app('/a', [10001], { HAPROXY_0_BALANCE: 'random' }), [], rules), (err: Error) => err instanceof Invalid && /HAPROXY_0_BALANCE/.test(err.message));
  });

  it('a service port or virtual host another app holds is a 409 naming it', () => {
    assert.throws(() => checkExposure(app('/b', [10001]), [app('/a', [10001])], rules), (err: Error) => err instanceof Conflict && err.message === 'service port 10001 is held by app /a');
    const vhost = { HAPROXY_0_VHOST: 'web.example.com' };
    assert.throws(() => checkExposure(app('/b', [null], vhost), [app('/a', [null], vhost)], rules), (err: Error) => err instanceof Conflict && err.message === 'virtual host web.example.com is held by app /a');
    // The same host on another path is another route.
    checkExposure(app('/b', [null], { ...vhost, HAPROXY_0_PATH: '/api' }), [app('/a', [null], vhost)], rules);
  });

  it('apps of one deployment group share them (blue and green)', () => {
    const group = { HAPROXY_DEPLOYMENT_GROUP: 'web', HAPROXY_0_VHOST: 'web.example.com' };
    checkExposure(app('/web-green', [10001], group), [app('/web-blue', [10001], group)], rules);
  });
});
