// The docker driver's pure parts, without an engine: image references and registry credentials, pull
// progress lines, the container's create options and limits, the demultiplexing of the engine's log,
// and the task spec / CLI rules for tasks with an image.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buildSubmission } from '../../../src/cli/commands/run.ts';
import { containerCreateOptions, containerName, describeLimits } from '../../../src/cluster/drivers/docker-create.ts';
import { containerOutput, demultiplex } from '../../../src/cluster/drivers/docker-output.ts';
import { PullProgress, pullAuthFor } from '../../../src/cluster/drivers/docker-pull.ts';
import { canonicalImageName, parseImageReference } from '../../../src/cluster/image-reference.ts';
import type { OutputChunk, TaskLaunch } from '../../../src/cluster/drivers/driver.ts';
import { parseTaskSpec } from '../../../src/cluster/task-spec.ts';
import type { TaskSpec } from '../../../src/cluster/types.ts';
import { minimalSpec } from '../../helpers/task-spec.ts';

function frame(type: number, text: string): Buffer {
  const data = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

async function all(chunks: AsyncIterable<OutputChunk>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const c of chunks) out.push([c.stream, c.data.toString()]);
  return out;
}

function launchOf(spec: Partial<TaskSpec>, extra: Partial<TaskLaunch> = {}): TaskLaunch {
  return {
    taskId: 't-abc-123',
    spec: minimalSpec({ image: 'busybox', ...spec }),
    allocation: { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [], scalars: {}, ranges: {}, sets: {} },
    sandboxDir: '/data/agent/sandboxes/t-abc-123',
    env: { GANTRY_TASK_ID: 't-abc-123', FOO: 'a=b' },
    ...extra,
  };
}

const settings = { image: 'busybox:latest', pidsLimit: 4096, init: true };

describe('docker driver: pure parts', () => {
  it('parses image references as Docker does', () => {
    const table: Array<[string, string, string]> = [
      ['busybox', 'docker.io', 'busybox:latest'],
      ['library/busybox:1.36', 'docker.io', 'library/busybox:1.36'],
      ['127.0.0.1:5000/team/app', '127.0.0.1:5000', '127.0.0.1:5000/team/app:latest'],
      ['127.0.0.1:5000/team/app:v1', '127.0.0.1:5000', '127.0.0.1:5000/team/app:v1'],
      ['registry.example.com/app@sha256:abc', 'registry.example.com', 'registry.example.com/app@sha256:abc'],
      ['localhost/app', 'localhost', 'localhost/app:latest'],
      ['Registry.Example.com:443/x/y:z', 'registry.example.com:443', 'Registry.Example.com:443/x/y:z'],
    ];
    for (const [ref, registry, normalized] of table) assert.deepEqual(parseImageReference(ref), { registry, normalized }, ref);
  });

  it('names an image as the engine lists it, so that a task\'s image matches an agent\'s inventory', () => {
    for (const ref of ['busybox', 'busybox:latest', 'docker.io/busybox', 'docker.io/library/busybox:latest', 'library/busybox']) {
      assert.equal(canonicalImageName(ref), 'busybox:latest', ref);
    }
    assert.equal(canonicalImageName('team/app:v1'), 'team/app:v1');
    assert.equal(canonicalImageName('127.0.0.1:5000/team/app'), '127.0.0.1:5000/team/app:latest');
    assert.equal(canonicalImageName('127.0.0.1:5000/library/app:v2'), '127.0.0.1:5000/library/app:v2', 'library/ is Docker Hub\'s only');
  });

  it('uses the robot account only for images on the bundled registry', () => {
    const robot = { url: 'http://127.0.0.1:5000', username: 'gantry-platform', password: 'secret' };
    assert.deepEqual(pullAuthFor('127.0.0.1:5000/team/app:v1', robot), { username: 'gantry-platform', password: 'secret', serveraddress: '127.0.0.1:5000' });
    assert.equal(pullAuthFor('127.0.0.1:5001/team/app:v1', robot), undefined);
    assert.equal(pullAuthFor('busybox', robot), undefined);
    assert.equal(pullAuthFor('127.0.0.1:5000/team/app:v1', undefined), undefined);
    const external = { url: 'https://registry.example.com', username: 'r', password: 'p' };
    assert.equal(pullAuthFor('registry.example.com/app', external)?.serveraddress, 'registry.example.com', 'the default port is left out, as in references');
  });

  it('writes pull progress as a few lines: state changes per layer, bytes at most once a second', () => {
    let now = 0;
    const progress = new PullProgress('reg/app:v1', () => now);
    progress.add({ status: 'Pulling from team/app', id: 'v1' });
    progress.add({ status: 'Pulling fs layer', id: 'aaaaaaaaaaaa' });
    progress.add({ status: 'Waiting', id: 'aaaaaaaaaaaa' });
    progress.add({ status: 'Downloading', id: 'aaaaaaaaaaaa', progressDetail: { current: 1048576, total: 4194304 } });
    now = 500;
    progress.add({ status: 'Downloading', id: 'aaaaaaaaaaaa', progressDetail: { current: 2097152, total: 4194304 } });
    now = 1200;
    progress.add({ status: 'Downloading', id: 'aaaaaaaaaaaa', progressDetail: { current: 3145728, total: 4194304 } });
    progress.add({ status: 'Download complete', id: 'aaaaaaaaaaaa' });
    progress.add({ status: 'Extracting', id: 'aaaaaaaaaaaa', progressDetail: { current: 1, total: 2 } });
    progress.add({ status: 'Pull complete', id: 'aaaaaaaaaaaa' });
    progress.add({ status: 'Pull complete', id: 'aaaaaaaaaaaa' });
    progress.add({ status: 'Digest: sha256:0123' });
    assert.deepEqual(progress.lines, [
      'gantry: pull reg/app:v1: v1: Pulling from team/app',
      'gantry: pull reg/app:v1: aaaaaaaaaaaa: Pulling fs layer',
      'gantry: pull reg/app:v1: downloading 1.0 of 4.0 MiB',
      'gantry: pull reg/app:v1: downloading 3.0 of 4.0 MiB',
      'gantry: pull reg/app:v1: aaaaaaaaaaaa: Download complete',
      'gantry: pull reg/app:v1: aaaaaaaaaaaa: Pull complete',
      'gantry: pull reg/app:v1: Digest: sha256:0123',
    ]);
  });

  it('creates the container with the limits, env, labels, mounts and ports of the task', () => {
    const options = containerCreateOptions(
      launchOf(
        { cmd: 'echo hi', mem: 32, cpus: 0.5 },
        { agentId: 'a-1', workingDir: '/data/agent/workspaces/run-1', allocation: { cpus: 0.5, mem: 32, disk: 0, gpus: 0, ports: [31001, 31007], scalars: {}, ranges: {}, sets: {} } },
      ),
      settings,
    );
    assert.equal(options.name, containerName('t-abc-123'));
    assert.equal(options.name, 'gantry-t-abc-123');
    assert.equal(options.Image, 'busybox:latest');
    assert.deepEqual(options.Env, ['GANTRY_TASK_ID=t-abc-123', 'FOO=a=b']);
    assert.deepEqual(options.Labels, { 'gantry.task': 't-abc-123', 'gantry.agent': 'a-1', 'gantry.sandbox': '/data/agent/sandboxes/t-abc-123' });
    assert.deepEqual(options.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(options.Cmd, ['echo hi']);
    assert.equal(options.WorkingDir, '/data/agent/workspaces/run-1');
    assert.deepEqual(options.ExposedPorts, { '31001/tcp': {}, '31007/tcp': {} });
    const host = options.HostConfig!;
    assert.deepEqual(host.PortBindings, { '31001/tcp': [{ HostIp: '', HostPort: '31001' }], '31007/tcp': [{ HostIp: '', HostPort: '31007' }] });
    assert.equal(host.NetworkMode, 'bridge');
    assert.deepEqual(host.Binds, ['/data/agent/sandboxes/t-abc-123:/data/agent/sandboxes/t-abc-123', '/data/agent/workspaces/run-1:/data/agent/workspaces/run-1']);
    assert.equal(host.Memory, 32 * 1024 * 1024);
    assert.equal(host.MemorySwap, 32 * 1024 * 1024);
    assert.equal(host.NanoCpus, 500_000_000);
    assert.equal(host.PidsLimit, 4096);
    assert.equal(host.Init, true);
    assert.deepEqual(host.LogConfig, { Type: 'json-file', Config: {} });
    assert.equal(describeLimits(host), 'docker: memory 32 MiB (no swap), cpu 0.5 (quota), pids 4096');
    assert.equal(describeLimits({ Memory: 0, NanoCpus: 0, PidsLimit: 0 }, ['no swap limit']), 'docker: memory unlimited, cpu unlimited; engine warnings: no swap limit');
  });

  it('runs args as the command of the image entrypoint, and neither as the image default', () => {
    const withArgs = containerCreateOptions(launchOf({ args: ['echo', 'a b'] }), settings);
    assert.equal(withArgs.Entrypoint, undefined);
    assert.deepEqual(withArgs.Cmd, ['echo', 'a b']);
    assert.equal(withArgs.WorkingDir, undefined, 'the image WORKDIR without a shared working directory');
    assert.equal(withArgs.Labels!['gantry.agent'], undefined);
    const neither = containerCreateOptions(launchOf({}), settings);
    assert.equal(neither.Entrypoint, undefined);
    assert.equal(neither.Cmd, undefined);
  });

  it('runs as the image\'s user unless the task names one, never privileged', () => {
    const imageUser = containerCreateOptions(launchOf({ cmd: 'id' }), settings);
    assert.equal(imageUser.User, undefined);
    assert.equal(imageUser.HostConfig!.Privileged, false);
    const named = containerCreateOptions(launchOf({ cmd: 'id', user: 'builder' }), settings);
    assert.equal(named.User, 'builder');
    assert.equal(named.HostConfig!.Privileged, false);
  });

  it('maps each host port from the container port the task names (Marathon\'s portMappings), the same number when 0', () => {
    const allocation = { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [31001, 31002], scalars: {}, ranges: {}, sets: {} };
    const options = containerCreateOptions(launchOf({ cmd: 'x', containerPorts: [8080, 0] }, { allocation }), settings);
    assert.deepEqual(options.ExposedPorts, { '8080/tcp': {}, '31002/tcp': {} });
    assert.deepEqual(options.HostConfig!.PortBindings, { '8080/tcp': [{ HostIp: '', HostPort: '31001' }], '31002/tcp': [{ HostIp: '', HostPort: '31002' }] });
  });

  it('publishes ports only on the bridge network; host and none as asked', () => {
    const allocation = { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [31001], scalars: {}, ranges: {}, sets: {} };
    const host = containerCreateOptions(launchOf({ cmd: 'x', network: 'host' }, { allocation }), settings);
    assert.equal(host.HostConfig!.NetworkMode, 'host');
    assert.deepEqual(host.HostConfig!.PortBindings, {});
    assert.deepEqual(host.ExposedPorts, {});
    assert.equal(containerCreateOptions(launchOf({ cmd: 'x', network: 'none' }), settings).HostConfig!.NetworkMode, 'none');
    assert.equal(containerCreateOptions(launchOf({ cmd: 'x' }), settings).HostConfig!.NetworkMode, 'bridge');
  });

  it('demultiplexes frames split anywhere into one chunk per frame', async () => {
    const stream = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, ''), frame(1, 'x'.repeat(70_000))]);
    for (const cut of [1, 3, 8, 9, 13, 20, 1000]) {
      const pieces = [stream.subarray(0, cut), stream.subarray(cut, cut + 5), stream.subarray(cut + 5)];
      const chunks = await all(demultiplex(Readable.from(pieces)));
      assert.deepEqual(chunks.map(([s, d]) => [s, d.length]), [['stdout', 5], ['stderr', 5], ['stdout', 70_000]], `cut at ${cut}`);
    }
    await assert.rejects(all(demultiplex(Readable.from([frame(1, 'abc').subarray(0, 10)]))), /ended inside a frame/);
  });

  it('puts the preamble lines on stderr before the log', async () => {
    const log = { follow: async () => Readable.from([frame(1, 'hello\n')]), read: async () => Readable.from([frame(1, 'hello\n')]), exited: Promise.resolve() };
    const output = containerOutput(['gantry: pull x: done'], log);
    assert.deepEqual(await all(output), [['stderr', 'gantry: pull x: done\n'], ['stdout', 'hello\n']]);
  });

  it('adds what a followed log missed at its end, after the container exited', async () => {
    let exited = false;
    const frames = [frame(1, 'a\n'), frame(2, 'b\n'), frame(1, 'c\n'), frame(1, 'd\n')];
    const log = {
      follow: async () => Readable.from(frames.slice(0, 2)), // ended early
      read: async () => {
        assert.ok(exited, 'read once the container has exited');
        return Readable.from([Buffer.concat(frames)]);
      },
      exited: new Promise<void>((resolve) => setTimeout(() => resolve(void (exited = true)), 20)),
    };
    assert.deepEqual(await all(containerOutput([], log)), [['stdout', 'a\n'], ['stderr', 'b\n'], ['stdout', 'c\n'], ['stdout', 'd\n']]);
  });

  it('accepts a task with an image and no command, and forcePull only with an image', () => {
    const spec = parseTaskSpec({ image: 'busybox:1', forcePull: true }, 'user:x');
    assert.equal(spec.image, 'busybox:1');
    assert.equal(spec.forcePull, true);
    assert.equal(spec.name, 'busybox:1');
    assert.equal(spec.cmd, undefined);
    assert.equal(spec.args, undefined);
    assert.throws(() => parseTaskSpec({}, 'user:x'), /exactly one of "cmd"/);
    assert.throws(() => parseTaskSpec({ cmd: 'x', args: ['y'], image: 'i' }, 'user:x'), /exactly one of "cmd"/);
    assert.throws(() => parseTaskSpec({ cmd: 'x', forcePull: true }, 'user:x'), /"forcePull" needs an "image"/);
    assert.throws(() => parseTaskSpec({ cmd: 'x', image: 'has space' }, 'user:x'), /no whitespace/);
    assert.equal(parseTaskSpec({ cmd: 'x', image: 'i', network: 'host' }, 'user:x').network, 'host');
    assert.throws(() => parseTaskSpec({ cmd: 'x', network: 'host' }, 'user:x'), /"network" needs an "image"/);
    assert.throws(() => parseTaskSpec({ cmd: 'x', image: 'i', network: 'none', ports: [0] }, 'user:x'), /network "none" cannot have ports/);
    // Any other name is a container network's, when Docker would take it.
    assert.equal(parseTaskSpec({ cmd: 'x', image: 'i', network: 'overlay' }, 'user:x').network, 'overlay');
    assert.throws(() => parseTaskSpec({ cmd: 'x', image: 'i', network: 'my net' }, 'user:x'), /network: "my net": a container network's name is letters, digits/);
  });

  it('gantry run --image: the command is optional, --force-pull needs an image', () => {
    const base = { port: [], resource: [], constraint: [], env: [] };
    assert.deepEqual(buildSubmission(['echo', 'hello'], { ...base, image: 'busybox' }), { args: ['echo', 'hello'], image: 'busybox' });
    assert.deepEqual(buildSubmission([], { ...base, image: 'busybox', forcePull: true }), { image: 'busybox', forcePull: true });
    assert.deepEqual(buildSubmission([], { ...base, image: 'busybox', sh: 'echo $HOME' }), { cmd: 'echo $HOME', image: 'busybox' });
    assert.throws(() => buildSubmission([], base), /nothing to run/);
    assert.throws(() => buildSubmission(['x'], { ...base, forcePull: true }), /--force-pull needs --image/);
    assert.deepEqual(buildSubmission(['x'], { ...base, image: 'i', network: 'none' }), { args: ['x'], image: 'i', network: 'none' });
    assert.throws(() => buildSubmission(['x'], { ...base, image: 'i', network: 'overlay' }), /--network must be one of bridge, host, none/);
    assert.throws(() => buildSubmission(['x'], { ...base, network: 'host' }), /--network needs --image/);
  });
});
