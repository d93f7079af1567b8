// Container networks in the pool, without an engine: the names a task may give (Docker's rule; never one
// of Docker's own networks), the container Docker is asked for (attached to `gantry-<name>`, labelled,
// its ports published, some on the loopback only), and the master recording the address the agent
// reports with the run (cleared while a restarted task waits, recorded again for its next run).
import assert from 'node:assert/strict';
import { namedNetworkOf, networkNameProblem } from '../../src/cluster/container-network.ts';
import { containerCreateOptions } from '../../src/cluster/drivers/docker-create.ts';
import type { TaskLaunch } from '../../src/cluster/drivers/driver.ts';
import { parseTaskSpec } from '../../src/cluster/task-spec.ts';
import type { TaskSpec } from '../../src/cluster/types.ts';
import { ScriptedAgent, startTestMaster, taskWhere, type TestMaster } from '../helpers/in-process-master.ts';
import { ManualTime } from '../helpers/manual-time.ts';
import { minimalSpec } from '../helpers/task-spec.ts';

const launchOf = (spec: Partial<TaskSpec>, ports: number[] = []): TaskLaunch => ({
  taskId: 't-net',
  spec: minimalSpec({ image: 'web', ...spec }),
  allocation: { cpus: 0, mem: 0, disk: 0, gpus: 0, ports, scalars: {}, ranges: {}, sets: {} },
  sandboxDir: '/tmp/sandboxes/t-net',
  env: {},
  agentId: 'a-1',
});
const settings = { image: 'web:1', pidsLimit: 0, init: true };

describe('container networks: task specs', () => {
  it('takes a name Docker takes as a container network, beside Docker\'s own networks', () => {
    for (const name of ['blue', 'Blue-2', 'team_a.prod', 'x', 'a'.repeat(63)]) {
      assert.equal(networkNameProblem(name), null, name);
      assert.equal(parseTaskSpec({ image: 'web', network: name }, 'cli').network, name);
      assert.equal(namedNetworkOf({ network: name }), name);
    }
    for (const own of ['bridge', 'host', 'none', undefined]) assert.equal(namedNetworkOf({ network: own }), null, String(own));
  });

  it('refuses names Docker refuses or reserves, and a network without an image', () => {
    const refused: Array<[string, RegExp]> = [
      ['my net', /"my net": a container network's name is letters, digits, _ \. - \(at most 63\), starting with a letter or digit/],
      ['-blue', /starting with a letter or digit/],
      ['.hidden', /starting with a letter or digit/],
      ['a'.repeat(64), /at most 63/],
      ['blue/red', /letters, digits/],
      ['container:web', /letters, digits/],
      ['', /letters, digits/],
      ['default', /one of Docker's own networks \(bridge, host, none, default\)/],
      ['Bridge', /one of Docker's own networks/],
    ];
    for (const [name, message] of refused) {
      assert.throws(() => parseTaskSpec({ image: 'web', network: name }, 'cli'), (err: Error) => message.test(err.message) && /^invalid task: network: /.test(err.message), name);
    }
    assert.throws(() => parseTaskSpec({ cmd: 'x', network: 'blue' }, 'cli'), /"network" needs an "image"/);
  });

  it('maps container ports on a container network, and publishes some on the loopback only', () => {
    const spec = parseTaskSpec({ image: 'web', network: 'blue', ports: [0, 0], containerPorts: [8080, 9090], loopbackPorts: [true, false] }, 'cli');
    assert.deepEqual([spec.network, spec.containerPorts, spec.loopbackPorts], ['blue', [8080, 9090], [true, false]]);
    assert.equal(parseTaskSpec({ image: 'web', ports: [0], loopbackPorts: [false] }, 'cli').loopbackPorts, undefined, 'none on the loopback: nothing to say');
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ image: 'web', network: 'host', ports: [0], loopbackPorts: [true] }, /"loopbackPorts" .* needs an "image" and network "bridge" or a container network's name/],
      [{ cmd: 'x', ports: [0], loopbackPorts: [true] }, /"loopbackPorts" .* needs an "image"/],
      [{ image: 'web', network: 'blue', ports: [0, 0], loopbackPorts: [true] }, /"loopbackPorts" has one entry per entry of "ports" \(2\), got 1/],
    ];
    for (const [input, message] of refused) assert.throws(() => parseTaskSpec(input, 'cli'), message);
  });

  it('asks Docker for a container attached to gantry-<name>, labelled, its ports published as on bridge', () => {
    const options = containerCreateOptions(launchOf({ network: 'blue', containerPorts: [8080, 0], loopbackPorts: [true, false] }, [31001, 31002]), settings);
    assert.equal(options.HostConfig!.NetworkMode, 'gantry-blue');
    assert.equal(options.Labels!['gantry.network'], 'blue');
    assert.deepEqual(options.ExposedPorts, { '8080/tcp': {}, '31002/tcp': {} });
    assert.deepEqual(options.HostConfig!.PortBindings, {
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '31001' }],
      '31002/tcp': [{ HostIp: '', HostPort: '31002' }],
    });
    const bridge = containerCreateOptions(launchOf({}, [31001]), settings);
    assert.equal(bridge.HostConfig!.NetworkMode, 'bridge');
    assert.equal(bridge.Labels!['gantry.network'], undefined);
  });
});

describe('container networks: the master records the address of each run', function () {
  this.timeout(20_000);
  let pool: TestMaster;

  beforeEach(async () => {
    pool = await startTestMaster(new ManualTime(new Date('2026-03-02T09:00:00.000Z')));
  });
  afterEach(async () => pool.close());

  it('records the address reported with the run, clears it while the task waits to restart, and records the next run\'s', async () => {
    const agent = await ScriptedAgent.register(pool.master, 'worker-1');
    const other = await ScriptedAgent.register(pool.master, 'worker-2');
    // The master records what the agent reports (the scripted agents have no docker attribute to place an image on).
    const task = await pool.cluster.submit('user:a', { cmd: 'serve', cpus: 1, mem: 64, constraints: ['hostname:IS:worker-1'], restart: { policy: 'always' } });
    await taskWhere(pool.master, task.id, (t) => t.state === 'staging');
    await agent.poll();
    agent.running.add(task.id);
    await agent.report({ taskId: task.id, state: 'running', address: '172.18.0.2' });
    assert.equal((await pool.master.getTask(task.id)).address, '172.18.0.2');

    await agent.report({ taskId: task.id, state: 'restarting', exitCode: 1, restarts: 1, restartAt: '2026-03-02T09:00:01.000Z' });
    assert.equal((await pool.master.getTask(task.id)).address, null, 'the ended run\'s container had it');
    const next = taskWhere(pool.master, task.id, (t) => t.address === '172.18.0.3');
    await agent.report({ taskId: task.id, state: 'running', address: '172.18.0.3' });
    const recorded = await next;
    assert.equal(recorded.state, 'running');

    // The same address again changes nothing; another agent's report is refused and changes nothing.
    const version = recorded.version;
    await agent.report({ taskId: task.id, state: 'running', address: '172.18.0.3' });
    assert.equal((await pool.master.getTask(task.id)).version, version);
    await assert.rejects(other.report({ taskId: task.id, state: 'running', address: '172.18.0.9' }), /not assigned to agent/);
    await agent.finish(task.id, 1);
    await agent.report({ taskId: task.id, state: 'running', address: '172.18.0.4' }).catch(() => undefined);
    assert.equal((await pool.master.getTask(task.id)).address, '172.18.0.3', 'an ended task keeps the address it had');
  });

  it('keeps null for a task that reports no address', async () => {
    const agent = await ScriptedAgent.register(pool.master, 'worker-1');
    const task = await pool.cluster.submit('user:a', { cmd: 'true', cpus: 1, mem: 64 });
    await taskWhere(pool.master, task.id, (t) => t.state === 'staging');
    await agent.pollAndStart();
    const running = await pool.master.getTask(task.id);
    assert.deepEqual([running.state, running.address], ['running', null]);
  });
});
