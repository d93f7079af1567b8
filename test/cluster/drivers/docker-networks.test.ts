// The docker driver's container networks against the real engine: each task on a network gets its own
// address there, tasks on the same network reach each other at it and a task on another network
// cannot, while the task's host port stays published; several starts at once, from two drivers sharing
// the engine, end on one network; the network goes with its last task, or in a garbage collection round
// when only an agent that stopped left it (never one Gantry did not make); a recovered container has
// its address again; a network removed under a start is made again.
import assert from 'node:assert/strict';
import Dockerode from 'dockerode';
import { createDockerDriver } from '../../../src/cluster/drivers/docker.ts';
import { DockerNetworks } from '../../../src/cluster/drivers/docker-networks.ts';
import type { TaskHandle } from '../../../src/cluster/drivers/driver.ts';
import { freePort, waitFor } from '../../helpers/processes.ts';
import { useDockerDriver } from './docker-helpers.ts';

const PREFIX = `gt${process.pid}`;
const engine = new Dockerode();

/** The engine's networks of exactly this name. */
async function networksNamed(engineName: string): Promise<Dockerode.NetworkInspectInfo[]> {
  return (await engine.listNetworks({ filters: { name: [engineName] } })).filter((n) => n.Name === engineName);
}

/** An HTTP GET of http://ADDRESS:PORT/ from inside the task's container (busybox nc, 3 s to connect). */
function getFrom(driver: ReturnType<typeof createDockerDriver>, handle: TaskHandle, address: string, port: number) {
  return driver.execIn(handle.taskId, ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${address} ${port}`], 20_000);
}

const SERVE = 'mkdir -p /w && echo "hello from $GANTRY_TASK_ID" > /w/index.html && exec httpd -f -p 8080 -h /w';

describe('docker driver: container networks', function () {
  this.timeout(60_000);
  const { driver, ctx, launch, start } = useDockerDriver('gantry-test/busybox:docker-networks');

  afterEach(async () => {
    for (const network of await engine.listNetworks({ filters: { name: [`gantry-${PREFIX}`] } })) {
      await engine.getNetwork(network.Id).remove().catch(() => undefined);
    }
  });

  it('gives each task its own address: the same network reaches it there, another does not; its host port stays published', async () => {
    const blue = `${PREFIX}-blue`;
    const red = `${PREFIX}-red`;
    const hostPort = await freePort();
    const server = await start(launch({ cmd: SERVE, network: blue, containerPorts: [8080] }, {}, [hostPort]));
    const neighbour = await start(launch({ cmd: 'sleep 300', network: blue }));
    const stranger = await start(launch({ cmd: 'sleep 300', network: red }));
    for (const handle of [server, neighbour, stranger]) assert.match(handle.address ?? '', /^\d+\.\d+\.\d+\.\d+$/, `${handle.taskId} has an address`);
    assert.notEqual(server.address, neighbour.address);

    const [network] = await networksNamed(`gantry-${blue}`);
    assert.equal(network?.Labels?.['gantry.network'], blue);
    const attached = (await engine.getNetwork(network!.Id).inspect()) as { Containers: Record<string, { IPv4Address: string }> };
    assert.deepEqual(Object.values(attached.Containers).map((c) => c.IPv4Address.split('/')[0]).sort(), [server.address, neighbour.address].sort());

    const reached = await waitFor('the server answering its neighbour', async () => {
      const answer = await getFrom(driver, neighbour, server.address!, 8080);
      return answer.exitCode === 0 && answer.output.includes('hello from') ? answer : null;
    });
    assert.match(reached.output, new RegExp(`hello from ${server.taskId}`));
    const refused = await getFrom(driver, stranger, server.address!, 8080);
    assert.notEqual(refused.exitCode, 0, `another network's task reached it: ${refused.output}`);
    assert.doesNotMatch(refused.output, /hello from/);
    // Its published host port, for probes and clients outside.
    assert.match(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text(), new RegExp(`hello from ${server.taskId}`));
  });

  it('publishes a loopback port on the agent\'s loopback only', async () => {
    const hostPort = await freePort();
    const server = await start(launch({ cmd: SERVE, network: `${PREFIX}-blue`, containerPorts: [8080], loopbackPorts: [true] }, {}, [hostPort]));
    const inspected = await engine.getContainer((server as unknown as { id: string }).id).inspect();
    assert.deepEqual(inspected.HostConfig.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] });
    const text = await waitFor('the server answering on the loopback', async () => (await fetch(`http://127.0.0.1:${hostPort}/`)).text());
    assert.match(text, /hello from/);
  });

  it('makes one network of many starts at once, from two drivers sharing the engine', async () => {
    const name = `${PREFIX}-many`;
    const other = new DockerNetworks(engine);
    const ids = await Promise.all([driver.networks.ensure(name), driver.networks.ensure(name), other.ensure(name), other.ensure(name), new DockerNetworks(engine).ensure(name)]);
    const left = await networksNamed(`gantry-${name}`);
    assert.equal(left.length, 1, `one network of that name, got ${left.length}`);
    assert.deepEqual(new Set(ids), new Set([left[0]!.Id]), 'every caller uses it');
    const handles = await Promise.all([1, 2, 3].map(() => start(launch({ cmd: 'sleep 300', network: name }))));
    assert.equal(new Set(handles.map((h) => h.address)).size, 3);
    assert.equal((await networksNamed(`gantry-${name}`)).length, 1);
  });

  it('removes the network with its last task, not before; a collection removes what is left of Gantry\'s only', async () => {
    const name = `${PREFIX}-gone`;
    const first = await start(launch({ cmd: 'sleep 300', network: name }));
    const second = await start(launch({ cmd: 'sleep 300', network: name }));
    await first.destroy();
    assert.equal((await networksNamed(`gantry-${name}`)).length, 1, 'the second task still uses it');
    await second.destroy();
    assert.deepEqual(await networksNamed(`gantry-${name}`), [], 'gone with its last task');

    // Left by an agent that stopped: Gantry's goes in a collection round, another's stays.
    await engine.createNetwork({ Name: `gantry-${PREFIX}-left`, CheckDuplicate: true, Labels: { 'gantry.network': `${PREFIX}-left` } });
    await engine.createNetwork({ Name: `gantry-${PREFIX}-theirs`, CheckDuplicate: true });
    const removed = await driver.collectGarbage(ctx.dir, new Set());
    assert.ok(removed.some((line) => line.startsWith(`container network ${PREFIX}-left `)), removed.join('\n'));
    assert.deepEqual(await networksNamed(`gantry-${PREFIX}-left`), []);
    assert.equal((await networksNamed(`gantry-${PREFIX}-theirs`)).length, 1, 'not made by Gantry: never removed');
  });

  it('reads a recovered container\'s address again, and removes the network once it ended', async () => {
    const name = `${PREFIX}-recover`;
    const running = await start(launch({ cmd: 'sleep 300', network: name }));
    const again = createDockerDriver();
    const [recovered] = await again.recover(ctx.dir);
    assert.equal(recovered?.taskId, running.taskId);
    assert.equal(recovered.address, running.address);
    await recovered.kill(0);
    await recovered.destroy();
    assert.deepEqual(await networksNamed(`gantry-${name}`), []);
  });

  it('makes the network again when it was removed under a start', async () => {
    const name = `${PREFIX}-again`;
    const image = ctx.image;
    let attempts = 0;
    const started = await driver.networks.using(name, async (id) => {
      attempts++;
      if (attempts === 1) await engine.getNetwork(id).remove(); // another agent's collection, just then
      const container = await engine.createContainer({ Image: image, Cmd: ['true'], Labels: { 'gantry.test': PREFIX }, HostConfig: { NetworkMode: id } });
      try {
        await container.start();
        return container;
      } catch (err) {
        await container.remove({ force: true });
        throw err;
      }
    });
    await started.remove({ force: true });
    assert.equal(attempts, 2);
  });
});
