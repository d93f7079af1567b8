// Reaching apps through the managed HAProxy (`--lb haproxy`, Debian's haproxy): the server starts it,
// keeps it in step with the catalog through its runtime API and seamless reloads, and a rolling upgrade,
// a kill through Marathon's API and a kill -9 under a steady stream of requests lose none; `gantry lb ls`
// shows HAProxy's view and `gantry lb haproxy-config` prints a configuration HAProxy accepts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, runCli, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';
import { freePortInRange, haproxyAvailable, serverCommand, steadyStream } from '../helpers/discovery.ts';

const run = promisify(execFile);
const PORTS = '[39500-39999]';

describe('reaching apps through the managed HAProxy', function () {
  this.timeout(240_000);
  const dir = tempDir('discovery-haproxy');
  const sickDir = path.join(dir, 'sick');
  let server: Started | undefined;
  let url = '';
  let servicePort = 0;
  let env: Record<string, string>;
  const client = () => api(url);

  const app = (version: string) => ({
    id: '/shop/api',
    cmd: serverCommand(sickDir),
    instances: 2,
    cpus: 0.1,
    mem: 48,
    env: { VERSION: version },
    portDefinitions: [{ port: servicePort, name: 'http' }],
    labels: { HAPROXY_0_MODE: 'http' },
    healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 15, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 2 }],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
  });
  const deployed = (deploymentId: string) =>
    waitFor(`deployment ${deploymentId} to end`, async () => (await client().get('/api/v1/deployments')).body.deployments.every((d: { id: string }) => d.id !== deploymentId) && true, 90_000);

  before(async function () {
    if (!haproxyAvailable()) {
      if (process.env.GANTRY_REQUIRE_HAPROXY === '1') throw new Error('GANTRY_REQUIRE_HAPROXY=1 but haproxy is not installed');
      this.skip();
    }
    mkdirSync(sickDir, { recursive: true });
    servicePort = await freePortInRange(10000, 20000);
    server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-resources', `cpus:4;mem:4096;ports:${PORTS}`, '--agent-task-users', 'root', '--log-level', 'warn', '--lb', 'haproxy', '--drain-delay', '2s'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, GANTRY_LB_BIND: '127.0.0.1' },
      /Local agent \S+ registered/,
    );
    url = /listening on (http:\/\/\S+)/.exec(server.output())![1]!;
    env = { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN };
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('serves the app on its service port, and shows HAProxy\'s view of its backends', async () => {
    const created = await client().post('/v2/apps', app('v1'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await deployed(created.body.deployments[0].id);
    const stream = steadyStream(servicePort, { clients: 2 });
    await waitFor('answers from both instances', async () => stream.result.bodies.size >= 2, 30_000);
    assert.deepEqual((await stream.stop()).failures, []);
    const ls = await runCli(['lb', 'ls'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /load balancer: haproxy, healthy/);
    assert.equal(ls.stdout.split('\n').filter((l) => l.startsWith(`${servicePort} `) && / up /.test(l)).length, 2, ls.stdout);
  });

  it('prints a configuration HAProxy accepts, for operators who run it themselves', async () => {
    const printed = await runCli(['lb', 'haproxy-config'], env);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, new RegExp(`bind \\S+:${servicePort}`));
    const file = path.join(dir, 'operator.cfg');
    writeFileSync(file, printed.stdout);
    await run('haproxy', ['-c', '-f', file]);
  });

  it('a rolling upgrade, a kill through the API and a kill -9 under a steady stream lose no request', async () => {
    const stream = steadyStream(servicePort, { clients: 4 });
    await waitFor('the stream going', async () => stream.result.total > 20);
    const upgrade = await fetch(`${url}/v2/apps/shop/api`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(app('v2')) });
    assert.equal(upgrade.status, 200);
    await deployed(((await upgrade.json()) as { deploymentId: string }).deploymentId);
    await waitFor('v2 answering', async () => [...stream.result.bodies.keys()].some((b) => b.startsWith('v2 ')));

    const tasks = (await client().get('/api/v1/apps/shop/api/tasks')).body.tasks as Array<{ id: string; state: string }>;
    const killed = await fetch(`${url}/v2/apps/shop/api/tasks/${tasks[0]!.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(killed.status, 200);
    const seen = stream.result.total;
    await waitFor('more answers after the kill', async () => stream.result.total > seen + 200, 30_000);
    // The next victim is killed once it is not the only instance serving: in-flight requests need another to go to.
    await waitFor('two instances up again, none draining', async () => {
      const backends = (await client().get('/api/v1/services/shop/api')).body.backends as Array<{ state: string }>;
      return backends.length === 2 && backends.every((b) => b.state === 'up');
    }, 60_000);

    const victim = [...stream.result.bodies.keys()].filter((b) => b.startsWith('v2 ')).map((b) => Number(b.split(' ')[2])).at(-1)!;
    process.kill(victim, 'SIGKILL');
    const after = stream.result.total;
    await waitFor('more answers after the kill -9', async () => stream.result.total > after + 200, 30_000);
    const result = await stream.stop();
    assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.total} requests failed`);
  });
});
