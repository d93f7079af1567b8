// recover(): an agent started tasks and died; a new agent finds the ones still running from their
// sandboxes' task.json, follows their output and their end, and can kill them.
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
  this.timeout(30_000);
  let root: Awaited<ReturnType<typeof tempRoot>>;
  let recovered: TaskHandle[] = [];

  beforeEach(async () => (root = await tempRoot()));
  afterEach(async () => {
    await Promise.all(recovered.map((h) => h.destroy()));
    recovered = [];
    await root.remove();
  });

  it('finds the tasks still running after their agent died, follows them to the end, kills them', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, root.dir]);
    const started = JSON.parse(stdout) as Record<string, { taskId: string; sandboxDir: string; limits: string }>;
    // The agent is gone; its tasks are not.
    const bg = await readPid(path.join(started.endless!.sandboxDir, 'bg.pid'));
    await new Promise((r) => setTimeout(r, 200)); // let `finished` end

    recovered = await createExecDriver().recover(root.dir);
    assert.deepEqual(recovered.map((h) => h.taskId).sort(), [started.endless!.taskId, started.stoppable!.taskId].sort());
    const stoppable = recovered.find((h) => h.taskId === started.stoppable!.taskId)!;
    const endless = recovered.find((h) => h.taskId === started.endless!.taskId)!;
    assert.equal(stoppable.limits, started.stoppable!.limits);
    if (isRoot) assert.match(stoppable.limits, /^cgroup v[12]: memory 64 MiB$/);
    else assert.equal(stoppable.limits, 'not enforced: not running as root');

    // Output from before the restart and after it, and the end (exit code unknown: not our child).
    const logs = collect(stoppable.logs());
    await writeFile(path.join(started.stoppable!.sandboxDir, 'stop'), '');
    assert.deepEqual(await stoppable.wait(), { exitCode: null, signal: null, oomKilled: false, killed: false });
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
