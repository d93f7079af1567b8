// Task output as a CI step's log will be seen: secrets masked everywhere (the stored file, /logs,
// /events, the task in the API), Server-Sent Events resumed with Last-Event-ID without a gap or a
// duplicate, and a large output streamed live with the server's memory flat. A real `gantry server`
// with its embedded agent.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { MASK } from '../../src/shared/redactor.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';
import { SseParser, eventBytes, readEvents as readSseEvents, type ReceivedEvent } from '../helpers/sse-client.ts';

const MiB = 1024 * 1024;

/** Resident memory of a process, from /proc/PID/status (VmRSS, kB). */
function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

describe('task output: secrets masked, SSE events resumable, large logs streamed', function () {
  this.timeout(120_000);
  const dir = tempDir('task-events');
  let server: Started;
  let url = '';
  let client: ReturnType<typeof api>;

  before(async () => {
    server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0',
        '--agent-resources', 'cpus:4;mem:4096;disk:4096', '--task-log-max', '0', '--log-level', 'warn'], // 100 MiB of output is read back whole
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    url = (server as Started & { match: RegExpMatchArray }).match[1]!;
    client = api(url);
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  const submit = (body: Record<string, unknown>): Promise<TaskRecord> => submitTask(client, body);

  async function ended(id: string): Promise<TaskRecord> {
    return waitFor('the task to end', async () => {
      const task = (await client.get<TaskRecord>(`/api/v1/tasks/${id}`)).body;
      return ['finished', 'failed', 'killed', 'lost'].includes(task.state) ? task : null;
    }, 60_000);
  }

  /** Opens /events; headers as given. */
  async function openEvents(id: string, headers: Record<string, string> = {}, query = '', signal?: AbortSignal): Promise<Response> {
    return fetch(`${url}/api/v1/tasks/${id}/events${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers }, signal: signal ?? null });
  }

  /** Reads events until `stop` says so or the stream ends. */
  async function readEvents(response: Response, stop?: (events: ReceivedEvent[]) => boolean): Promise<ReceivedEvent[]> {
    assert.equal(response.status, 200, await response.clone().text().catch(() => ''));
    return readSseEvents(response, stop);
  }

  const outputOf = (events: readonly ReceivedEvent[], stream?: 'stdout' | 'stderr'): Buffer =>
    Buffer.concat(events.filter((e) => e.event !== 'end' && (!stream || e.event.startsWith(stream))).map(eventBytes));

  describe('a task with a secret', () => {
    const secret = 'hunter2-S3cr3t-value';
    let task: TaskRecord;

    before(async () => {
      // The secret goes out in two writes 200 ms apart (two chunks on the agent), and whole on stderr.
      task = await submit({
        cmd: `printf 'token=%.6s' "$PASSWORD"; sleep 0.2; printf '%s and more\\n' "\${PASSWORD#??????}"; echo "$PASSWORD" >&2; echo "url=$DB_URL"`,
        env: { PASSWORD: secret, DB_URL: `postgres://app:${secret}@db/app`, PLAIN: 'visible' },
        redact: [secret],
      });
      const final = await ended(task.id);
      assert.equal(final.state, 'finished', final.reason ?? '');
    });

    it('the stored log file holds only the mask', () => {
      const stored = readFileSync(path.join(dir, 'server', 'logs', `${task.id}.jsonl`), 'utf8');
      assert.ok(stored.includes(MASK), stored);
      for (const piece of [secret, 'hunter', 'S3cr3t-value']) assert.ok(!stored.includes(piece), `"${piece}" in ${stored}`);
    });

    it('/logs shows the mask on both streams', async () => {
      assert.equal((await client.get(`/api/v1/tasks/${task.id}/logs?stream=stdout`)).body, `token=${MASK} and more\nurl=postgres://app:${MASK}@db/app\n`);
      assert.equal((await client.get(`/api/v1/tasks/${task.id}/logs?stream=stderr`)).body, `${MASK}\n`);
    });

    it('/events shows the mask', async () => {
      const events = await readEvents(await openEvents(task.id));
      assert.equal(outputOf(events, 'stdout').toString(), `token=${MASK} and more\nurl=postgres://app:${MASK}@db/app\n`);
      assert.equal(outputOf(events, 'stderr').toString(), `${MASK}\n`);
      assert.deepEqual(JSON.parse(events.at(-1)!.data), { state: 'finished', exitCode: 0, reason: 'exited with code 0' });
    });

    it('the API shows the task without the secret: env masked, no redact list', async () => {
      const shown = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      assert.deepEqual(shown.spec.env, { PASSWORD: MASK, DB_URL: `postgres://app:${MASK}@db/app`, PLAIN: 'visible' });
      assert.equal('redact' in shown.spec, false);
      const listed = (await client.get<{ tasks: TaskRecord[] }>('/api/v1/tasks')).body.tasks;
      const submitted = JSON.stringify(task);
      for (const body of [JSON.stringify(shown), JSON.stringify(listed), submitted]) assert.ok(!body.includes(secret));
      assert.equal(task.spec.env.PASSWORD, MASK, 'the answer to the submission is masked too');
    });
  });

  describe('resuming an event stream', () => {
    let taskId: string;
    before(async () => {
      // Text, stderr, a CR (a progress bar) and bytes that are not UTF-8, spread over ~1 s.
      const task = await submit({
        cmd: `for i in $(seq 1 30); do echo "line $i"; [ $((i % 7)) -eq 0 ] && printf 'progress\\r50%%\\r100%%\\n' && echo "warn $i" >&2; [ $i -eq 11 ] && printf '\\377\\376 binary\\n'; sleep 0.03; done`,
      });
      taskId = task.id;
    });

    it('reading part, disconnecting and resuming with Last-Event-ID gives the whole output, byte for byte, once', async () => {
      // Started while the task runs: the first part is live.
      const first = await readEvents(await openEvents(taskId), (events) => events.length >= 8);
      const lastId = first.at(-1)!.lastEventId;
      assert.match(lastId, /^\d+$/);
      const rest = await readEvents(await openEvents(taskId, { 'last-event-id': lastId }));
      assert.equal(rest.at(-1)!.event, 'end');

      const full = await readEvents(await openEvents(taskId));
      const logs = await fetch(`${url}/api/v1/tasks/${taskId}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const stored = Buffer.from(await logs.arrayBuffer());
      const resumed = Buffer.concat([outputOf(first), outputOf(rest)]);
      assert.ok(resumed.equals(outputOf(full)), 'resumed = one stream from the start');
      assert.ok(resumed.equals(stored), 'streamed = stored');
      assert.ok(stored.includes(Buffer.from('progress\r50%\r100%\n')) && stored.includes(Buffer.from([0xff, 0xfe])));
      assert.ok(full.some((e) => e.event === 'stdout-base64'), 'the CR and the non-UTF-8 chunks travel as base64');

      const ids = [...first, ...rest.slice(0, -1)].map((e) => Number(e.lastEventId));
      assert.deepEqual(ids, full.slice(0, -1).map((e) => Number(e.lastEventId)), 'the same events, none twice');
      assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!));
    });

    it('?from= resumes the same way; a made-up offset is refused before the stream opens', async () => {
      const full = await readEvents(await openEvents(taskId));
      const third = full[2]!.lastEventId;
      const fromQuery = await readEvents(await openEvents(taskId, {}, `?from=${third}`));
      assert.deepEqual(fromQuery, full.slice(3));
      const headerWins = await readEvents(await openEvents(taskId, { 'last-event-id': third }, '?from=0'));
      assert.deepEqual(headerWins, full.slice(3));
      for (const bad of [String(Number(third) - 1), 'abc', '99999999999']) {
        const response = await openEvents(taskId, { 'last-event-id': bad });
        assert.equal(response.status, 400, bad);
        assert.match(((await response.json()) as { message: string }).message, /offset/);
      }
    });

    it('needs an admin token like the rest of the API; an unknown task is a 404', async () => {
      assert.equal((await fetch(`${url}/api/v1/tasks/${taskId}/events`)).status, 401);
      assert.equal((await openEvents('t-nope')).status, 404);
    });
  });

  describe('a large output', () => {
    const TOTAL = 100 * MiB;
    const LINE = 'gantry streams task output 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n';
    const expected = createHash('sha256').update(Buffer.alloc(TOTAL, LINE)).digest('hex');
    let taskId = '';

    /** Streams the task's /events from the start, hashing the output, with the server's peak RSS. */
    async function streamMeasured(start: () => Promise<string>): Promise<{ bytes: number; sha256: string; state: string; seconds: number; grewMiB: number }> {
      const pid = server.child.pid!;
      const baseline = rssBytes(pid);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
      const started = Date.now();
      try {
        const response = await openEvents(await start());
        assert.equal(response.status, 200);
        const parser = new SseParser();
        const hash = createHash('sha256');
        let bytes = 0;
        let state = '';
        for await (const part of response.body!) {
          for (const event of parser.push(part)) {
            if (event.event === 'end') state = (JSON.parse(event.data) as { state: string }).state;
            else {
              const data = eventBytes(event);
              bytes += data.length;
              hash.update(data);
            }
          }
        }
        peak = Math.max(peak, rssBytes(pid));
        const seconds = (Date.now() - started) / 1000;
        const grewMiB = (peak - baseline) / MiB;
        console.log(`      ${(bytes / MiB).toFixed(0)} MiB in ${seconds.toFixed(1)} s; server RSS ${(baseline / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB (+${grewMiB.toFixed(0)} MiB)`);
        return { bytes, sha256: hash.digest('hex'), state, seconds, grewMiB };
      } finally {
        clearInterval(sampler);
      }
    }

    // Holding the output would take its size again at least (several times that as text and JSON).
    // Streamed, the server holds a read piece (1 MiB), the agent's batches (64 KiB), socket buffers and
    // garbage not yet collected: 48 MiB leaves room for V8's young generation and the SQLite cache
    // (measured: +20-30 MiB) and is still under half the output.
    const BOUND_MIB = 48;

    it(`streams ${TOTAL / MiB} MiB through /events live, as the task writes it, with the server's RSS flat`, async () => {
      const result = await streamMeasured(async () => {
        taskId = (await submit({ cmd: `yes '${LINE.trimEnd()}' | head -c ${TOTAL}` })).id;
        return taskId;
      });
      assert.equal(result.state, 'finished');
      assert.equal(result.bytes, TOTAL);
      assert.equal(result.sha256, expected);
      assert.ok(result.grewMiB < BOUND_MIB, `the server's RSS grew by ${result.grewMiB.toFixed(0)} MiB while streaming ${TOTAL / MiB} MiB`);
    });

    it(`streams the finished ${TOTAL / MiB} MiB log from its start with the server's RSS flat`, async function () {
      if (!taskId) this.skip();
      const result = await streamMeasured(async () => taskId);
      assert.equal(result.bytes, TOTAL);
      assert.equal(result.sha256, expected);
      assert.ok(result.grewMiB < BOUND_MIB, `the server's RSS grew by ${result.grewMiB.toFixed(0)} MiB while streaming ${TOTAL / MiB} MiB`);
    });
  });
});
