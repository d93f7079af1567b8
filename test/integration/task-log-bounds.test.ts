// Task logs stay bounded on a real server (issue 17): a chatty task's log never holds more than
// --task-log-max on disk, keeps its newest output whole and tells readers what was cut; a finished
// task's log is removed after --task-log-retention and the API then says so with a 410.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';

const CAP = 64 * 1024;

describe('task logs: capped and retained', function () {
  this.timeout(60_000);
  const dir = tempDir('task-log-bounds');
  const logsDir = path.join(dir, 'server', 'logs');
  let server: Started | undefined;

  const start = async (extra: string[]): Promise<string> => {
    server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn', ...extra],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    return (server as Started & { match: RegExpMatchArray }).match[1]!;
  };
  const filesOf = (taskId: string): string[] => readdirSync(logsDir).filter((name) => name === `${taskId}.jsonl` || name.startsWith(`${taskId}.jsonl.`));

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('a task printing 30 times the cap keeps under the cap on disk, its last lines whole, and readers are told what was cut; retention then removes the log (410)', async () => {
    let url = await start(['--task-log-max', '64KiB']);
    let client = api(url);
    // ~2 MB of numbered lines, printed over a second or so (many batches from the agent).
    const task = await submitTask(client, { cmd: 'i=0; while [ $i -lt 40 ]; do seq $((i*5000+1)) $((i*5000+5000)); i=$((i+1)); sleep 0.02; done' });
    const ended = await waitFor('the task finished', async () => {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      return now.state === 'finished' ? now : undefined;
    }, 30_000);
    assert.equal(ended.exitCode, 0);

    const files = filesOf(task.id);
    const bytes = files.reduce((sum, name) => sum + statSync(path.join(logsDir, name)).size, 0);
    assert.ok(bytes <= CAP, `${bytes} bytes on disk in ${files.join(', ')}, over the 64 KiB cap`);
    assert.ok(files.length <= 2, `at most 2 files (inodes) per task: ${files.join(', ')}`);

    const text = await fetch(`${url}/api/v1/tasks/${task.id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    const lines = text.split('\n').filter(Boolean);
    assert.match(lines[0]!, /^\[gantry\] .* of earlier output cut \(.*log cap 64 KiB\)$/, `the first line says what was cut: ${lines[0]}`);
    // After the last notice (a chunk bigger than a file's share keeps its newest bytes and says so), the
    // output is whole: its first line may have lost its start, the rest are consecutive.
    const lastNotice = lines.findLastIndex((l) => l.startsWith('[gantry] '));
    const numbers = lines.slice(lastNotice + 2).map(Number);
    assert.equal(numbers.at(-1), 200_000, 'the newest line is kept');
    assert.ok(numbers.length > 1000, `a good part of the cap is kept (${numbers.length} lines)`);
    numbers.forEach((n, i) => assert.equal(n, numbers[0]! + i, `the kept lines are whole and in order (line ${i + 1}: ${n})`));

    // A restart with a retention shorter than the task's age: the sweep at start removes its log.
    await server!.stop();
    url = await start(['--task-log-retention', '1ms']);
    client = api(url);
    const gone = await waitFor('the log removed', async () => {
      const answer = await client.get<{ error: string; message: string }>(`/api/v1/tasks/${task.id}/logs`);
      return answer.status === 410 ? answer.body : undefined;
    });
    assert.equal(gone.error, 'gone');
    assert.match(gone.message, /removed by retention/);
    assert.deepEqual(filesOf(task.id), [], 'its files are gone');
    assert.equal((await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.state, 'finished', 'the task itself stays, as history');
  });
});
