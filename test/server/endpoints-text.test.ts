// Marathon's /v2/tasks in text, as haproxy-marathon-bridge-style tools read it: a line per app and
// service port with its up instances' host:port; draining instances are left out.
import assert from 'node:assert/strict';
import { endpointsText } from '../../src/server/routes/marathon/endpoints-text.ts';
import type { ServicePortSpec } from '../../src/discovery/index.ts';

const spec = (index: number, servicePort: number | null): ServicePortSpec => ({ index, name: null, protocol: 'tcp', servicePort, mode: 'tcp', vhosts: [], path: null, balance: 'roundrobin', group: 'external' });

describe('Marathon\'s /v2/tasks as text', () => {
  it('one line per service port, up instances only; an app without ports lists its hosts', () => {
    const text = endpointsText({
      version: 1,
      services: [
        {
          appId: '/prod/web',
          deploymentGroup: '/prod/web',
          share: null,
          ports: [spec(0, 10001), spec(1, null)],
          backends: [
            { appId: '/prod/web', instanceId: 'a', taskId: 'ta', host: 'node1', address: '10.0.0.1', ports: [31000, 31001], state: 'up', weight: 100 },
            { appId: '/prod/web', instanceId: 'b', taskId: 'tb', host: 'node2', address: '10.0.0.2', ports: [31002, 31003], state: 'draining', weight: 100 },
          ],
        },
        { appId: '/worker', deploymentGroup: '/worker', share: null, ports: [], backends: [{ appId: '/worker', instanceId: 'c', taskId: 'tc', host: 'node3', address: '10.0.0.3', ports: [], state: 'up', weight: 100 }] },
      ],
    });
    assert.equal(text, 'prod_web\t10001\tnode1:31000\t\nprod_web\t0\tnode1:31001\t\nworker\t \tnode3 \t\n');
  });
});
