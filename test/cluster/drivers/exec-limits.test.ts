// Memory and CPU limits. As root they are enforced with cgroups and checked for real; otherwise the
// tests check that the driver says why it could not enforce them (and that the task still runs).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { setUpTaskCgroup } from '../../../src/cluster/drivers/cgroups.ts';
import { createExecDriver } from '../../../src/cluster/drivers/exec.ts';
import type { ExecTaskRecord } from '../../../src/cluster/drivers/task-record.ts';
import { collect, isRoot, launch, text, useExecDriver } from './exec-helpers.ts';

const NOT_ROOT = 'not enforced: not running as root';

/** Allocates and touches ~200 MiB: python3 where there is one, else node. */
const ALLOCATE_200_MIB = [
  'if command -v python3 >/dev/null 2>&1; then',
  `  exec python3 -c 'b = b"x" * (200 * 1024 * 1024); print(len(b))'`,
  'else',
  `  exec node -e 'const b = []; for (let i = 0; i < 200; i++) b.push(Buffer.alloc(1 << 20, 1)); console.log(b.length)'`,
  'fi',
].join('\n');

async function taskRecord(sandboxDir: string): Promise<ExecTaskRecord> {
  return JSON.parse(await readFile(path.join(sandboxDir, 'task.json'), 'utf8')) as ExecTaskRecord;
}

describe(`exec driver limits (${isRoot ? 'as root: cgroups' : 'not root: not enforced'})`, function () {
  this.timeout(60_000);
  const { startLaunch: start, track, sandboxes: root } = useExecDriver();

  it('says what it enforces in the limits string', async () => {
    const both = await start(launch(root.dir, { cmd: 'true', mem: 64, cpus: 0.5 }));
    const memOnly = await start(launch(root.dir, { cmd: 'true', mem: 64 }));
    const none = await start(launch(root.dir, { cmd: 'true' }));
    if (isRoot) {
      assert.match(both.limits, /^cgroup v[12]: memory 64 MiB, cpu 0\.5$/);
      assert.match(memOnly.limits, /^cgroup v[12]: memory 64 MiB$/);
    } else {
      assert.equal(both.limits, NOT_ROOT);
      assert.equal(memOnly.limits, NOT_ROOT);
    }
    assert.equal(none.limits, 'none requested');
    for (const h of [both, memOnly, none]) assert.equal((await h.wait()).exitCode, 0);
  });

  it('answers "not running as root" for any other user', async () => {
    assert.deepEqual(await setUpTaskCgroup('x', { memMiB: 64, cpus: 1 }, { uid: 1000 }), { cgroup: null, limits: NOT_ROOT });
  });

  it('runs the command inside its cgroups from its first instruction, with the limits written', async () => {
    const l = launch(root.dir, { args: ['cat', '/proc/self/cgroup'], mem: 48, cpus: 0.25 });
    const handle = await start(l);
    assert.equal((await handle.wait()).exitCode, 0);
    const ownCgroups = text(await collect(handle.logs()), 'stdout');
    const record = await taskRecord(l.sandboxDir);
    if (!isRoot) {
      assert.deepEqual(record.cgroups, {});
      return;
    }
    const memory = record.cgroups.memory!;
    const cpu = record.cgroups.cpu!;
    assert.ok(memory && cpu, JSON.stringify(record.cgroups));
    // `cat` itself (exec'd by the driver's shell) reports being in the task's cgroups.
    const line = memory.version === 1 ? /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m : /^0::(.*)$/m;
    assert.ok(memory.dir.endsWith(line.exec(ownCgroups)?.[1] ?? '<none>'), `${memory.dir} vs\n${ownCgroups}`);
    if (memory.version === 1) {
      assert.equal((await readFile(path.join(memory.dir, 'memory.limit_in_bytes'), 'utf8')).trim(), String(48 * 1024 * 1024));
    } else {
      assert.equal((await readFile(path.join(memory.dir, 'memory.max'), 'utf8')).trim(), String(48 * 1024 * 1024));
    }
    if (cpu.version === 1) {
      assert.equal((await readFile(path.join(cpu.dir, 'cpu.cfs_quota_us'), 'utf8')).trim(), '25000');
      assert.equal((await readFile(path.join(cpu.dir, 'cpu.cfs_period_us'), 'utf8')).trim(), '100000');
    } else {
      assert.equal((await readFile(path.join(cpu.dir, 'cpu.max'), 'utf8')).trim(), '25000 100000');
    }
    await handle.destroy();
    await handle.destroy(); // idempotent
    assert.equal(existsSync(memory.dir), false, 'destroy removed the memory cgroup');
    assert.equal(existsSync(cpu.dir), false, 'destroy removed the cpu cgroup');
  });

  it('kills a task that allocates past its memory limit and reports oomKilled', async () => {
    const handle = await start(launch(root.dir, { cmd: ALLOCATE_200_MIB, mem: 32 }));
    const exit = await handle.wait();
    if (isRoot) {
      assert.equal(exit.oomKilled, true, JSON.stringify(exit));
      assert.ok(exit.signal === 'SIGKILL' || exit.exitCode === 137, JSON.stringify(exit));
      assert.equal(exit.killed, false);
    } else {
      assert.equal(handle.limits, NOT_ROOT);
      assert.deepEqual(exit, { exitCode: 0, signal: null, oomKilled: false, killed: false });
    }
  });

  it('does not call a task that stayed under its limit oomKilled', async () => {
    const handle = await start(launch(root.dir, { cmd: 'exit 2', mem: 64 }));
    assert.deepEqual(await handle.wait(), { exitCode: 2, signal: null, oomKilled: false, killed: false });
  });

  it('throttles a busy task to its CPU quota', async function () {
    if (!isRoot) {
      const handle = await start(launch(root.dir, { cmd: 'true', cpus: 0.1 }));
      assert.equal(handle.limits, NOT_ROOT);
      return;
    }
    const l = launch(root.dir, { cmd: 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done', cpus: 0.1 });
    const handle = await start(l);
    assert.equal((await handle.wait()).exitCode, 0);
    const cpu = (await taskRecord(l.sandboxDir)).cgroups.cpu!;
    const stat = await readFile(path.join(cpu.dir, 'cpu.stat'), 'utf8');
    assert.ok(Number(/^nr_throttled (\d+)$/m.exec(stat)?.[1]) > 0, stat);
  });

  it('puts task cgroups under cgroupRoot when given', async function () {
    const cgroupRoot = `/gantry-test-${process.pid}`;
    const custom = createExecDriver({ cgroupRoot });
    const l = launch(root.dir, { cmd: 'true', mem: 16 });
    const handle = track(await custom.start(l));
    await handle.wait();
    if (!isRoot) {
      assert.equal(handle.limits, NOT_ROOT);
      return;
    }
    const memory = (await taskRecord(l.sandboxDir)).cgroups.memory!;
    assert.ok(memory.dir.endsWith(`${cgroupRoot}/${l.taskId}`), memory.dir);
    await handle.destroy();
    await rmdir(path.dirname(memory.dir));
  });
});
