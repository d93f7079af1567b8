// recover(): an agent started tasks and died; a new agent finds them from their sandboxes' task.json,
// follows the running ones' output and end, and can kill them. Their exit codes come from exit.json,
// written by the launcher helper that started them (it outlives the agent).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TaskHandle } from '../../../src/cluster/drivers/driver.ts';
import { createExecDriver } from '../../../src/cluster/drivers/exec.ts';
import { readProcStat } from '../../../src/cluster/drivers/process-group.ts';
import { readTaskRecord, writeTaskRecord } from '../../../src/cluster/drivers/task-record.ts';
import { collect, isAlive, isRoot, readPid, tempRoot, text } from './exec-helpers.ts';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'start-and-die.ts');

describe('exec driver recover', function () {
  /** Runs the fixture: an "agent" process that starts three tasks and exits. */
  const startAndDie = async (): Promise<Record<string, { taskId: string; sandboxDir: string; limits: string }>> => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, root.dir]);
    return JSON.parse(stdout) as Record<string, { taskId: string; sandboxDir: string; limits: string }>;
  };
  this.timeout(30_000);
  let root: Awaited<ReturnType<typeof tempRoot>>;
  let recovered: TaskHandle[] = [];

  beforeEach(async () => (root = await tempRoot()));
  afterEach(async () => {
    await Promise.all(recovered.map((h) => h.destroy()));
    recovered = [];
    await root.remove();
  });

  it('finds the tasks of an agent that died, follows the running ones to the end with their exit codes, kills them', async () => {
    const started = await startAndDie();
    // The agent is gone; its tasks are not.
    const bg = await readPid(path.join(started.endless!.sandboxDir, 'bg.pid'));
    await new Promise((r) => setTimeout(r, 200)); // let `finished` end

    recovered = await createExecDriver().recover(root.dir);
    assert.deepEqual(recovered.map((h) => h.taskId).sort(), [started.endless!.taskId, started.finished!.taskId, started.stoppable!.taskId].sort());
    // It ended while no agent ran: recovered as ended, with its exit code and output.
    const finished = recovered.find((h) => h.taskId === started.finished!.taskId)!;
    assert.deepEqual(await finished.wait(), { exitCode: 3, signal: null, oomKilled: false, killed: false });
    assert.equal(text(await collect(finished.logs()), 'stdout'), 'done\n');
    const stoppable = recovered.find((h) => h.taskId === started.stoppable!.taskId)!;
    const endless = recovered.find((h) => h.taskId === started.endless!.taskId)!;
    assert.equal(stoppable.limits, started.stoppable!.limits);
    if (isRoot) assert.match(stoppable.limits, /^cgroup v[12]: memory 64 MiB$/);
    else assert.equal(stoppable.limits, 'not enforced: not running as root');

    // Output from before the restart and after it, and the end with its exit code.
    const logs = collect(stoppable.logs());
    await writeFile(path.join(started.stoppable!.sandboxDir, 'stop'), '');
    assert.deepEqual(await stoppable.wait(), { exitCode: 7, signal: null, oomKilled: false, killed: false });
    const chunks = await logs;
    assert.equal(text(chunks, 'stdout'), 'before\nafter\n');
    assert.equal(text(chunks, 'stderr'), 'bye\n');

    // kill works on a recovered task and takes its whole group.
    assert.ok(isAlive(bg));
    const exit = await endless.kill(1000);
    assert.equal(exit.killed, true);
    assert.equal(isAlive(bg), false);
    assert.match(text(await collect(endless.logs()), 'stdout'), /^running\n$/);
    if (isRoot) {
      const cgroupDir = (await readTaskRecord(started.stoppable!.sandboxDir))!.cgroups.memory!.dir;
      assert.ok(existsSync(cgroupDir));
      await stoppable.destroy();
      assert.equal(existsSync(cgroupDir), false, 'destroy of a recovered task removes its cgroup');
    }
  });

  it('reports a task reported once (destroyed) no more, and an unknown exit when the launcher helper died too', async () => {
    const started = await startAndDie();
    await new Promise((r) => setTimeout(r, 200)); // let `finished` end
    // The launcher helper is the tasks' parent; kill -9 it as a machine-wide crash would.
    const leader = (await readTaskRecord(started.endless!.sandboxDir))!.pid;
    const helperPid = (await readProcStat(leader))!.ppid;
    assert.notEqual(helperPid, 1, 'the helper, not init, is the parent');
    process.kill(helperPid, 'SIGKILL');

    const first = await createExecDriver().recover(root.dir);
    const finished = first.find((h) => h.taskId === started.finished!.taskId)!;
    assert.equal((await finished.wait()).exitCode, 3, 'its exit.json was written before the helper died');
    await finished.destroy(); // what the agent does once it reported the end
    const stoppable = first.find((h) => h.taskId === started.stoppable!.taskId)!;
    await writeFile(path.join(started.stoppable!.sandboxDir, 'stop'), '');
    assert.deepEqual(await stoppable.wait(), { exitCode: null, signal: null, oomKilled: false, killed: false });
    recovered = first.filter((h) => h !== finished);

    const again = await createExecDriver().recover(root.dir);
    assert.deepEqual(again.map((h) => h.taskId).sort(), [started.endless!.taskId], 'only the task still running, not the reported one nor the one whose end nobody saw');
    recovered.push(...again);
  });

  it('ignores a record whose pid now belongs to another process, and sandboxes without a record', async () => {
    const self = (await readProcStat(process.pid))!;
    const sandboxDir = path.join(root.dir, 'reused');
    await mkdir(sandboxDir, { recursive: true });
    await writeTaskRecord(sandboxDir, {
      driver: 'exec', taskId: 'reused', pid: process.pid, pgid: process.pid, startTime: self.startTime - 1,
      startedAt: new Date().toISOString(), limits: 'none requested', cgroups: {},
    });
    await mkdir(path.join(root.dir, 'empty'));
    await writeFile(path.join(root.dir, 'a-file'), 'x');
    assert.deepEqual(await createExecDriver().recover(root.dir), []);
    assert.deepEqual(await createExecDriver().recover(path.join(root.dir, 'missing')), []);
  });
});
