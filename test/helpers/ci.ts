// CI integration tests as a user sees the CI: a local bare git repository made with the real git CLI
// (cloned over file://) that tests commit and push to, GitHub push deliveries built from the real
// example payloads of @octokit/webhooks-examples and signed as GitHub signs them (HMAC-SHA256 of the
// raw body in X-Hub-Signature-256), and a real `gantry server` with its embedded agent.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, api, startGantry, tempDir, waitFor, type CliResult, type Started } from './processes.ts';
import { readEvents, type ReceivedEvent } from './sse-client.ts';

export const WEBHOOK_SECRET = 'It is a secret to everybody';
/** The secret token the test server's GitLab webhooks carry (X-Gitlab-Token). */
export const GITLAB_TOKEN = 'glwt-test-token-0123456789';
export const ZERO_SHA = '0'.repeat(40);
const FINISHED_RUN = new Set(['success', 'failure', 'canceled', 'timeout']);

// ---- GitHub payloads ---------------------------------------------------------------------------------

type Example = Record<string, unknown>;
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Example[] }>;
const exampleOf = (event: string, pick: (e: Example) => boolean = () => true): Example => {
  const found = examples.find((e) => e.name === event)?.examples.find(pick);
  assert.ok(found, `@octokit/webhooks-examples has no ${event} example`);
  return found;
};
/** GitHub's own examples: a push creating a branch (refs/heads/master), a deleted tag, a ping. */
const PUSH_EXAMPLE = exampleOf('push', (e) => e.ref === 'refs/heads/master' && e.deleted === false);
const DELETE_EXAMPLE = exampleOf('push', (e) => e.deleted === true);
export const PING_EXAMPLE = exampleOf('ping');

export interface PushFields {
  ref: string;
  after: string;
  before?: string;
  cloneUrl: string;
  fullName: string;
}

/** The real push example with our ref, commits and repository; `deleted` takes GitHub's delete example. */
export function pushPayload(fields: PushFields & { deleted?: boolean }): Example {
  const base = structuredClone(fields.deleted ? DELETE_EXAMPLE : PUSH_EXAMPLE);
  const before = fields.before ?? ZERO_SHA;
  const [owner, name] = fields.fullName.split('/') as [string, string];
  const repository = base.repository as Record<string, unknown>;
  Object.assign(repository, { full_name: fields.fullName, name, clone_url: fields.cloneUrl });
  (repository.owner as Record<string, unknown>).login = owner;
  Object.assign(base, { ref: fields.ref, before, after: fields.after, created: before === ZERO_SHA && !fields.deleted });
  const head = base.head_commit as Record<string, unknown> | null;
  if (head && !fields.deleted) head.id = fields.after;
  return base;
}

const PULL_REQUEST_EXAMPLES = new Map(['opened', 'synchronize', 'reopened', 'closed'].map((action) => [action, exampleOf('pull_request', (e) => e.action === action)]));

export interface PullRequestFields {
  action: 'opened' | 'synchronize' | 'reopened' | 'closed';
  number: number;
  /** The base repository (`owner/name`), its clone URL and the branch merged into, with its commit. */
  fullName: string;
  cloneUrl: string;
  baseRef: string;
  baseSha: string;
  /** The head branch and commit, and the repository it comes from (another one: a fork). */
  headRef: string;
  headSha: string;
  headFullName?: string;
}

/** GitHub's own pull_request example for the action, with our repository, branches and commits. */
export function pullRequestPayload(fields: PullRequestFields): Example {
  const base = structuredClone(PULL_REQUEST_EXAMPLES.get(fields.action)!);
  const [owner, name] = fields.fullName.split('/') as [string, string];
  const repository = base.repository as Record<string, unknown>;
  Object.assign(repository, { full_name: fields.fullName, name, clone_url: fields.cloneUrl });
  (repository.owner as Record<string, unknown>).login = owner;
  const pull = base.pull_request as Record<string, Record<string, unknown>>;
  Object.assign(base, { number: fields.number });
  Object.assign(pull, { number: fields.number });
  Object.assign(pull.base!, { ref: fields.baseRef, sha: fields.baseSha, repo: { ...(pull.base!.repo as object), full_name: fields.fullName, clone_url: fields.cloneUrl } });
  const headFullName = fields.headFullName ?? fields.fullName;
  Object.assign(pull.head!, { ref: fields.headRef, sha: fields.headSha, repo: { ...(pull.head!.repo as object), full_name: headFullName, fork: headFullName !== fields.fullName, clone_url: `https://github.invalid/${headFullName}.git` } });
  return base;
}

export interface DeliveryOptions {
  id?: string;
  /** Signs with this secret instead of the server's; `null` sends no signature header. */
  secret?: string | null;
  /** The raw body, when it must be exactly these bytes. */
  body?: string;
}

export interface DeliveryAnswer {
  id: string;
  status: number;
  body: Record<string, unknown>;
}

/** X-Hub-Signature-256 as GitHub computes it: HMAC-SHA256 of the raw body, hex. */
export function sign(body: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs a delivery to /hooks/github with GitHub's headers, signed over the raw body. */
export async function deliver(url: string, event: string, payload: unknown, options: DeliveryOptions = {}): Promise<DeliveryAnswer> {
  const id = options.id ?? randomUUID();
  const body = options.body ?? JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-event': event,
    'x-github-delivery': id,
    'x-github-hook-id': '292430182',
  };
  const secret = options.secret === undefined ? WEBHOOK_SECRET : options.secret;
  if (secret !== null) headers['x-hub-signature-256'] = sign(body, secret);
  const response = await fetch(`${url}/hooks/github`, { method: 'POST', headers, body });
  const text = await response.text();
  return { id, status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

// ---- a git repository --------------------------------------------------------------------------------

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Gantry Test',
  GIT_AUTHOR_EMAIL: 'test@gantry.invalid',
  GIT_COMMITTER_NAME: 'Gantry Test',
  GIT_COMMITTER_EMAIL: 'test@gantry.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

/** A bare repository (the "GitHub" side, cloned over file://) and a working copy tests commit in. */
export class GitRepo {
  readonly bare: string;
  readonly work: string;
  readonly cloneUrl: string;

  constructor(root: string) {
    this.bare = path.join(root, 'origin.git');
    this.work = path.join(root, 'work');
    this.cloneUrl = `file://${this.bare}`;
    this.git(root, 'init', '--quiet', '--bare', '--initial-branch=main', this.bare);
    this.git(root, 'init', '--quiet', '--initial-branch=main', this.work);
    this.git(this.work, 'remote', 'add', 'origin', this.cloneUrl);
    this.commit({ 'README.md': '# test repository\n' }, 'initial commit');
    this.push('main');
  }

  /** Checks out `branch` (created from `from` when new). */
  branch(branch: string, from = 'main'): this {
    const exists = this.git(this.work, 'branch', '--list', branch).trim() !== '';
    if (exists) this.git(this.work, 'checkout', '--quiet', branch);
    else this.git(this.work, 'checkout', '--quiet', '-b', branch, from);
    return this;
  }

  /** Writes the files (relative paths) and commits them on the current branch; returns the commit. */
  commit(files: Record<string, string>, message = 'change'): string {
    for (const [file, text] of Object.entries(files)) {
      const full = path.join(this.work, file);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
    this.git(this.work, 'add', '--all');
    this.git(this.work, 'commit', '--quiet', '--allow-empty', '-m', message);
    return this.head();
  }

  push(ref: string): void {
    this.git(this.work, 'push', '--quiet', '--force', 'origin', ref);
  }

  /**
   * Publishes `branch` as pull request `number`'s head, where GitHub keeps it (refs/pull/N/head), or
   * where GitLab keeps a merge request's (`refs/merge-requests/N/head`).
   */
  publishPull(number: number, branch: string, where: 'pull' | 'merge-requests' = 'pull'): string {
    this.git(this.work, 'push', '--quiet', '--force', 'origin', `${branch}:refs/${where}/${number}/head`);
    return this.head(branch);
  }

  tag(name: string): string {
    this.git(this.work, 'tag', '--force', name);
    this.push(`refs/tags/${name}`);
    return this.head();
  }

  head(ref = 'HEAD'): string {
    return this.git(this.work, 'rev-parse', `${ref}^{commit}`).trim();
  }

  private git(cwd: string, ...args: string[]): string {
    return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });
  }
}

// ---- a server ----------------------------------------------------------------------------------------

import { freePort } from './processes.ts';
import type { CiStep } from '../../src/ci/store/runs.ts';

export { freePort };

/** A step as the API shows it within a run. */
export type StepView = Omit<CiStep, 'runId'>;

export interface RunView {
  id: string;
  pipeline: string;
  repository: string;
  number: number;
  event: string;
  ref: string;
  branch: string | null;
  tag: string | null;
  commit: string | null;
  deliveryId: string | null;
  concurrencyGroup: string | null;
  state: string;
  reason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: StepView[];
}

export interface DeliveryView {
  deliveryId: string;
  event: string;
  repository: string | null;
  ref: string | null;
  outcome: string;
  detail: string | null;
}

export interface CiServerOptions {
  /** Steps run as the embedded agent's default task user (gantry-task), not as root. */
  unprivileged?: boolean;
  /** The umask the server process starts with (the test process's otherwise). */
  umask?: number;
  /** The embedded agent's --agent-resources (default: CPUs, memory and disk enough for many steps, no ports). */
  agentResources?: string;
}

/** A `gantry server` with the CI configured (webhook secret, pipelines directory) on a fixed port. */
export class CiServer {
  readonly dataDir: string;
  readonly pipelinesDir: string;
  readonly cliEnv: Record<string, string>;
  process: Started | undefined;

  private constructor(
    readonly root: string,
    readonly url: string,
    private readonly options: CiServerOptions = {},
  ) {
    this.dataDir = path.join(root, 'server');
    this.pipelinesDir = path.join(root, 'pipelines');
    mkdirSync(this.pipelinesDir, { recursive: true });
    this.cliEnv = { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN };
  }

  /**
   * `pipelines`: file name → YAML, written to the server's pipelines directory before it starts.
   * `options`: see CiServerOptions.
   */
  static async start(name: string, pipelines: Record<string, string> = {}, options: CiServerOptions = {}): Promise<CiServer> {
    const server = new CiServer(tempDir(name), `http://127.0.0.1:${await freePort()}`, options);
    for (const [file, text] of Object.entries(pipelines)) writeFileSync(path.join(server.pipelinesDir, file), text);
    await server.launch();
    return server;
  }

  /**
   * Steps run as root (`--agent-task-users root`) unless `unprivileged` is asked for, on purpose: the
   * repositories are root's, cloned over file://, and git refuses to read a repository another user
   * owns ("dubious ownership") when a step fetches from it (a clone step whose commit the server's
   * mirror holds does not: test/integration/ci-mirror-unprivileged.test.ts). Steps run as the
   * unprivileged default user in test/integration/task-users.test.ts too.
   */
  async launch(): Promise<void> {
    const taskUsers = this.options.unprivileged ? [] : ['--agent-task-users', 'root'];
    // The server inherits the umask at its spawn, which startGantry does before it returns.
    const umask = this.options.umask === undefined ? undefined : process.umask(this.options.umask);
    let starting: ReturnType<typeof startGantry>;
    try {
      starting = startGantry(
        ['server', '--data-dir', this.dataDir, '--listen', this.url.replace('http://', ''), '--registry-listen', '127.0.0.1:0',
          '--agent-resources', this.options.agentResources ?? 'cpus:32;mem:32768;disk:32768', ...taskUsers, '--log-level', 'warn'],
        { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, GANTRY_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, GANTRY_GITLAB_WEBHOOK_TOKEN: GITLAB_TOKEN, GANTRY_PIPELINES_DIR: this.pipelinesDir },
        /listening on (http:\/\/\S+)/,
      );
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
    this.process = await starting;
  }

  /** Stops as an operator does (SIGTERM: graceful). */
  async stop(): Promise<void> {
    await this.process?.stop();
    this.process = undefined;
  }

  /** Kills the server at once (SIGKILL), as a crash or an OOM kill would. */
  async crash(): Promise<void> {
    const child = this.process?.child;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  get client() {
    return api(this.url);
  }

  /** Pushes `ref` of the repository as a delivery (the commit the working copy's ref points to). */
  push(repo: GitRepo, fullName: string, ref: string, before?: string, options: DeliveryOptions = {}): Promise<DeliveryAnswer> {
    const after = repo.head(ref);
    return deliver(this.url, 'push', pushPayload({ ref, after, cloneUrl: repo.cloneUrl, fullName, ...(before ? { before } : {}) }), options);
  }

  async runs(query = ''): Promise<RunView[]> {
    const answer = await this.client.get<{ runs: RunView[] }>(`/api/v1/runs?limit=1000${query}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.runs;
  }

  async run(id: string): Promise<RunView> {
    const answer = await this.client.get<RunView>(`/api/v1/runs/${id}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body;
  }

  async deliveries(): Promise<DeliveryView[]> {
    return (await this.client.get<{ deliveries: DeliveryView[] }>('/api/v1/ci/deliveries?limit=1000')).body.deliveries;
  }

  /** The delivery once it has been turned into runs (or failed to be). */
  settledDelivery(id: string): Promise<DeliveryView> {
    return waitFor(`delivery ${id} to be processed`, async () => {
      const found = (await this.deliveries()).find((d) => d.deliveryId === id);
      return found && found.outcome !== 'received' ? found : undefined;
    });
  }

  /** The runs a delivery started, once it has been processed. */
  async runsOf(deliveryId: string): Promise<RunView[]> {
    await this.settledDelivery(deliveryId);
    return (await this.runs()).filter((r) => r.deliveryId === deliveryId);
  }

  /** Commits `.gantry.yml` on a new branch `branch` (from main), pushes it, delivers the push; the run it started. */
  async pushPipeline(repo: GitRepo, branch: string, pipeline: string): Promise<RunView> {
    repo.branch(branch, 'main').commit({ '.gantry.yml': pipeline }, `${branch} pipeline`);
    repo.push(branch);
    const delivery = await this.push(repo, `acme/${branch}`, `refs/heads/${branch}`, repo.head('main'));
    assert.equal(delivery.status, 202);
    return this.runOf(delivery.id);
  }

  /** The single run a delivery started. */
  async runOf(deliveryId: string): Promise<RunView> {
    const runs = await this.runsOf(deliveryId);
    const detail = (await this.deliveries()).find((d) => d.deliveryId === deliveryId)?.detail;
    assert.equal(runs.length, 1, `expected one run for delivery ${deliveryId}, got ${runs.length} (${detail})`);
    return runs[0]!;
  }

  /** The run with its steps once it is over (a canceled run is over once its steps have stopped). */
  finished(id: string, timeoutMs = 30_000): Promise<RunView> {
    return waitFor(`run ${id} to end`, async () => {
      const run = await this.run(id);
      return FINISHED_RUN.has(run.state) && run.finishedAt !== null ? run : undefined;
    }, timeoutMs);
  }

  /** Waits until the run's step is in `state` (and, when running, has its task). */
  stepIn(runId: string, step: string, state: string, timeoutMs = 20_000): Promise<StepView> {
    return waitFor(`step ${step} of ${runId} to be ${state}`, async () => {
      const found = (await this.run(runId)).steps.find((s) => s.name === step);
      // A step is marked running just before its task is submitted: wait for the task too.
      return found?.state === state && (state !== 'running' || found.taskId !== null) ? found : undefined;
    }, timeoutMs);
  }

  /** The output of a step (its current task) as stored: GET /api/v1/tasks/<taskId>/logs. */
  async stepLog(run: RunView, step: string, taskId?: string): Promise<string> {
    const id = taskId ?? run.steps.find((s) => s.name === step)?.taskId;
    assert.ok(id, `step ${step} of run ${run.id} has no task`);
    const answer = await fetch(`${this.url}/api/v1/tasks/${id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(answer.status, 200);
    return answer.text();
  }

  /** Reads an SSE stream until it ends or `stop` holds. */
  async events(route: string, headers: Record<string, string> = {}, stop: (events: ReceivedEvent[]) => boolean = () => false): Promise<ReceivedEvent[]> {
    const response = await fetch(this.url + route, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/event-stream', ...headers } });
    assert.equal(response.status, 200, await response.clone().text());
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    return readEvents(response, stop);
  }
}

/** The states of a run's steps, by name. */
export function stepStates(run: RunView): Record<string, string> {
  return Object.fromEntries(run.steps.map((s) => [s.name, s.state]));
}

export function step(run: RunView, name: string): StepView {
  const found = run.steps.find((s) => s.name === name);
  assert.ok(found, `run ${run.id} has no step ${name}: ${run.steps.map((s) => s.name).join(', ')}`);
  return found;
}

/** Asserts a CLI command exited 0, showing its output otherwise. */
export function succeeded(result: CliResult): CliResult {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}
