import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { commandArgv, execEnvironment } from '../../../src/cluster/drivers/exec.ts';
import { collect, isAlive, launch, readPid, text, useExecDriver } from './exec-helpers.ts';

describe('exec driver', function () {
  this.timeout(30_000);
  const { driver, start, track, sandboxes: root } = useExecDriver();

  it('is available on Linux and is called exec', async () => {
    assert.equal(driver.name, 'exec');
    assert.equal(await driver.available(), process.platform === 'linux');
  });

  it('reports exit codes 0 and 3', async () => {
    const ok = await start(root.dir, { cmd: 'true' });
    const three = await start(root.dir, { cmd: 'exit 3' });
    assert.deepEqual(await ok.wait(), { exitCode: 0, signal: null, oomKilled: false, killed: false });
    assert.deepEqual(await three.wait(), { exitCode: 3, signal: null, oomKilled: false, killed: false });
    assert.equal(await three.wait(), await three.wait(), 'every caller gets the same exit');
  });

  it('runs in the sandbox (created if missing) with exactly the given environment, plus PATH and HOME defaults', async () => {
    process.env.GANTRY_TEST_AGENT_ONLY = 'agent secret';
    try {
      const l = launch(path.join(root.dir, 'deeper'), { cmd: 'pwd; echo "foo=$FOO"; echo "home=$HOME"; echo "path=$PATH"; echo "agent=${GANTRY_TEST_AGENT_ONLY:-unset}"' }, { FOO: 'bar baz' });
      const handle = track(await driver.start(l));
      assert.equal((await handle.wait()).exitCode, 0);
      const lines = (await readFile(path.join(l.sandboxDir, 'stdout'), 'utf8')).trim().split('\n');
      assert.deepEqual(lines, [l.sandboxDir, 'foo=bar baz', `home=${l.sandboxDir}`, `path=${process.env.PATH}`, 'agent=unset']);
    } finally {
      delete process.env.GANTRY_TEST_AGENT_ONLY;
    }
  });

  it('with startAt ahead, prepares the task at once and starts its command at that instant (cmd and args)', async () => {
    const startAt = Date.now() + 700;
    const spec = { startAt: new Date(startAt).toISOString() };
    const t0 = Date.now();
    const viaCmd = await start(root.dir, { ...spec, cmd: 'date +%s%N; read line; echo "stdin:$line"' });
    const viaArgs = await start(root.dir, { ...spec, args: ['date', '+%s%N'] });
    assert.ok(Date.now() - t0 < 500, 'start() does not wait for the instant');
    assert.equal((await viaCmd.wait()).exitCode, 0);
    assert.equal((await viaArgs.wait()).exitCode, 0);
    for (const handle of [viaCmd, viaArgs]) {
      const ran = Number(text(await collect(handle.logs()), 'stdout').split('\n')[0]) / 1e6;
      assert.ok(ran >= startAt, `ran ${ran - startAt} ms after its instant`);
      assert.ok(ran < startAt + 200, `ran ${ran - startAt} ms after its instant`);
    }
    assert.match(text(await collect(viaCmd.logs()), 'stdout'), /\nstdin:\n$/, 'the command gets /dev/null as stdin, as without startAt');
  });

  it('keeps PATH and HOME given by the caller', () => {
    assert.deepEqual(execEnvironment({ sandboxDir: '/sb', env: { PATH: '/opt/bin', HOME: '/home/x' } }, '/agent/bin'), { PATH: '/opt/bin', HOME: '/home/x' });
    assert.deepEqual(execEnvironment({ sandboxDir: '/sb', env: {} }, ''), {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/sb',
    });
  });

  it('runs cmd through /bin/sh -c and args directly, looked up in PATH', async () => {
    const viaShell = await start(root.dir, { cmd: 'printf "%s|" "a b" $FOO' }, { PATH: process.env.PATH!, FOO: 'x y' });
    const direct = await start(root.dir, { args: ['printf', '%s|', 'a b', '$FOO', '; echo no'] }, { PATH: process.env.PATH!, FOO: 'x y' });
    const [shellOut, directOut] = await Promise.all([collect(viaShell.logs()), collect(direct.logs())]);
    assert.equal(text(shellOut, 'stdout'), 'a b|x|y|');
    assert.equal(text(directOut, 'stdout'), 'a b|$FOO|; echo no|');
    const missing = await start(root.dir, { args: ['no-such-command-gantry'] }, { PATH: '/usr/bin:/bin' });
    assert.equal((await missing.wait()).exitCode, 127);
    assert.match(text(await collect(missing.logs()), 'stderr'), /no-such-command-gantry: not found/);
    assert.throws(() => commandArgv({}), /exactly one of cmd and args/);
    assert.throws(() => commandArgv({ cmd: 'x', args: ['y'] }), /exactly one of cmd and args/);
  });

  it('separates stdout and stderr', async () => {
    const handle = await start(root.dir, { cmd: 'echo out1; echo err1 >&2; echo out2; echo err2 >&2' });
    const chunks = await collect(handle.logs());
    assert.equal(text(chunks, 'stdout'), 'out1\nout2\n');
    assert.equal(text(chunks, 'stderr'), 'err1\nerr2\n');
  });

  it('streams output while the task runs, to several readers at once', async () => {
    const started = Date.now();
    const handle = await start(root.dir, { cmd: 'echo first; sleep 2; echo second' });
    const [a, b] = await Promise.all([collect(handle.logs()), collect(handle.logs())]);
    const exitedAt = Date.now();
    for (const chunks of [a, b]) {
      assert.equal(text(chunks, 'stdout'), 'first\nsecond\n');
      const first = chunks[0]!;
      assert.equal(first.data.toString(), 'first\n');
      assert.ok(first.at - started < 1000, `first chunk after ${first.at - started} ms`);
      assert.ok(exitedAt - first.at > 1500, 'the first chunk came well before the exit');
    }
    // A reader that starts after the end still gets everything, from the start.
    assert.equal(text(await collect(handle.logs()), 'stdout'), 'first\nsecond\n');
  });

  it('kill stops the whole process group: a child that ignores TERM and a background grandchild', async () => {
    const l = launch(root.dir, {
      cmd: [
        `sh -c 'trap "" TERM; sleep 100 & echo $! > grandchild.pid; echo $$ > child.pid; while :; do sleep 0.1; done' &`,
        'echo started; wait',
      ].join('\n'),
    });
    const handle = track(await driver.start(l));
    const child = await readPid(path.join(l.sandboxDir, 'child.pid'));
    const grandchild = await readPid(path.join(l.sandboxDir, 'grandchild.pid'));
    assert.ok(isAlive(child) && isAlive(grandchild));
    const before = Date.now();
    const exit = await handle.kill(500);
    assert.ok(Date.now() - before >= 450, 'the ignoring child got its grace period');
    assert.equal(exit.killed, true);
    assert.equal(exit.signal, 'SIGTERM', 'the main shell died of the SIGTERM');
    assert.equal(isAlive(child), false, 'the child that ignores TERM is gone');
    assert.equal(isAlive(grandchild), false, 'the grandchild is gone');
    assert.deepEqual(await handle.wait(), exit);
  });

  it('kill sends SIGKILL after the grace period to a task that ignores SIGTERM', async () => {
    const handle = await start(root.dir, { cmd: 'trap "" TERM; echo ready; while :; do sleep 0.1; done' });
    const logs = handle.logs();
    await new Promise((r) => logs.once('data', r));
    const before = Date.now();
    const exit = await handle.kill(300);
    const took = Date.now() - before;
    assert.ok(took >= 280 && took < 3000, `kill took ${took} ms`);
    assert.deepEqual(exit, { exitCode: null, signal: 'SIGKILL', oomKilled: false, killed: true });
    logs.resume();
    await new Promise((r) => logs.on('end', r));
  });

  it('sends SIGTERM once to a task whose processes stay in its group (with cgroups too)', async () => {
    const handle = await start(root.dir, { cmd: 'n=0; trap \'n=$((n+1)); echo "term $n"\' TERM; echo ready; while :; do sleep 0.1; done', mem: 64 });
    const output = collect(handle.logs());
    await new Promise((r) => setTimeout(r, 300));
    await handle.kill(800);
    const printed = text(await output, 'stdout');
    assert.match(printed, /term 1/);
    assert.doesNotMatch(printed, /term 2/, printed);
  });

  it('kill returns early when the task ends on SIGTERM, and after the end it only reports the exit', async () => {
    const graceful = await start(root.dir, { cmd: 'trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.1; done' });
    const logs = collect(graceful.logs());
    while (!(await readFile(path.join(root.dir, graceful.taskId, 'stdout'), 'utf8')).includes('ready')) await new Promise((r) => setTimeout(r, 20));
    const before = Date.now();
    assert.deepEqual(await graceful.kill(10_000), { exitCode: 0, signal: null, oomKilled: false, killed: true });
    assert.ok(Date.now() - before < 3000);
    assert.equal(text(await logs, 'stdout'), 'ready\nbye\n');

    const done = await start(root.dir, { cmd: 'exit 4' });
    await done.wait();
    assert.deepEqual(await done.kill(0), { exitCode: 4, signal: null, oomKilled: false, killed: false });
  });

  it('kills what the main process left behind when it exits', async () => {
    const l = launch(root.dir, { cmd: 'sleep 100 & echo $! > bg.pid; exit 0' });
    const handle = track(await driver.start(l));
    assert.equal((await handle.wait()).exitCode, 0);
    assert.equal(isAlive(await readPid(path.join(l.sandboxDir, 'bg.pid'))), false);
  });

  it('writes task.json and survives destroy twice', async () => {
    const l = launch(root.dir, { cmd: 'sleep 100' });
    const handle = await driver.start(l);
    const record = JSON.parse(await readFile(path.join(l.sandboxDir, 'task.json'), 'utf8')) as { pid: number; pgid: number; startTime: number };
    assert.equal(record.pgid, record.pid);
    assert.ok(record.startTime > 0);
    assert.ok(isAlive(record.pid));
    await handle.destroy(); // destroy of a running task kills it first
    await handle.destroy();
    assert.equal(isAlive(record.pid), false);
    assert.equal((await handle.wait()).killed, true);
  });
});
