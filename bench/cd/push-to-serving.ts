// Push → new version serving (issue 19): how long from a git push to every instance of an app healthy
// on the image built from it, through Gantry (a signed push webhook → clone, build step, deploy step),
// beside the same work done by hand with the tools alone in the same run: `docker build`, `docker push`
// to the same bundled registry, then the app updated to the pushed digest through the Marathon API and
// waited for. Both apps are alike (two instances of a small httpd image, HTTP health checks every
// second, one replaced at a time) and both waits poll every 100 ms for the same thing: two healthy
// instances of the app's current version that answer with the pushed content.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN, appTasks, call, dockerWebApp, expectStatus, isHealthy, pollUntil, startServer, type GantryServer } from '../apps/gantry.ts';
import { CONTAINER_PORT, PAGE, docker } from '../apps/image.ts';
import { createRepo, git, type BenchRepo } from '../ci/repo.ts';
import { delivery, post, pushBody } from '../ci/webhook.ts';
import http from 'node:http';

export const WEBHOOK_SECRET = 'bench-cd-webhook-secret-0123456789';
const HEALTH = { intervalSeconds: 1, timeoutSeconds: 1, gracePeriodSeconds: 5, maxConsecutiveFailures: 3 };
const UPGRADE = { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 };

export interface PushSettings {
  pushes: number;
  baseImage: string;
  dataDir: string;
  timeoutMs: number;
}

export interface PushResult {
  /** Per push, push → serving (ms), Gantry's way and by hand. */
  gantry: number[];
  byHand: number[];
  /** Per Gantry push, where the time went (ms): webhook → run started, clone, build step, deploy step, the rest. */
  stages: Array<Record<string, number>>;
  notes: string[];
}

const PIPELINE = `steps:
  - name: image
    build: {image: bench/cd-web, tags: ['\${short_commit}']}
  - name: deploy
    deploy: {app: /bench/cd, image: '\${steps.image.image}'}
`;

const dockerfile = (base: string): string => `FROM ${base}\nCOPY www/ /www/\n`;

/** Runs both, push after push (Gantry's first, then by hand), and returns their times. */
export async function runPushToServing(s: PushSettings): Promise<PushResult> {
  process.env.GANTRY_GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET;
  const server = await startServer({
    dataDir: s.dataDir,
    agentResources: 'cpus:8;mem:16384;disk:20480;ports:[24000-24999]',
    logLevel: 'warn',
    // Root, as the tests run steps: the repository is root's, cloned over file://.
    extraArgs: ['--agent-task-users', 'root'],
  });
  const notes: string[] = [];
  const result: PushResult = { gantry: [], byHand: [], stages: [], notes };
  try {
    const registry = await waitForRegistry(server);
    for (const id of ['/bench/cd', '/bench/manual']) {
      const app = dockerWebApp(id, { image: s.baseImage, instances: 2, containerPort: CONTAINER_PORT, page: PAGE, env: {}, health: HEALTH, upgradeStrategy: UPGRADE, killGraceSeconds: 1 });
      expectStatus(`POST /v2/apps ${id}`, await call(server.url, 'POST', '/v2/apps', app), 201);
    }
    const repo = await createRepo(await mkdtemp(path.join(os.tmpdir(), 'bench-cd-repo-')), 'bench/cd-web', PIPELINE);
    await writeSite(repo.work, s.baseImage, 'v0');
    await git(repo.work, ['add', '-A']);
    await git(repo.work, ['commit', '--quiet', '-m', 'the site']);
    await git(repo.work, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    let head = await git(repo.work, ['rev-parse', 'HEAD']);

    const agent = new http.Agent({ keepAlive: true });
    const context = await mkdtemp(path.join(os.tmpdir(), 'bench-cd-by-hand-'));
    const dockerConfig = await mkdtemp(path.join(os.tmpdir(), 'bench-cd-docker-config-'));
    process.env.DOCKER_CONFIG = dockerConfig;
    await docker(['login', registry, '-u', 'admin', '-p', ADMIN_TOKEN]);
    try {
      for (let i = 1; i <= s.pushes; i++) {
        // Gantry: a commit, its push to the repository, GitHub's webhook.
        const content = `gantry push ${i}`;
        await writeFile(path.join(repo.work, 'www', 'index.html'), `${content}\n`);
        await git(repo.work, ['commit', '--quiet', '-am', content]);
        await git(repo.work, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
        const before = head;
        head = await git(repo.work, ['rev-parse', 'HEAD']);
        const t0 = Date.now();
        const answer = await post(`${server.url}/hooks/github`, WEBHOOK_SECRET, delivery(pushBody({ fullName: repo.fullName, cloneUrl: repo.cloneUrl, ref: 'refs/heads/main', before, after: head })), agent);
        if (answer.status !== 202) throw new Error(`the webhook answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        const served = await serving(server.url, '/bench/cd', content, s.timeoutMs).catch(async (err: Error) => {
          throw new Error(`${err.message}; the run: ${JSON.stringify(await runOf(server.url, head))}`);
        });
        result.gantry.push(served - t0);
        result.stages.push(await stagesOf(server.url, head, t0, served));

        // By hand: the same files, docker build, docker push, the app updated to the digest.
        const manual = `by hand ${i}`;
        await writeSite(context, s.baseImage, manual);
        const t1 = Date.now();
        const tag = `${registry}/bench/cd-manual:${i}`;
        await docker(['build', '-q', '-t', tag, context]);
        const pushed = await docker(['push', tag]);
        const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
        if (!digest) throw new Error(`docker push printed no digest: ${pushed}`);
        const app = dockerWebApp('/bench/manual', { image: `${registry}/bench/cd-manual@${digest}`, instances: 2, containerPort: CONTAINER_PORT, page: PAGE, env: {}, health: HEALTH, upgradeStrategy: UPGRADE, killGraceSeconds: 1 });
        expectStatus('PUT /v2/apps/bench/manual', await call(server.url, 'PUT', '/v2/apps/bench/manual', app), 200);
        const done = await serving(server.url, '/bench/manual', manual, s.timeoutMs);
        result.byHand.push(done - t1);
        process.stdout.write(`  push ${i}: Gantry ${((served - t0) / 1000).toFixed(2)} s, by hand ${((done - t1) / 1000).toFixed(2)} s\n`);
      }
    } finally {
      agent.destroy();
      await rm(context, { recursive: true, force: true });
      await rm(dockerConfig, { recursive: true, force: true });
      delete process.env.DOCKER_CONFIG;
      const built = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${registry}/bench/*`]).catch(() => '')).split('\n').filter(Boolean);
      if (built.length > 0) await docker(['rmi', '-f', ...built]).catch(() => '');
    }
    for (const id of ['/bench/cd', '/bench/manual']) await call(server.url, 'DELETE', `/v2/apps${id}`);
    await pollUntil(async () => (await call<{ apps: unknown[] }>(server.url, 'GET', '/v2/apps')).body.apps.length === 0, { timeoutMs: 60_000, everyMs: 500, what: 'the apps removed' }).catch((err: Error) => notes.push(err.message));
  } finally {
    await server.stop();
  }
  return result;
}

async function writeSite(dir: string, base: string, content: string): Promise<void> {
  await mkdir(path.join(dir, 'www'), { recursive: true });
  await writeFile(path.join(dir, 'Dockerfile'), dockerfile(base));
  await writeFile(path.join(dir, 'www', 'index.html'), `${content}\n`);
}

async function waitForRegistry(server: GantryServer): Promise<string> {
  let registry = '';
  await pollUntil(async () => {
    registry = /Registry listening on http:\/\/(\S+)/.exec(server.output())?.[1] ?? '';
    return registry !== '';
  }, { timeoutMs: 30_000, everyMs: 100, what: 'the registry to listen' });
  return registry;
}

/** When both instances of the app's current version are healthy and answer `content` (epoch ms). */
async function serving(url: string, appId: string, content: string, timeoutMs: number): Promise<number> {
  return pollUntil(async () => {
    const tasks = (await appTasks(url, appId)).filter(isHealthy);
    if (tasks.length !== 2) return false;
    const pages = await Promise.all(tasks.map((t) => fetch(`http://127.0.0.1:${t.ports?.[0]}${PAGE}`).then((r) => r.text()).catch(() => '')));
    return pages.every((page) => page.trim() === content);
  }, { timeoutMs, everyMs: 100, what: `${appId} serving "${content}"` });
}

/** The run of a commit with its steps, for a failure's message. */
async function runOf(url: string, commit: string): Promise<unknown> {
  const runs = (await call<{ runs: Array<{ id: string; commit: string | null }> }>(url, 'GET', '/api/v1/runs?limit=20')).body.runs;
  const run = runs.find((r) => r.commit === commit);
  const deliveries = (await call<{ deliveries: unknown[] }>(url, 'GET', '/api/v1/ci/deliveries?limit=3')).body.deliveries;
  return run ? (await call(url, 'GET', `/api/v1/runs/${run.id}`)).body : { noRun: true, deliveries };
}

/** Where a Gantry push's time went, from its run: planning (webhook → run started), each step, the rest. */
async function stagesOf(url: string, commit: string, t0: number, served: number): Promise<Record<string, number>> {
  const runs = (await call<{ runs: Array<{ id: string; commit: string | null }> }>(url, 'GET', '/api/v1/runs?limit=20')).body.runs;
  const run = runs.find((r) => r.commit === commit);
  if (!run) return {};
  const detail = (await call<{ startedAt: string | null; steps: Array<{ name: string; startedAt: string | null; finishedAt: string | null }> }>(url, 'GET', `/api/v1/runs/${run.id}`)).body;
  const stages: Record<string, number> = { planning: Date.parse(detail.startedAt ?? '') - t0 };
  let last = Date.parse(detail.startedAt ?? '');
  for (const step of detail.steps) {
    if (!step.startedAt || !step.finishedAt) continue;
    stages[step.name] = Date.parse(step.finishedAt) - Date.parse(step.startedAt);
    last = Math.max(last, Date.parse(step.finishedAt));
  }
  stages.after = served - last;
  return stages;
}

export type { BenchRepo };
