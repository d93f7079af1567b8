// Reaching apps (issue 20) on a real server with the built-in load balancer: the DNS server answers
// with the app's healthy instances (asked with the real dig) and follows scale up, scale down, a
// failed health check and a kill; an instance asked to stop leaves DNS and the load balancer first and
// is stopped only after its drain delay; a rolling upgrade under a steady stream of requests through
// the service port loses none, nor does a kill -9 of an instance mid-stream; the catalog shows in the
// API, the CLI and Marathon's /v2/tasks text; a service port another app holds is a 409 naming it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, runCli, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';
import { dig, digFull, freePortInRange, requireDig, serverCommand, steadyStream } from '../helpers/discovery.ts';

const PORTS = '[39000-39499]';

interface Task {
  id: string;
  state: string;
  health: string | null;
  killRequested: boolean;
  env?: Record<string, string>;
  spec: { env: Record<string, string> };
  allocation: { ports: number[] };
}

describe('reaching apps: DNS and the built-in load balancer', function () {
  this.timeout(240_000);
  const dir = tempDir('discovery');
  const sickDir = path.join(dir, 'sick');
  let server: Started | undefined;
  let url = '';
  let dns = { host: '127.0.0.1', port: 0 };
  let servicePort = 0;
  let env: Record<string, string>;
  const client = () => api(url);

  const app = (version: string, instances: number, extra: Record<string, unknown> = {}) => ({
    id: '/prod/web',
    cmd: serverCommand(sickDir),
    instances,
    cpus: 0.1,
    mem: 48,
    env: { VERSION: version },
    portDefinitions: [{ port: servicePort, name: 'http' }],
    healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 15, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 2 }],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    // HTTP mode: each request is balanced on its own (tcp mode pins a keep-alive connection to one instance for its life).
    labels: { HAPROXY_0_MODE: 'http' },
    ...extra,
  });
  const put = async (body: unknown, force = false) => {
    const response = await fetch(`${url}/v2/apps/prod/web${force ? '?force=true' : ''}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const tasks = async (): Promise<Task[]> => (await client().get<{ tasks: Task[] }>('/api/v1/apps/prod/web/tasks')).body.tasks;
  const srv = () => dig(dns, '_web._tcp.prod.gantry', 'SRV');
  // After a blue-green switch the group's name also answers for the green (whose own id differs).
  /** The instances' ports in DNS, sorted. */
  const srvPorts = async () => (await srv()).map((line) => Number(line.split(' ')[2])).sort((a, b) => a - b);
  const deployed = (deploymentId: string) =>
    waitFor(`deployment ${deploymentId} to end`, async () => (await client().get(`/api/v1/deployments`)).body.deployments.every((d: { id: string }) => d.id !== deploymentId) && true, 90_000);

  before(async function () {
    requireDig(this);
    mkdirSync(sickDir, { recursive: true });
    servicePort = await freePortInRange(10000, 20000);
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-resources', `cpus:4;mem:4096;ports:${PORTS}`, '--agent-task-users', 'root', '--log-level', 'warn', '--drain-delay', '2s'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, GANTRY_LB_BIND: '127.0.0.1', GANTRY_APP_DRAIN_DELAY: '2s' },
      /Local agent \S+ registered/,
    );
    server = started;
    url = /listening on (http:\/\/\S+)/.exec(started.output())![1]!;
    const dnsLine = /DNS for apps on (\S+):(\d+)/.exec(started.output())!;
    dns = { host: dnsLine[1]!, port: Number(dnsLine[2]) };
    env = { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN };
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('names the app\'s healthy instances in DNS (A, SRV with their ports, one name per instance), and NXDOMAIN with the SOA for what is not', async () => {
    const created = await client().post('/v2/apps', app('v1', 2));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await deployed(created.body.deployments[0].id);
    const ports = (await tasks()).map((t) => t.allocation.ports[0]!).sort((a, b) => a - b);
    assert.deepEqual(await waitFor('both instances in DNS', async () => ((await srvPorts()).length === 2 ? srvPorts() : null)), ports);
    assert.deepEqual(await dig(dns, 'web.prod.gantry', 'A'), ['127.0.0.1']);
    const instance = (await tasks())[0]!.spec.env.GANTRY_APP_INSTANCE!;
    assert.deepEqual(await dig(dns, `${instance}.web.prod.gantry`, 'A'), ['127.0.0.1']);
    const missing = await digFull(dns, 'nothing.prod.gantry', 'A');
    assert.match(missing, /status: NXDOMAIN/);
    assert.match(missing, /AUTHORITY SECTION:\n.*SOA/);

    const lookup = await runCli(['dns', 'lookup', '_web._tcp.prod', '--type', 'SRV'], env);
    assert.equal(lookup.code, 0, lookup.stderr);
    assert.equal(lookup.stdout.trim().split('\n').length, 2, lookup.stdout);
    assert.match(lookup.stdout, /_web\._tcp\.prod\.gantry\.?\s+5\s+SRV\s+\d+ \d+ \d+ \S+\.web\.prod\.gantry/);
  });

  it('sends requests on the service port to every healthy instance, and shows them in the API, the CLI and /v2/tasks as text', async () => {
    const stream = steadyStream(servicePort, { clients: 2 });
    await waitFor('answers from both instances', async () => stream.result.bodies.size >= 2);
    const result = await stream.stop();
    assert.deepEqual(result.failures, []);

    const services = (await client().get('/api/v1/services')).body.services;
    const web = services.find((s: { appId: string }) => s.appId === '/prod/web');
    assert.equal(web.dns.a, 'web.prod.gantry.');
    assert.deepEqual(web.backends.map((b: { state: string }) => b.state), ['up', 'up']);
    const ls = await runCli(['lb', 'ls'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /load balancer: builtin, healthy/);
    assert.equal(ls.stdout.split('\n').filter((l) => l.startsWith(`${servicePort} `) && / up /.test(l)).length, 2, ls.stdout);
    const text = await fetch(`${url}/v2/tasks`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/plain' } });
    assert.match(await text.text(), new RegExp(`^prod_web\\t${servicePort}\\t\\S+:\\d+\\t\\S+:\\d+\\t$`, 'm'));
  });

  it('follows a scale up, a failed health check and a scale down; an instance going away leaves DNS before its SIGTERM', async () => {
    let result = await client().post('/api/v1/apps/prod/web/scale', { instances: 3 });
    await deployed(result.body.deploymentId);
    await waitFor('three instances in DNS', async () => (await srvPorts()).length === 3);

    // One turns sick: out of DNS (then killed and replaced by the apps).
    const sick = (await tasks()).find((t) => t.state === 'running')!;
    writeFileSync(path.join(sickDir, sick.spec.env.GANTRY_APP_INSTANCE!), '');
    await waitFor('the sick instance out of DNS', async () => !(await srvPorts()).includes(sick.allocation.ports[0]!), 20_000);
    await waitFor('its replacement in DNS', async () => (await srvPorts()).length === 3 && !(await srvPorts()).includes(sick.allocation.ports[0]!), 60_000);

    // Scale down: the instance chosen leaves DNS at once and still answers during its drain delay.
    const before = await srvPorts();
    result = await client().post('/api/v1/apps/prod/web/scale', { instances: 2 });
    const leaving = await waitFor('an instance to leave DNS', async () => {
      const now = await srvPorts();
      return now.length === 2 ? before.find((p) => !now.includes(p)) : null;
    });
    const answer = await fetch(`http://127.0.0.1:${leaving}/`);
    assert.equal(answer.status, 200, 'draining: it still serves what was sent to it before it left');
    await waitFor('it to stop after the drain delay', async () => {
      try {
        await fetch(`http://127.0.0.1:${leaving}/`);
        return false;
      } catch {
        return true;
      }
    });
    await deployed(result.body.deploymentId);
  });

  it('a rolling upgrade under a steady stream of requests loses none, nor does a kill -9 of an instance mid-stream', async () => {
    const stream = steadyStream(servicePort, { clients: 4 });
    await waitFor('the stream going', async () => stream.result.total > 20);
    const upgrade = await put(app('v2', 2));
    assert.equal(upgrade.status, 200, JSON.stringify(upgrade.body));
    await deployed(upgrade.body.deploymentId as string);
    await waitFor('v2 answering', async () => [...stream.result.bodies.keys()].some((b) => b.startsWith('v2 ')));
    const seenBefore = stream.result.total;
    // kill -9 of one instance: requests that reach it fail at connect or are reset; the balancer retries them elsewhere.
    const victim = [...stream.result.bodies.keys()].filter((b) => b.startsWith('v2 ')).map((b) => Number(b.split(' ')[2])).at(-1)!;
    process.kill(victim, 'SIGKILL');
    await waitFor('more answers after the kill', async () => stream.result.total > seenBefore + 200, 30_000);
    const result = await stream.stop();
    assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.total} requests failed`);
    assert.ok([...result.bodies.keys()].some((b) => b.startsWith('v1 ')) && [...result.bodies.keys()].some((b) => b.startsWith('v2 ')));
  });

  it('refuses a service port another app holds (409 naming it) and one outside the range', async () => {
    const other = { id: '/prod/other', cmd: 'sleep 1000', instances: 0, cpus: 0.1, mem: 16, portDefinitions: [{ port: servicePort }] };
    const taken = await client().post('/api/v1/apps', other);
    assert.equal(taken.status, 409);
    assert.deepEqual([taken.body.error, taken.body.message], ['conflict', `service port ${servicePort} is held by app /prod/web`]);
    const outside = await client().post('/api/v1/apps', { ...other, portDefinitions: [{ port: 9000 }] });
    assert.equal(outside.status, 400);
    assert.match(outside.body.message, /service port 9000 is outside the service port range 10000-20000/);
  });

  /** Sends `count` requests one after another through the service port; the share answered by `version`. */
  async function shareOf(version: string, count = 200): Promise<number> {
    const stream = steadyStream(servicePort, { clients: 1 });
    await waitFor(`${count} answers`, async () => stream.result.total >= count, 60_000);
    const result = await stream.stop();
    assert.deepEqual(result.failures, []);
    const mine = [...result.bodies].filter(([body]) => body.startsWith(`${version} `)).reduce((sum, [, n]) => sum + n, 0);
    return mine / result.total;
  }
  const switchNow = async () => (await client().get('/api/v1/blue-green')).body;

  it('a canary of 10 % then 50 % shifts the share of answers as asked, and an abort sends everything back', async () => {
    const started = await client().post('/api/v1/blue-green', { app: app('v3', 2), steps: '10,50', rollbackWindow: '10m' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.deepEqual([started.body.switch.blue, started.body.switch.green], ['/prod/web', '/prod/web-green']);
    await waitFor('the green at 10 %', async () => (await switchNow()).active[0]?.phase === 'shifting', 90_000);
    const ten = await shareOf('v3');
    assert.ok(ten > 0.03 && ten < 0.2, `10 % asked, ${Math.round(ten * 100)} % answered`);

    const promoted = await runCli(['apps', 'promote', '/prod/web'], env);
    assert.equal(promoted.code, 0, promoted.stderr);
    await waitFor('the green at 50 %', async () => (await switchNow()).active[0]?.step === 1);
    const half = await shareOf('v3');
    assert.ok(half > 0.35 && half < 0.65, `50 % asked, ${Math.round(half * 100)} % answered`);

    const aborted = await runCli(['apps', 'abort', '/prod/web-green'], env);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.match(aborted.stdout, /all traffic of \/prod\/web back to \/prod\/web; \/prod\/web-green is removed/);
    assert.equal(await shareOf('v3', 100), 0);
    await waitFor('the green removed', async () => (await client().get('/api/v1/apps/prod/web-green')).status === 404);
  });

  it('a blue-green deployment from the CLI: the green takes everything, the blue goes after its rollback window, DNS follows', async () => {
    const blueDns = await srvPorts();
    const file = path.join(dir, 'web-v4.json');
    writeFileSync(file, JSON.stringify(app('v4', 2)));
    const deployed = await runCli(['apps', 'deploy', file, '--blue-green', '--rollback-window', '1s'], env, 120_000);
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    assert.match(deployed.stdout, /^Blue-green \/prod\/web: \/prod\/web-green starts beside \/prod\/web; traffic steps 100%$/m);
    assert.match(deployed.stdout, /^Switched: \/prod\/web-green serves \/prod\/web; \/prod\/web is removed$/m);
    assert.equal(await shareOf('v4', 100), 1);
    const greenPorts = (await client().get<{ tasks: Task[] }>('/api/v1/apps/prod/web-green/tasks')).body.tasks.map((t) => t.allocation.ports[0]!).sort((a, b) => a - b);
    await waitFor('the group\'s DNS name on the green', async () => JSON.stringify(await srvPorts()) === JSON.stringify(greenPorts));
    assert.notDeepEqual(greenPorts, blueDns);
    assert.equal((await client().get('/api/v1/apps/prod/web')).status, 404, 'the blue is removed');
  });

});
