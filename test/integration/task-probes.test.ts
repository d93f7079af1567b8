// Health and readiness probes on a real server (issue 17): the agent probes a task's HTTP port and
// runs a command probe beside another (inside a container task's container), and the master hears only the changes: ready, healthy,
// unhealthy, healthy again, not ready; each verdict once, however many tries agree with it. Seen as
// a client sees them, through the task changes (GET /api/v1/tasks/changes). Bad probe settings are
// refused with 400 naming the field, and nothing is stored. What a running task uses (CPU, memory),
// sampled by its agent, is on the task as the API shows it.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { containerName } from '../../src/cluster/drivers/docker-create.ts';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { docker, ensureBusyboxImage, requireDocker } from '../helpers/docker.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';

/** Answers /health 500 while a file `sick` is in its directory, /ready 503 until a file `ready` is; logs each request. */
const SERVER = `node -e '
const fs = require("fs"); const http = require("http");
http.createServer((req, res) => {
  console.log(req.url);
  const code = req.url === "/health" ? (fs.existsSync("sick") ? 500 : 200) : req.url === "/ready" ? (fs.existsSync("ready") ? 200 : 503) : 404;
  res.writeHead(code); res.end();
}).listen(process.env.PORT0, "127.0.0.1");'`;

interface Changes {
  changes: Array<{ cursor: string; task: TaskRecord }>;
  cursor: string;
}

describe('task probes: health and readiness, reported on change', function () {
  this.timeout(90_000);
  const dir = tempDir('task-probes');
  let server: Started | undefined;
  let url = '';

  before(async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-usage-interval', '300ms', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    server = started;
    url = started.match[1]!;
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  it('an HTTP task goes ready, healthy, unhealthy, healthy, not ready, each verdict told once', async () => {
    const client = api(url);
    const { body: listed } = await client.get<{ cursor: string }>('/api/v1/tasks?ownerPrefix=user:');
    const probe = { kind: 'http', intervalMs: 200, timeoutMs: 200, consecutiveFailures: 1, gracePeriodMs: 0 };
    // The health probe's grace: node takes a moment to listen, and those failures must not count.
    const task = await submitTask(client, { cmd: SERVER, ports: [0], killGraceMs: 500, health: { ...probe, path: '/health', gracePeriodMs: 30_000 }, readiness: { ...probe, path: '/ready' } });
    const sandbox = path.join(dir, 'server', 'agent', 'sandboxes', task.id);
    const logOf = async (): Promise<string> => fetch(`${url}/api/v1/tasks/${task.id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    const tries = async (probePath: string): Promise<number> => (await logOf()).split('\n').filter((line) => line === probePath).length;

    // The verdicts as a watcher hears them: [health, ready] after each change of the task.
    let cursor = listed.cursor;
    const verdicts: Array<[string | null, boolean | null]> = [];
    const heard = async (): Promise<Array<[string | null, boolean | null]>> => {
      const { body } = await client.get<Changes>(`/api/v1/tasks/changes?ownerPrefix=user:&cursor=${cursor}`);
      cursor = body.cursor;
      for (const { task: t } of body.changes) {
        const last = verdicts.at(-1);
        if (t.id === task.id && t.state === 'running' && (last?.[0] !== t.health || last?.[1] !== t.ready)) verdicts.push([t.health, t.ready]);
      }
      return verdicts;
    };
    const until = (what: string, health: string | null, ready: boolean | null) =>
      waitFor(what, async () => {
        const last = (await heard()).at(-1);
        return last?.[0] === health && last[1] === ready;
      }, 20_000);

    await until('healthy, not ready yet', 'healthy', false);
    // Ten more tries of each probe agree: nothing more is told.
    const healthTries = await tries('/health');
    await waitFor('ten more health tries', async () => (await tries('/health')) >= healthTries + 10);
    // Running (no verdict yet), then the readiness probe's "not ready" at its start, then healthy.
    assert.deepEqual(await heard(), [[null, null], [null, false], ['healthy', false]], 'only changes are told');

    writeFileSync(path.join(sandbox, 'ready'), '');
    await until('ready', 'healthy', true);
    writeFileSync(path.join(sandbox, 'sick'), '');
    await until('unhealthy', 'unhealthy', true);
    rmSync(path.join(sandbox, 'sick'));
    await until('healthy again', 'healthy', true);
    rmSync(path.join(sandbox, 'ready'));
    await until('not ready', 'healthy', false);
    assert.deepEqual(verdicts, [[null, null], [null, false], ['healthy', false], ['healthy', true], ['unhealthy', true], ['healthy', true], ['healthy', false]]);
    const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
    assert.match(now.probeMessage ?? '', /readiness probe failed: GET http:\/\/127\.0\.0\.1:\d+\/ready answered 503/);
    await client.post(`/api/v1/tasks/${task.id}/kill`);
  });

  it('a command probe runs beside the task, in its directory', async () => {
    const client = api(url);
    const task = await submitTask(client, {
      cmd: 'sleep 60',
      killGraceMs: 200,
      // As the task's own uid, owner of its sandbox (0700): no other uid could look inside.
      readiness: { kind: 'command', command: 'test -f go && test "$(id -u)" = "$(stat -c %u .)"', intervalMs: 200, timeoutMs: 200 },
    });
    const sandbox = path.join(dir, 'server', 'agent', 'sandboxes', task.id);
    const state = async (): Promise<TaskRecord> => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
    await waitFor('not ready', async () => (await state()).ready === false);
    assert.equal((await state()).probeMessage, 'no readiness probe has passed yet');
    writeFileSync(path.join(sandbox, 'go'), '');
    await waitFor('ready', async () => (await state()).ready === true);
    assert.equal((await state()).probeMessage, 'readiness probe passed');
    rmSync(path.join(sandbox, 'go'));
    await waitFor('not ready again', async () => (await state()).ready === false);
    assert.match((await state()).probeMessage ?? '', /readiness probe failed: "test -f go && test .*" exited with 1/);
    await client.post(`/api/v1/tasks/${task.id}/kill`);
  });

  it('shows what a running task uses: the CPUs its agent measured between two samples, its memory; nothing once it ended', async () => {
    const client = api(url);
    // Spins on one core, holding ~40 MiB.
    const task = await submitTask(client, { cmd: `node -e 'globalThis.keep = Buffer.alloc(40 * 1024 * 1024, 1); for (;;) {}'`, cpus: 1, mem: 256, killGraceMs: 200 });
    type WithUsage = TaskRecord & { usage: { cpus: number | null; memBytes: number; cpuSeconds: number } | null };
    const busy = await waitFor('a CPU rate', async () => {
      const now = (await client.get<WithUsage>(`/api/v1/tasks/${task.id}`)).body;
      // The first samples may catch node still starting: wait for the spin and the buffer to show.
      return now.usage?.cpus && now.usage.cpus > 0.3 && now.usage.memBytes >= 40 * 1024 * 1024 ? now : undefined;
    }, 20_000);
    assert.ok(busy.usage!.cpuSeconds > 0 && busy.usage!.cpus! <= 1.2, `a spinning task uses about one CPU, its quota (${busy.usage!.cpus})`);
    await client.post(`/api/v1/tasks/${task.id}/kill`);
    const ended = await waitFor('killed', async () => {
      const now = (await client.get<WithUsage>(`/api/v1/tasks/${task.id}`)).body;
      return now.state === 'killed' ? now : undefined;
    });
    assert.equal(ended.usage, null);
  });

  it('a command probe of a container task runs inside its container', async function () {
    await requireDocker(this);
    const image = await ensureBusyboxImage();
    const client = api(url);
    const task = await submitTask(client, {
      image,
      args: ['sleep', '60'],
      killGraceMs: 200,
      // /tmp/go exists only in the container's own filesystem.
      readiness: { kind: 'command', command: 'test -f /tmp/go', intervalMs: 2000, timeoutMs: 1900 }, // docker exec takes 0.1-0.5 s
    });
    const state = async (): Promise<TaskRecord> => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
    await waitFor('not ready', async () => (await state()).ready === false, 30_000);
    assert.match((await state()).probeMessage ?? '', /no readiness probe has passed yet/);
    await docker(['exec', containerName(task.id), 'touch', '/tmp/go']);
    await waitFor('ready', async () => (await state()).ready === true);
    await docker(['exec', containerName(task.id), 'rm', '/tmp/go']);
    await waitFor('not ready again', async () => (await state()).ready === false);
    assert.match((await state()).probeMessage ?? '', /readiness probe failed: "test -f \/tmp\/go" exited with 1/);
    await client.post(`/api/v1/tasks/${task.id}/kill`);
  });

  it('refuses bad probe settings with 400 naming the field, and stores nothing', async () => {
    const client = api(url);
    const before = (await client.get<{ tasks: TaskRecord[] }>('/api/v1/tasks?limit=10000')).body.tasks.length;
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ cmd: 'true', health: { kind: 'http' } }, /health\.portIndex: 0 is not one of its ports: the task asks for no port/],
      [{ cmd: 'true', ports: [0], health: { kind: 'tcp', portIndex: 3 } }, /health\.portIndex: 3 is not one of its ports: the task has 1 port/],
      [{ cmd: 'true', ports: [0], readiness: { kind: 'http', intervalMs: 10 } }, /readiness\.intervalMs: at least 100 ms/],
      [{ cmd: 'true', ports: [0], health: { kind: 'http', intervalMs: 1000, timeoutMs: 5000 } }, /health\.timeoutMs: 5000 is longer than intervalMs/],
      [{ cmd: 'true', health: { kind: 'grpc' } }, /health\.kind/],
      [{ image: 'busybox', pullOnly: true, health: { kind: 'command', command: 'true' } }, /health: a "pullOnly" task runs nothing to probe/],
    ];
    for (const [body, message] of bad) {
      const answer = await client.post<{ error: string; message: string }>('/api/v1/tasks', body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error, 'invalid');
      assert.match(answer.body.message, message);
    }
    assert.equal((await client.get<{ tasks: TaskRecord[] }>('/api/v1/tasks?limit=10000')).body.tasks.length, before, 'nothing stored');
  });
});
