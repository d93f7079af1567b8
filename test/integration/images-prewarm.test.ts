// Image inventory and pre-warming (issue 6) with two agents on two Docker engines, as two machines:
// "north" on the default engine, "south" on a second engine with an empty image store. An image pushed
// to the bundled registry is held by north only; agents report what they hold; a task with that image
// goes to north when both score the same; `gantry images prewarm --agents hostname:IS:south` pulls it
// onto south with its progress, and from then on `gantry images ls` lists it on both.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { docker, ensureBusyboxImage, removeImages, requireDocker, startSecondEngine, type SecondEngine } from '../helpers/docker.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, runCli, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';

interface Listed {
  image: string;
  agents: Array<{ agentId: string; hostname: string }>;
}

describe('images: inventory, placement preference and pre-warming', function () {
  this.timeout(120_000);
  const dir = tempDir('images-prewarm');
  const local = 'gantry-test/busybox:prewarm';
  const started: Started[] = [];
  let engine: SecondEngine | undefined;
  let env: Record<string, string> = {};
  let client: ReturnType<typeof api>;
  let image = '';
  const agentIds: Record<string, string> = {};

  before(async function () {
    await requireDocker(this);
    engine = await startSecondEngine(path.join(dir, 'engine-2'));
    const server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on http:\/\/(\S+)/,
    );
    started.push(server);
    const url = /listening on (http:\/\/\S+)/.exec(server.output())![1]!;
    env = { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN };
    client = api(url);
    image = `${server.match[1]!}/team/prewarm:v1`;
    const config = path.join(dir, 'docker-config');
    mkdirSync(config);
    await docker(['login', server.match[1]!, '-u', 'admin', '--password-stdin'], { config, input: ADMIN_TOKEN });
    await docker(['tag', await ensureBusyboxImage(local), image]);
    await docker(['push', image], { config });

    for (const [name, dockerHost] of [['north', undefined], ['south', engine.host]] as const) {
      const agent = await startGantry(
        ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', name, '--data-dir', path.join(dir, name), '--resources', 'cpus:4;mem:4096', '--log-level', 'warn'],
        dockerHost ? { DOCKER_HOST: dockerHost } : {},
        /Agent (\S+) joined/,
      );
      started.push(agent);
      agentIds[name] = agent.match[1]!;
    }
  });

  after(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
    const ours = (await docker(['ps', '-a', '--filter', 'label=gantry.task', '--format', '{{.ID}} {{.Label "gantry.sandbox"}}']).catch(() => ({ stdout: '' }))).stdout
      .split('\n')
      .filter((line) => line.split(' ')[1]?.startsWith(dir))
      .map((line) => line.split(' ')[0]!);
    if (ours.length > 0) await docker(['rm', '-f', ...ours]).catch(() => undefined);
    if (image) await removeImages(image, local).catch(() => undefined);
    await engine?.stop();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const holders = async (): Promise<Map<string, string[]>> => {
    const { images } = (await client.get<{ images: Listed[] }>('/api/v1/images')).body;
    return new Map(images.map((i) => [i.image, i.agents.map((a) => a.hostname).sort()]));
  };

  it('lists what each agent\'s engine holds', async () => {
    const listed = await waitFor('north reports the image', async () => ((await holders()).get(image)?.includes('north') ? holders() : null));
    assert.deepEqual(listed.get(image), ['north'], 'south\'s engine does not hold it');
    const cli = await runCli(['images', 'ls', 'team/prewarm'], env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^${image.replace(/[.]/g, '\\.')}\\s+1\\s+north$`, 'm'));
  });

  it('places a task with the image on the agent that holds it when both score the same', async () => {
    for (let i = 0; i < 6; i++) {
      const t = await submitTask(client, { image, cmd: 'true', network: 'none', cpus: 0.5, mem: 64 });
      const ended = await waitFor('ended', async () => {
        const now = (await client.get<TaskRecord>(`/api/v1/tasks/${t.id}`)).body;
        return now.state === 'finished' || now.state === 'failed' ? now : null;
      }, 30_000);
      assert.equal(ended.agentId, agentIds.north, `task ${i + 1} went to ${ended.agentId === agentIds.south ? 'south' : ended.agentId} (${ended.reason})`);
    }
  });

  it('gantry images prewarm pulls the image onto the selected agent with its progress', async () => {
    const result = await runCli(['images', 'prewarm', image, '--agents', 'hostname:IS:south'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^south: .*pulling as gantry-platform/m, 'the pull\'s progress, per agent');
    assert.match(result.stdout, /^south\s+pulled\s+\d+\.\d s\s+-$/m);
    assert.doesNotMatch(result.stdout + result.stderr, /north/, 'north was not selected');
    await docker(['image', 'inspect', image], { host: engine!.host });
    const listed = await waitFor('south reports the image', async () => ((await holders()).get(image)?.length === 2 ? holders() : null));
    assert.deepEqual(listed.get(image), ['north', 'south']);

    const again = await runCli(['images', 'prewarm', image], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^north: already holds /m);
    assert.match(again.stderr, /^south: already holds /m);
    assert.match(again.stdout, /^north\s+already held/m);
  });

  describe('bad input', () => {
    it('says why when nothing can be pre-warmed, or the image cannot be pulled', async () => {
      const none = await runCli(['images', 'prewarm', image, '--agents', 'rack:IS:r9'], env);
      assert.equal(none.code, 2, none.stderr);
      assert.equal(none.stderr, 'gantry: nothing to pre-warm: none of the 2 ready Docker agents matches the selector\n');
      const counting = await runCli(['images', 'prewarm', image, '--agents', 'hostname:UNIQUE'], env);
      assert.equal(counting.code, 2);
      assert.match(counting.stderr, /selects with IS, LIKE or UNLIKE, not UNIQUE/);
      const spaced = await client.post('/api/v1/images/prewarm', { image: 'a b' });
      assert.equal(spaced.status, 400);
      assert.deepEqual(Object.keys(spaced.body).sort(), ['error', 'message']);

      const missing = image.replace(':v1', ':nope');
      const failed = await runCli(['images', 'prewarm', missing, '--agents', 'hostname:IS:south'], env);
      assert.equal(failed.code, 1);
      assert.match(failed.stdout, /^south\s+failed\s+.*cannot pull/m);
      assert.match(failed.stderr, /gantry: 1 of 1 agents did not pull/);
    });
  });
});
