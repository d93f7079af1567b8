// Restart backoff for crash-looping tasks (issue 6), with a real server and its embedded agent: a task
// with a restart policy is run again in place after a growing delay, each restart is one store write,
// a healthy run resets the delay, a kill ends it at once, and `on-failure:N` gives up after N restarts.
// The agent restart case is in faults.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, runCli, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';

describe('restart backoff (TaskSpec.restart)', function () {
  this.timeout(60_000);
  const dir = tempDir('restart-backoff');
  let server: Started;
  let client: ReturnType<typeof api>;
  let env: Record<string, string>;

  before(async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'data'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    server = started;
    client = api(started.match[1]!);
    env = { GANTRY_URL: started.match[1]!, GANTRY_TOKEN: ADMIN_TOKEN };
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  const task = async (id: string): Promise<TaskRecord> => (await client.get<TaskRecord>(`/api/v1/tasks/${id}`)).body;
  const logs = async (id: string): Promise<string> => String((await client.get(`/api/v1/tasks/${id}/logs`)).body);
  /** The `[gantry] ...; restart N in D` lines the agent leaves between runs. */
  const restartLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('[gantry] '));

  it('restarts a failing task after growing delays, one store write per restart, and shows it as backoff', async () => {
    const stamps = path.join(dir, 'stamps');
    const t = await submitTask(client, {
      cmd: `date +%s%N >> ${stamps}; echo run; exit 3`,
      restart: { policy: 'on-failure', backoffMs: 200, factor: 2, maxBackoffMs: 1600 },
    });
    assert.equal(t.restarts, 0);
    const looping = await waitFor('5 restarts', async () => ((await task(t.id)).restarts >= 5 ? task(t.id) : null), 20_000);
    assert.equal(looping.state, 'running', 'a task in its restart loop stays running on its agent');
    assert.equal(looping.exitCode, 3);
    assert.match(looping.reason!, /exited with code 3/);

    // Each run's start, from the task itself: the gaps grow as 200, 400, 800, 1600 ms (capped).
    const starts = readFileSync(stamps, 'utf8').trim().split('\n').map((ns) => Number(BigInt(ns) / 1_000_000n));
    const gaps = starts.slice(1, 6).map((s, i) => s - starts[i]!);
    const expected = [200, 400, 800, 1600, 1600];
    gaps.forEach((gap, i) => {
      assert.ok(gap >= expected[i]! - 20, `gap ${i + 1} is ${gap} ms, at least ${expected[i]} expected (all: ${gaps})`);
      assert.ok(gap < expected[i]! + 1000, `gap ${i + 1} is ${gap} ms, about ${expected[i]} expected (all: ${gaps})`);
    });

    const text = await logs(t.id);
    assert.deepEqual(restartLines(text).slice(0, 5), [
      '[gantry] exited with code 3; restart 1 in 0.2s',
      '[gantry] exited with code 3; restart 2 in 0.4s',
      '[gantry] exited with code 3; restart 3 in 0.8s',
      '[gantry] exited with code 3; restart 4 in 1.6s',
      '[gantry] exited with code 3; restart 5 in 1.6s',
    ]);

    // Store writes: staging and running, then one per restart (the version counts every write).
    const now = await task(t.id);
    assert.equal(now.version, 1 + 2 + now.restarts, `version ${now.version} after ${now.restarts} restarts: not one write per restart`);

    const shown = await waitFor('shown as backoff', async () => {
      const listed = await runCli(['tasks', t.id], env);
      return /State:\s+backoff/.test(listed.stdout) ? listed.stdout : null;
    }, 10_000);
    assert.match(shown, /Restart:\s+on-failure, \d+ restarts, next at /);

    // A kill between two runs ends the task at once, killed, its last exit kept.
    const killedAt = Date.now();
    assert.equal((await client.post(`/api/v1/tasks/${t.id}/kill`)).status, 202);
    const killed = await waitFor('killed', async () => ((await task(t.id)).state === 'killed' ? task(t.id) : null), 5000);
    assert.ok(Date.now() - killedAt < 1500, `killed ${Date.now() - killedAt} ms after the kill (the backoff is 1.6 s)`);
    assert.equal(killed.restartAt, null);
    const runs = readFileSync(stamps, 'utf8').trim().split('\n').length;
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(readFileSync(stamps, 'utf8').trim().split('\n').length, runs, 'no run after the kill');
  });

  it('resets the delay after a run that lasted resetAfterMs', async () => {
    // Without the reset the delays would be 0.2, 0.6, 1.8 s.
    const t = await submitTask(client, {
      cmd: 'sleep 0.4; exit 1',
      restart: { policy: 'on-failure', backoffMs: 200, factor: 3, resetAfterMs: 300 },
    });
    await waitFor('3 restarts', async () => (await task(t.id)).restarts >= 3, 20_000);
    await client.post(`/api/v1/tasks/${t.id}/kill`);
    assert.deepEqual(restartLines(await logs(t.id)).slice(0, 3), [
      '[gantry] exited with code 1; restart 1 in 0.2s',
      '[gantry] exited with code 1; restart 2 in 0.2s',
      '[gantry] exited with code 1; restart 3 in 0.2s',
    ]);
  });

  it('gives up after on-failure:N restarts with the last exit, and does not restart a clean exit', async () => {
    const result = await runCli(['run', '--restart', 'on-failure:2', '--restart-backoff', '100ms', '--sh', 'echo run; exit 4'], env);
    assert.equal(result.code, 4, result.stderr);
    assert.equal(result.stdout, 'run\nrun\nrun\n', 'the first run and 2 restarts');
    assert.match(result.stderr, /\[gantry\] exited with code 4; restart 2 in 0\.2s/, 'the second delay is twice the first');

    const clean = await runCli(['run', '--restart', 'on-failure', '--', 'echo', 'done'], env);
    assert.equal(clean.code, 0);
    assert.equal(clean.stdout, 'done\n');
  });

  it('restarts a task that exits 0 under `always`', async () => {
    const t = await submitTask(client, { cmd: 'echo ok', restart: { policy: 'always', backoffMs: 100, maxRestarts: 2 } });
    const ended = await waitFor('ended', async () => ((await task(t.id)).state === 'finished' ? task(t.id) : null), 10_000);
    assert.equal(ended.restarts, 2);
    assert.equal((await logs(t.id)).split('\n').filter((l) => l === 'ok').length, 3);
  });

  describe('bad input', () => {
    it('rejects a bad restart policy with 400 naming the field', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ policy: 'sometimes' }, /restart\.policy/],
        [{ policy: 'always', backoffMs: 0 }, /restart\.backoffMs/],
        [{ policy: 'always', factor: 0.5 }, /restart\.factor/],
        [{ policy: 'always', backoffMs: 5000, maxBackoffMs: 1000 }, /maxBackoffMs \(1000\) is less than restart\.backoffMs \(5000\)/],
        [{ policy: 'always', extra: 1 }, /restart/],
      ];
      for (const [restart, message] of cases) {
        const response = await client.post('/api/v1/tasks', { cmd: 'true', restart });
        assert.equal(response.status, 400, JSON.stringify(restart));
        assert.match(response.body.message, message);
      }
    });

    it('rejects bad --restart flags with exit 2 and one line', async () => {
      for (const args of [['--restart', 'never'], ['--restart', 'always:3'], ['--restart-backoff', '1s']]) {
        const result = await runCli(['run', ...args, '--', 'true'], env);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      }
    });
  });
});
