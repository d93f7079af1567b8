// Tasks with an image through the whole platform: a real `gantry server` whose embedded agent found
// the Docker engine, and `gantry run --image`. An image in a private repository of the bundled
// registry (closed to anonymous and to other users) is pulled with the platform robot the master gave
// the agent, and the pull's progress opens the task's stderr.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { docker, ensureBusyboxImage, imageExists, removeImages, requireDocker } from '../helpers/docker.ts';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, runCli, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

describe('docker tasks through the API', function () {
  this.timeout(90_000);
  const dir = tempDir('docker-run');
  const local = 'gantry-test/busybox:docker-run';
  const toPush = 'gantry-test/busybox:docker-run-pushed';
  let server: Started | undefined;
  let env: Record<string, string> = {};
  let registry = '';
  let privateImage = '';

  before(async function () {
    await requireDocker(this);
    await ensureBusyboxImage(local);
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on http:\/\/(\S+)/,
    );
    server = started;
    registry = started.match[1]!;
    privateImage = `${registry}/builds/busybox:v1`;
    env = { GANTRY_URL: /listening on (http:\/\/\S+)/.exec(started.output())![1]!, GANTRY_TOKEN: ADMIN_TOKEN };
  });

  after(async () => {
    // The exited containers of this server's tasks (kept for the container GC's delay) hold the images.
    const ours = (await docker(['ps', '-a', '--filter', 'label=gantry.task', '--format', '{{.ID}} {{.Label "gantry.sandbox"}}']).catch(() => ({ stdout: '' }))).stdout
      .split('\n')
      .filter((line) => line.split(' ')[1]?.startsWith(dir))
      .map((line) => line.split(' ')[0]!);
    if (ours.length > 0) await docker(['rm', '-f', ...ours]).catch((err) => console.error('cleanup:', err));
    await removeImages(local, toPush, ...(privateImage ? [privateImage] : [])).catch((err) => console.error('cleanup:', err));
    await server?.stop();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the embedded agent reports the docker driver and the engine version', async () => {
    type Listed = { drivers: string[]; attributes: Record<string, { kind: string; value?: string }> };
    const { agents } = (await api(env.GANTRY_URL!).get<{ agents: Listed[] }>('/api/v1/agents')).body;
    assert.equal(agents.length, 1);
    assert.deepEqual(agents[0]!.drivers, ['exec', 'docker']);
    assert.equal(agents[0]!.attributes.docker?.kind, 'text');
    assert.match(agents[0]!.attributes.docker?.value ?? '', /^\d+\.\d+/);
  });

  it('gantry run --image IMAGE -- echo hello prints hello', async () => {
    const result = await runCli(['run', '--image', local, '--', 'echo', 'hello'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'hello\n');
    const failing = await runCli(['run', '--image', local, '--sh', 'echo oops >&2; exit 5'], env);
    assert.equal(failing.code, 5);
    assert.match(failing.stderr, /^oops$/m);
  });

  it('restarts a failing container task in place: one container per task, reused', async () => {
    const result = await runCli(['run', '--image', local, '--restart', 'on-failure:2', '--restart-backoff', '100ms', '-d', '--sh', 'echo try; exit 6'], env);
    assert.equal(result.code, 0, result.stderr);
    const id = result.stdout.trim();
    const client = api(env.GANTRY_URL!);
    const ended = await waitFor('ended', async () => {
      const task = (await client.get<TaskRecord>(`/api/v1/tasks/${id}`)).body;
      return task.state === 'failed' ? task : null;
    }, 30_000);
    assert.equal(ended.exitCode, 6);
    assert.equal(ended.restarts, 2);
    const logs = String((await client.get(`/api/v1/tasks/${id}/logs?stream=stdout`)).body);
    assert.equal(logs, 'try\ntry\ntry\n');
    const containers = (await docker(['ps', '-a', '-q', '--filter', `label=gantry.task=${id}`])).stdout.trim().split('\n').filter(Boolean);
    assert.equal(containers.length, 1, 'each restart replaced the exited container of the run before');
  });

  it('pulls an image from a private repository of the bundled registry with the platform robot', async () => {
    for (const [subject, actions] of [['anonymous', []], ['authenticated', []], ['group:gantry-platform', ['pull']]] as const) {
      const response = await fetch(`${env.GANTRY_URL}/api/v1/registry/acl`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ repository: 'builds/**', subject, actions }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    // Push as admin from a client config of our own, then forget the image locally.
    const config = path.join(dir, 'docker-config');
    mkdirSync(config);
    await docker(['login', registry, '-u', 'admin', '--password-stdin'], { config, input: ADMIN_TOKEN });
    await docker(['tag', await ensureBusyboxImage(toPush), privateImage]);
    await docker(['push', privateImage], { config });
    await removeImages(privateImage, toPush);
    assert.equal(await imageExists(privateImage), false);
    const anonymous = path.join(dir, 'docker-config-anonymous');
    mkdirSync(anonymous);
    await assert.rejects(docker(['pull', privateImage], { config: anonymous }), /unauthorized|authentication required|denied/i, 'closed to anonymous pulls');

    const result = await runCli(['run', '--image', privateImage, '--sh', 'cat /etc/gantry-image'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${toPush}\n`, 'the pushed image ran');
    const pullLines = result.stderr.split('\n').filter((line) => line.startsWith(`gantry: pull ${privateImage}: `));
    assert.match(pullLines[0] ?? '', /: pulling as gantry-platform$/, result.stderr);
    assert.ok(pullLines.some((line) => /: Pull complete$/.test(line)), result.stderr);
    assert.match(pullLines.at(-1) ?? '', /: done in [\d.]+ s$/);

    // Present now: no pull unless forced.
    const again = await runCli(['run', '--image', privateImage, '--', 'true'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /gantry: pull/);
    const forced = await runCli(['run', '--image', privateImage, '--force-pull', '--', 'true'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /: pulling \(forced\) as gantry-platform$/m);
  });
});
