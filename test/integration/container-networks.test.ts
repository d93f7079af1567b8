// Container networks on a real server with a real Docker engine (issue 20): apps with
// `networks: [{mode: "container", name}]` run on a Docker network of that name the agent makes; each
// instance has its own IP address, in the task and in the DNS records of the app's name (its container
// port in SRV), and the built-in load balancer reaches the instances there. An app reaches another on
// the same network at those addresses and not one on another network, both ways. Host and bridge apps
// keep being reached at their agent's address and host ports. Removing the apps lets the agent remove
// the networks; a network name Docker refuses is a 400 naming the field.
import assert from 'node:assert/strict';
import path from 'node:path';
import { docker, ensureBusyboxImage, removeImages, requireDocker } from '../helpers/docker.ts';
import { dig, freePortInRange, requireDig } from '../helpers/discovery.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

const PORTS = '[39500-39999]';
const IMAGE = 'gantry-test/busybox:container-networks';
/** Names of this run: networks are the engine's, shared with whatever else runs on it. */
const BLUE = `blue-${process.pid}`;
const RED = `red-${process.pid}`;

interface Task {
  id: string;
  state: string;
  health: string | null;
  address: string | null;
  allocation: { host: string; ports: number[] };
}

/** busybox httpd answering `<app> <instance>` on PORT (inside the container). */
const serve = (port: string) => `mkdir -p /w && echo "$GANTRY_APP_ID $GANTRY_APP_INSTANCE" > /w/index.html && exec httpd -f -p ${port} -h /w`;

describe('reaching apps: container networks', function () {
  this.timeout(240_000);
  const dir = tempDir('container-networks');
  let server: Started | undefined;
  let url = '';
  let dns = { host: '127.0.0.1', port: 0 };
  let servicePort = 0;
  const client = () => api(url);

  /** An app on a container network: one port mapping, 8080 inside, no host port asked (published on the agent's loopback, for its probe). */
  const onNetwork = (id: string, network: string, instances: number, extra: Record<string, unknown> = {}) => ({
    id,
    cmd: serve('8080'),
    instances,
    cpus: 0.1,
    mem: 32,
    container: { type: 'DOCKER', docker: { image: IMAGE }, portMappings: [{ containerPort: 8080, name: 'http' }] },
    networks: [{ mode: 'container', name: network }],
    healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }],
    ...extra,
  });
  const tasksOf = async (appId: string): Promise<Task[]> => (await client().get<{ tasks: Task[] }>(`/api/v1/apps${appId}/tasks`)).body.tasks;
  const deployed = (deploymentId: string) =>
    waitFor(`deployment ${deploymentId} to end`, async () => (await client().get(`/api/v1/deployments`)).body.deployments.every((d: { id: string }) => d.id !== deploymentId) && true, 120_000);
  const deploy = async (app: Record<string, unknown>): Promise<Task[]> => {
    const created = await client().post('/api/v1/apps', app);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await deployed(created.body.deploymentId ?? created.body.deployments?.[0]?.id);
    const tasks = await tasksOf(app.id as string);
    assert.equal(tasks.filter((t) => t.state === 'running').length, app.instances, JSON.stringify(tasks));
    return tasks.filter((t) => t.state === 'running');
  };
  /** An HTTP/1.0 GET with busybox nc from inside a task's container (3 s to connect): what it printed, answer or error. */
  const getFrom = async (task: Task, address: string, port = 8080): Promise<string> => {
    try {
      const { stdout, stderr } = await docker(['exec', `gantry-${task.id}`, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${address} ${port}`], { timeoutMs: 20_000 });
      return `${stdout}${stderr}`;
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      return `${stdout ?? ''}${stderr ?? ''}`;
    }
  };
  const remove = async (appId: string): Promise<number> => (await fetch(`${url}/api/v1/apps${appId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status;
  const networkExists = async (name: string): Promise<boolean> => (await docker(['network', 'ls', '--filter', `label=gantry.network=${name}`, '--format', '{{.Name}}'])).stdout.trim() === `gantry-${name}`;

  let web: Task[] = [];
  let neighbour: Task[] = [];
  let stranger: Task[] = [];

  before(async function () {
    await requireDocker(this);
    requireDig(this);
    await ensureBusyboxImage(IMAGE);
    servicePort = await freePortInRange(10000, 20000);
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-resources', `cpus:4;mem:4096;ports:${PORTS}`, '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, GANTRY_LB_BIND: '127.0.0.1' },
      /Local agent \S+ registered/,
    );
    server = started;
    url = /listening on (http:\/\/\S+)/.exec(started.output())![1]!;
    const dnsLine = /DNS for apps on (\S+):(\d+)/.exec(started.output())!;
    dns = { host: dnsLine[1]!, port: Number(dnsLine[2]) };
  });

  after(async () => {
    await server?.stop();
    killAll();
    // What a failed test left: this run's containers and networks.
    const ours = (await docker(['ps', '-a', '--filter', 'label=gantry.task', '--format', '{{.ID}} {{.Label "gantry.sandbox"}}']).catch(() => ({ stdout: '' }))).stdout
      .split('\n')
      .filter((line) => line.split(' ')[1]?.startsWith(dir))
      .map((line) => line.split(' ')[0]!);
    if (ours.length > 0) await docker(['rm', '-f', ...ours]).catch((err) => console.error('cleanup:', err));
    for (const name of [BLUE, RED]) await docker(['network', 'rm', `gantry-${name}`]).catch(() => undefined);
    await removeImages(IMAGE).catch((err) => console.error('cleanup:', err));
  });

  it('gives each instance its own address on its network, in the task and in the app\'s DNS records', async () => {
    web = await deploy(onNetwork('/nets/web', BLUE, 2, { container: { type: 'DOCKER', docker: { image: IMAGE }, portMappings: [{ containerPort: 8080, servicePort, name: 'http' }] }, labels: { HAPROXY_0_MODE: 'http' } }));
    neighbour = await deploy(onNetwork('/nets/neighbour', BLUE, 1));
    stranger = await deploy(onNetwork('/nets/stranger', RED, 1));
    const addresses = web.map((t) => t.address);
    for (const address of [...addresses, neighbour[0]!.address, stranger[0]!.address]) assert.match(address ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(new Set(addresses).size, 2, 'an address each');
    assert.deepEqual(web.map((t) => t.health), ['healthy', 'healthy'], 'probed through the loopback host port');
    // The engine's own view: attached to gantry-<name>, at the addresses the tasks say.
    const inspected = JSON.parse((await docker(['network', 'inspect', `gantry-${BLUE}`])).stdout) as Array<{ Labels: Record<string, string>; Containers: Record<string, { Name: string; IPv4Address: string }> }>;
    assert.equal(inspected[0]!.Labels['gantry.network'], BLUE);
    const attached = Object.values(inspected[0]!.Containers).map((c) => `${c.Name} ${c.IPv4Address.split('/')[0]}`).sort();
    assert.deepEqual(attached, [...web, ...neighbour].map((t) => `gantry-${t.id} ${t.address}`).sort());

    const inDns = await waitFor('both instances in DNS', async () => {
      const a = await dig(dns, 'web.nets.gantry', 'A');
      return a.length === 2 ? a : null;
    });
    assert.deepEqual(inDns, [...addresses].sort());
    const srv = await dig(dns, '_web._tcp.nets.gantry', 'SRV');
    assert.deepEqual(srv.map((line) => Number(line.split(' ')[2])), [8080, 8080], 'SRV: the container port');
    const instance = (await client().get(`/api/v1/apps/nets/web/tasks`)).body.tasks[0];
    const name = srv.map((line) => line.split(' ')[3]!).find((target) => target.startsWith(`${instance.spec.env.GANTRY_APP_INSTANCE}.`))!;
    assert.deepEqual(await dig(dns, name, 'A'), [instance.address]);
  });

  it('lets an app reach another on the same network at its address, both ways, and not one on another network, either way', async () => {
    for (const target of web) assert.match(await getFrom(neighbour[0]!, target.address!), /200 OK[\s\S]*\/nets\/web /, `neighbour → web at ${target.address}`);
    assert.match(await getFrom(web[0]!, neighbour[0]!.address!), /200 OK[\s\S]*\/nets\/neighbour /, 'web → neighbour');
    // Across networks the engine drops the packets: nc gives up connecting (not a missing container, nor a refusal).
    assert.match(await getFrom(stranger[0]!, web[0]!.address!), /^nc: timed out/m, 'red → blue');
    assert.match(await getFrom(web[0]!, stranger[0]!.address!), /^nc: timed out/m, 'blue → red');
    // The stranger itself serves: it is the network that keeps them apart.
    assert.match(await fetch(`http://${stranger[0]!.address}:8080/`).then((r) => r.text()), /\/nets\/stranger /, 'the agent\'s host reaches it');
  });

  it('balances the service port over the instances at their own addresses', async () => {
    const seen = new Set<string>();
    await waitFor('answers from both instances through the load balancer', async () => {
      const response = await fetch(`http://127.0.0.1:${servicePort}/`).catch(() => null);
      if (response?.ok) seen.add((await response.text()).trim());
      return seen.size === 2;
    }, 30_000);
    assert.deepEqual([...seen].map((body) => body.split(' ')[0]), ['/nets/web', '/nets/web']);
    const services = (await client().get('/api/v1/services')).body.services as Array<{ appId: string; backends: Array<{ address: string; ports: number[] }> }>;
    const backends = services.find((s) => s.appId === '/nets/web')!.backends;
    assert.deepEqual(backends.map((b) => `${b.address}:${b.ports[0]}`).sort(), web.map((t) => `${t.address}:8080`).sort());
  });

  it('keeps host and bridge apps at their agent\'s address and host ports', async () => {
    const bridged = await deploy({
      id: '/nets/bridged',
      cmd: serve('8080'),
      instances: 1,
      cpus: 0.1,
      mem: 32,
      container: { type: 'DOCKER', docker: { image: IMAGE }, portMappings: [{ containerPort: 8080 }] },
      networks: [{ mode: 'container/bridge' }],
    });
    const hosted = await deploy({ id: '/nets/hosted', cmd: serve('$PORT0'), instances: 1, cpus: 0.1, mem: 32, container: { type: 'DOCKER', docker: { image: IMAGE } }, networks: [{ mode: 'host' }] });
    for (const [app, task] of [['bridged', bridged[0]!], ['hosted', hosted[0]!]] as const) {
      assert.equal(task.address, null, `${app}: no address of its own`);
      const port = task.allocation.ports[0]!;
      assert.match(await waitFor(`${app} answering on its host port`, async () => (await fetch(`http://127.0.0.1:${port}/`)).text()), new RegExp(`/nets/${app} `));
      assert.deepEqual(await waitFor(`${app} in DNS`, async () => ((await dig(dns, `${app}.nets.gantry`, 'A')).length > 0 ? dig(dns, `${app}.nets.gantry`, 'A') : null)), ['127.0.0.1']);
      assert.deepEqual((await dig(dns, `_${app}._tcp.nets.gantry`, 'SRV')).map((line) => Number(line.split(' ')[2])), [port], 'SRV: the host port');
    }
  });

  it('removes the networks once their apps are removed', async () => {
    assert.ok(await networkExists(BLUE));
    assert.ok(await networkExists(RED));
    for (const id of ['/nets/web', '/nets/neighbour']) assert.equal(await remove(id), 200);
    // Its instances end (their kill, then the container's end reported), and the last one takes the network.
    await waitFor('the blue network to go', async () => !(await networkExists(BLUE)), 60_000);
    assert.ok(await networkExists(RED), 'red still has its app');
    assert.equal(await remove('/nets/stranger'), 200);
    await waitFor('the red network to go', async () => !(await networkExists(RED)), 60_000);
  });

  it('refuses a network name Docker refuses with a 400 naming the field', async () => {
    const refused = await client().post('/api/v1/apps', onNetwork('/nets/bad', 'my net', 1));
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.message, /\/networks\(0\)\/name: "my net": a container network's name is letters, digits, _ \. - \(at most 63\), starting with a letter or digit/);
    assert.deepEqual(refused.body.details.problems.map((p: { path: string }) => p.path), ['/networks(0)/name']);
    const reserved = await client().post('/v2/apps', onNetwork('/nets/bad', 'host', 1));
    assert.equal(reserved.status, 422);
    assert.deepEqual(reserved.body.details.map((d: { path: string }) => d.path), ['/networks(0)/name']);
    assert.match(reserved.body.details[0].errors[0], /one of Docker's own networks/);
  });
});
