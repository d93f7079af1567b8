// Log retention on a real store (SQLite) and real log files: what a sweep removes (the logs of tasks
// ended before the cutoff, nothing of running or recent ones), what it records, and what readers of
// a removed log are told. Time is an injected clock; nothing waits to show that something did not happen.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LogRetention, formatDuration, sweepTaskLogs, type LogRetentionOptions } from '../../../src/cluster/master/log-retention.ts';
import { TaskLogStore, type ReadOptions } from '../../../src/cluster/master/task-logs.ts';
import { newQueuedTask } from '../../../src/cluster/new-task.ts';
import type { OutputChunk } from '../../../src/cluster/drivers/driver.ts';
import type { Clock } from '../../../src/shared/clock.ts';
import { ClusterStore, type TaskRepository } from '../../../src/cluster/store/cluster-store.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { minimalSpec } from '../../helpers/task-spec.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const DAY = 24 * 60 * 60 * 1000;
const WEEK = 7 * DAY;
const allocation = { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [], scalars: {}, ranges: {}, sets: {} };
const done: ReadOptions = { follow: false, isComplete: async () => true };
const out = (text: string): OutputChunk => ({ stream: 'stdout', data: Buffer.from(text) });

describe('log retention: the logs of tasks ended long enough ago are removed', () => {
  let store: Store;
  let taskTable: TaskRepository;
  let logsDir: string;
  let logs: TaskLogStore;

  beforeEach(async () => {
    const dir = tempDir('log-retention');
    store = await openStore({ dataDir: dir });
    taskTable = new ClusterStore(store.knex).tasks;
    logsDir = path.join(dir, 'logs');
    logs = new TaskLogStore(logsDir, { maxBytesPerTask: 4096, removals: taskTable });
  });
  afterEach(async () => {
    await store.close();
  });

  /** A task that ran on an agent and, unless `endedAt` is null, ended then; with `lines` lines of output. */
  async function task(id: string, endedAt: string | null, lines: number): Promise<void> {
    await taskTable.insert(newQueuedTask(minimalSpec(), new Date('2026-11-01T00:00:00.000Z'), id));
    await taskTable.stage({ id, agentId: 'a-1', allocation }, '2026-11-01T00:00:00.000Z');
    await taskTable.markRunning(id, 'a-1', null, '2026-11-01T00:00:00.000Z');
    for (let i = 0; i < lines; i += 10) {
      await logs.append(id, i, Array.from({ length: Math.min(10, lines - i) }, (_, k) => out(`${id} line ${i + k}\n`)));
    }
    if (endedAt) await taskTable.finish(id, 'a-1', { state: 'finished', exitCode: 0, reason: 'exited with code 0' }, endedAt);
  }

  const filesOf = async (taskId: string): Promise<string[]> => (await readdir(logsDir)).filter((name) => name.startsWith(`${taskId}.jsonl`));

  async function readAll(taskId: string): Promise<string> {
    let text = '';
    for await (const chunk of logs.read(taskId, done)) text += chunk.data.toString();
    return text;
  }

  it('removes the logs of tasks ended before the cutoff, keeps running and recent ones, and counts files and bytes', async () => {
    await task('t-long-ago', '2026-11-02T00:00:00.000Z', 400); // a capped log cut: two files
    await task('t-just-before', '2026-11-12T23:59:59.000Z', 3);
    await task('t-recent', '2026-11-15T00:00:00.000Z', 3);
    await task('t-running', null, 3);
    await taskTable.insert(newQueuedTask(minimalSpec(), new Date('2026-11-01T00:00:00.000Z'), 't-never-ran'));
    await taskTable.killQueued('t-never-ran', 'killed by user', '2026-11-01T00:00:01.000Z');
    const removable = [...(await logs.filesOf('t-long-ago')), ...(await logs.filesOf('t-just-before'))];
    assert.equal((await logs.filesOf('t-long-ago')).length, 2);
    const bytes = (await Promise.all(removable.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0);

    const result = await sweepTaskLogs({ tasks: taskTable, logs, now: new Date('2026-11-20T00:00:00.000Z'), retentionMs: WEEK });

    assert.deepEqual(result, { tasks: 3, files: 3, bytes, failed: [] }, 'the two logs and the task that wrote nothing');
    assert.deepEqual(await filesOf('t-long-ago'), []);
    assert.deepEqual(await filesOf('t-just-before'), []);
    assert.equal(await readAll('t-recent'), 't-recent line 0\nt-recent line 1\nt-recent line 2\n');
    assert.equal(await readAll('t-running'), 't-running line 0\nt-running line 1\nt-running line 2\n');
    for (const id of ['t-long-ago', 't-just-before', 't-never-ran']) {
      assert.deepEqual(await taskTable.logRemoval(id), { at: '2026-11-20T00:00:00.000Z', reason: 'by retention 7d after the task ended' }, id);
      assert.ok(['finished', 'killed'].includes((await taskTable.get(id)).state), 'the task itself stays, as it ended');
    }
    assert.equal(await taskTable.logRemoval('t-recent'), null);

    const again = await sweepTaskLogs({ tasks: taskTable, logs, now: new Date('2026-11-20T01:00:00.000Z'), retentionMs: WEEK });
    assert.deepEqual(again, { tasks: 0, files: 0, bytes: 0, failed: [] }, 'nothing twice');
    const later = await sweepTaskLogs({ tasks: taskTable, logs, now: new Date('2026-11-22T00:00:01.000Z'), retentionMs: WEEK });
    assert.equal(later.tasks, 1, 'a week after it ended, the recent one goes too');
    assert.deepEqual(await filesOf('t-recent'), []);
    assert.equal(await readAll('t-running'), 't-running line 0\nt-running line 1\nt-running line 2\n', 'a running task is never swept');
  });

  it('a removed log reads as removed (410, when and why), not as a task that wrote nothing', async () => {
    await task('t-gone', '2026-11-02T00:00:00.000Z', 3);
    await sweepTaskLogs({ tasks: taskTable, logs, now: new Date('2026-11-20T00:00:00.000Z'), retentionMs: WEEK });
    const removed = { status: 410, code: 'gone', message: 'the log of task t-gone was removed by retention 7d after the task ended (at 2026-11-20T00:00:00.000Z)' };
    await assert.rejects(readAll('t-gone'), removed);
    await assert.rejects(logs.checkResumeOffset('t-gone', 0), removed);
    await assert.rejects(logs.checkResumeOffset('t-gone', 42), removed);
    await task('t-silent', null, 0);
    assert.equal(await readAll('t-silent'), '', 'a task that wrote nothing yet reads as empty');
  });

  it('a log it cannot remove is left for the next sweep and the others go', async () => {
    for (const id of ['t-a', 't-b', 't-c']) await task(id, '2026-11-02T00:00:00.000Z', 3);
    const failing = { remove: (id: string) => (id === 't-b' ? Promise.reject(new Error('EACCES: permission denied')) : logs.remove(id)) };
    const result = await sweepTaskLogs({ tasks: taskTable, logs: failing, now: new Date('2026-11-20T00:00:00.000Z'), retentionMs: WEEK, batchSize: 1 });
    assert.equal(result.tasks, 2);
    assert.deepEqual(result.failed, [{ taskId: 't-b', error: 'EACCES: permission denied' }]);
    assert.equal(await taskTable.logRemoval('t-b'), null);
    assert.equal((await sweepTaskLogs({ tasks: taskTable, logs, now: new Date('2026-11-20T00:00:00.000Z'), retentionMs: WEEK })).tasks, 1);
    assert.deepEqual(await filesOf('t-b'), []);
  });

  it('sweeps when started and on its interval, by its clock; stop waits for a sweep under way', async () => {
    let now = new Date('2026-11-20T00:00:00.000Z');
    const clock: Clock = { now: () => now };
    const swept: Array<{ tasks: number; files: number; bytes: number }> = [];
    const logger = { info: (fields: (typeof swept)[number]) => void swept.push(fields), warn: () => undefined } as unknown as LogRetentionOptions['logger'];
    await task('t-first', '2026-11-02T00:00:00.000Z', 3);
    await task('t-second', '2026-11-19T00:00:00.000Z', 3);
    const retention = new LogRetention({ tasks: taskTable, logs, clock, retentionMs: WEEK, intervalMs: 5, logger });
    retention.start();
    await retention.stop(); // the sweep at start is under way: stop waits for it
    assert.deepEqual(await filesOf('t-first'), []);
    assert.equal((await filesOf('t-second')).length, 1);
    assert.deepEqual(swept.map((s) => [s.tasks, s.files]), [[1, 1]], 'the sweep at start is logged with what it freed');

    retention.start(); // sweeps at once, at the same time: nothing more
    now = new Date('2026-11-26T00:00:01.000Z'); // a week after t-second ended: the next sweep on the interval takes it
    while (swept.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await retention.stop();
    assert.equal(swept[1]!.tasks, 1);
    assert.deepEqual(await filesOf('t-second'), []);
  });

  it('names the retention in a removal the way people set it', () => {
    assert.deepEqual([WEEK, 36 * 60 * 60 * 1000, 90 * 60 * 1000, 1500].map(formatDuration), ['7d', '36h', '90m', '1500ms']);
  });
});
