// The docker driver against the real engine, with a busybox image made locally (test/helpers/docker.ts):
// output and exit code, environment and directories, OOM, a published port, kill with its grace period,
// destroy, recovery by a new driver instance, and failures to pull or start.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createDockerDriver } from '../../../src/cluster/drivers/docker.ts';
import type { DockerTaskHandle } from '../../../src/cluster/drivers/docker-task-handle.ts';
import type { OutputChunk, TaskHandle } from '../../../src/cluster/drivers/driver.ts';
import { collect, text } from './exec-helpers.ts';
import { useDockerDriver } from './docker-helpers.ts';
import { freePort } from '../../helpers/processes.ts';

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The first chunk of a task's output (read with a stream of its own, closed afterwards). */
async function firstLine(handle: TaskHandle): Promise<string> {
  const logs = handle.logs();
  try {
    const first = await new Promise<OutputChunk>((resolve, reject) => {
      logs.once('data', resolve);
      logs.once('error', reject);
    });
    return first.data.toString();
  } finally {
    logs.destroy();
  }
}

describe('docker driver', function () {
  this.timeout(30_000);
  const { driver, ctx, launch, start, track } = useDockerDriver('gantry-test/busybox:docker-driver');

  it('is available when an engine answers, and is called docker', async () => {
    assert.equal(driver.name, 'docker');
    assert.equal(await driver.available(), true);
    const absent = createDockerDriver({ docker: new (driver.docker.constructor as new (o: object) => typeof driver.docker)({ socketPath: '/nonexistent/docker.sock' }) });
    assert.equal(await absent.available(), false);
  });

  it('streams stdout and stderr in order as they come, and reports the exit code', async () => {
    const started = Date.now();
    const handle = await start(launch({ cmd: 'echo out1; sleep 0.3; echo err1 >&2; sleep 0.3; echo out2; sleep 0.3; echo err2 >&2; sleep 1; exit 7' }));
    const [a, b] = await Promise.all([collect(handle.logs()), collect(handle.logs())]);
    for (const chunks of [a, b]) {
      assert.deepEqual(chunks.map((c) => [c.stream, c.data.toString()]), [['stdout', 'out1\n'], ['stderr', 'err1\n'], ['stdout', 'out2\n'], ['stderr', 'err2\n']]);
      assert.ok(chunks[0]!.at - started < chunks[3]!.at - started - 500, 'the first line came well before the last: streamed, not at the end');
    }
    assert.deepEqual(await handle.wait(), { exitCode: 7, signal: null, oomKilled: false, killed: false });
    // A reader that starts after the end still gets everything, from the start.
    assert.equal(text(await collect(handle.logs()), 'stderr'), 'err1\nerr2\n');
  });

  it('delivers a large output intact', async () => {
    const handle = await start(launch({ cmd: 'seq 1 30000; seq 1 20000 >&2' }));
    const chunks = await collect(handle.logs());
    const expected = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');
    assert.equal(text(chunks, 'stdout'), expected(30000));
    assert.equal(text(chunks, 'stderr'), expected(20000));
    assert.equal((await handle.wait()).exitCode, 0);
  });

  it('gives the task its environment, its limits, its sandbox and its working directory', async () => {
    const l = launch({ cmd: 'echo "foo=$FOO"; pwd; echo made-inside > "$GANTRY_SANDBOX/inside.txt"; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || true', cpus: 0.5, mem: 48 }, { FOO: 'bar baz' });
    l.env.GANTRY_SANDBOX = l.sandboxDir;
    l.workingDir = path.join(ctx.dir, 'workspaces', 'run-1');
    const handle = await start(l);
    assert.equal(handle.limits, 'docker: memory 48 MiB (no swap), cpu 0.5 (quota), pids 4096');
    const chunks = await collect(handle.logs());
    assert.equal((await handle.wait()).exitCode, 0, text(chunks, 'stderr'));
    const lines = text(chunks, 'stdout').trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['foo=bar baz', l.workingDir]);
    assert.equal(await readFile(path.join(l.sandboxDir, 'inside.txt'), 'utf8'), 'made-inside\n');
    const inspected = await (handle as DockerTaskHandle).container.inspect();
    assert.equal(inspected.HostConfig.Memory, 48 * 1024 * 1024);
    assert.equal(inspected.HostConfig.NanoCpus, 500_000_000);
    assert.deepEqual(inspected.Config.Labels, { 'gantry.task': l.taskId, 'gantry.agent': 'a-docker-test', 'gantry.sandbox': l.sandboxDir });
  });

  it('runs args without a shell', async () => {
    const handle = await start(launch({ args: ['printf', '%s|', 'a b', '$FOO', '; echo no'] }, { FOO: 'x' }));
    assert.equal(text(await collect(handle.logs()), 'stdout'), 'a b|$FOO|; echo no|');
    assert.equal((await handle.wait()).exitCode, 0);
  });

  it('reports an OOM kill when the task exceeds its memory limit', async () => {
    const handle = await start(launch({ cmd: 'echo start; head -c 200m /dev/zero | tail', mem: 32 }));
    const exit = await handle.wait();
    assert.deepEqual(exit, { exitCode: 137, signal: null, oomKilled: true, killed: false });
    assert.equal(text(await collect(handle.logs()), 'stdout'), 'start\n');
  });

  it('publishes each allocated host port from the same port inside the container', async () => {
    const port = await freePort();
    const handle = await start(
      launch({ cmd: 'mkdir -p /tmp/www && echo "hello from $PORT0" > /tmp/www/index.html && exec httpd -f -p "$PORT0" -h /tmp/www' }, { PORT0: String(port) }, [port]),
    );
    const body = await waitFor('the published port to answer', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      return response.ok ? response.text() : null;
    });
    assert.equal(body, `hello from ${port}\n`);
    const exit = await handle.kill(5000);
    assert.equal(exit.killed, true);
  });

  it('publishes a host port from the container port the task maps it from (Marathon\'s portMappings)', async () => {
    const port = await freePort();
    const handle = await start(
      launch({ cmd: 'mkdir -p /tmp/www && echo "inside on 8080, outside on $PORT0" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www', containerPorts: [8080] }, { PORT0: String(port) }, [port]),
    );
    const body = await waitFor('the mapped port to answer', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
      return response?.ok ? response.text() : null;
    });
    assert.equal(body, `inside on 8080, outside on ${port}\n`);
    await handle.kill(5000);
  });

  it('runs on the host network or with no network when the task says so', async () => {
    const interfaces = 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort';
    const none = await start(launch({ cmd: interfaces, network: 'none' }));
    assert.equal(text(await collect(none.logs()), 'stdout'), 'lo\n');
    const host = await start(launch({ cmd: interfaces, network: 'host' }));
    const hostInterfaces = (await readFile('/proc/net/dev', 'utf8')).split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean).sort();
    assert.deepEqual(text(await collect(host.logs()), 'stdout').trim().split('\n'), hostInterfaces);
  });

  it('kill sends SIGKILL after the grace period to a task that ignores SIGTERM', async () => {
    const handle = await start(launch({ cmd: 'trap "" TERM; echo ready; while :; do sleep 0.1; done' }));
    const logs = collect(handle.logs());
    await firstLine(handle);
    const before = Date.now();
    const exit = await handle.kill(1000);
    const took = Date.now() - before;
    assert.ok(took >= 950 && took < 5000, `kill took ${took} ms`);
    assert.deepEqual(exit, { exitCode: 137, signal: null, oomKilled: false, killed: true });
    assert.equal(text(await logs, 'stdout'), 'ready\n');
  });

  it('kill returns early when the task ends on SIGTERM, and after the end it only reports the exit', async () => {
    const graceful = await start(launch({ cmd: 'trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.1; done' }));
    const logs = collect(graceful.logs());
    await firstLine(graceful);
    const before = Date.now();
    assert.deepEqual(await graceful.kill(10_000), { exitCode: 0, signal: null, oomKilled: false, killed: true });
    assert.ok(Date.now() - before < 3000);
    assert.equal(text(await logs, 'stdout'), 'ready\nbye\n');

    const plain = await start(launch({ cmd: 'sleep 30' }));
    const t = Date.now();
    assert.equal((await plain.kill(10_000)).exitCode, 143, 'a command without a handler dies of SIGTERM (the init forwards it)');
    assert.ok(Date.now() - t < 3000);

    const done = await start(launch({ cmd: 'exit 4' }));
    await done.wait();
    assert.deepEqual(await done.kill(0), { exitCode: 4, signal: null, oomKilled: false, killed: false });
  });

  it('destroy kills a running container and leaves it, exited, to the container GC; twice is fine', async () => {
    const handle = (await driver.start(launch({ cmd: 'sleep 30' }))) as DockerTaskHandle;
    await handle.destroy();
    await handle.destroy();
    assert.equal((await handle.wait()).killed, true);
    const inspected = await handle.container.inspect();
    assert.equal(inspected.State.Running, false, 'kept for the GC delay (docker-gc.test.ts), stopped');
  });

  it('recover() in a new driver finds the running and the exited containers of its sandbox root only', async () => {
    const running = await start(launch({ cmd: 'echo started; sleep 30' }));
    const exited = await start(launch({ cmd: 'echo early; exit 3' }));
    await exited.wait();
    await writeFile(path.join(ctx.dir, 'not-a-sandbox'), '');
    await waitFor('the first line', async () => text(await collect(exited.logs()), 'stdout') === 'early\n');

    const again = createDockerDriver();
    assert.deepEqual(await again.recover(path.join(ctx.dir, 'elsewhere')), []);
    const recovered = await again.recover(ctx.dir);
    assert.deepEqual(recovered.map((h) => h.taskId).sort(), [running.taskId, exited.taskId].sort());
    for (const handle of recovered) track(handle);
    const byId = new Map(recovered.map((h) => [h.taskId, h]));
    const exitedAgain = byId.get(exited.taskId)!;
    assert.deepEqual(await exitedAgain.wait(), { exitCode: 3, signal: null, oomKilled: false, killed: false });
    assert.equal(text(await collect(exitedAgain.logs()), 'stdout'), 'early\n');
    const runningAgain = byId.get(running.taskId)!;
    assert.equal(runningAgain.limits, running.limits);
    assert.equal(await firstLine(runningAgain), 'started\n');
    assert.equal((await runningAgain.kill(0)).killed, true);
    assert.equal((await running.wait()).exitCode, 137, 'the old handle sees the same end');
  });

  it('replaces a stopped container left by an earlier launch of the same task', async () => {
    const l = launch({ cmd: 'echo first' });
    const first = await driver.start(l); // not destroyed: as if the agent died before it could
    await first.wait();
    const second = await start({ ...l, spec: { ...l.spec, cmd: 'echo second' } });
    assert.equal(text(await collect(second.logs()), 'stdout'), 'second\n');
  });

  it('fails to start with the engine\'s words when the image cannot be pulled or the command not run', async () => {
    await assert.rejects(driver.start(launch({ cmd: 'true', image: '127.0.0.1:1/nothing/here:v1' })), /cannot pull 127\.0\.0\.1:1\/nothing\/here:v1: .*(connection refused|dial tcp)/);
    const missing = await start(launch({ args: ['no-such-command-gantry'] }));
    const exit = await missing.wait();
    assert.notEqual(exit.exitCode, 0);
    assert.match(text(await collect(missing.logs()), 'stderr'), /no-such-command-gantry/);
  });
});
