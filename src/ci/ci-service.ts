// The CI as the rest of Gantry sees it: the webhook receiver, the server's pipelines, turning
// deliveries into runs (also those recorded just before a crash), the run engine, and read models for
// the API and CLI.
import path from 'node:path';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ClusterClient } from '../cluster/index.ts';
import type { Clock } from '../shared/clock.ts';
import { Invalid, NotFound, Unsatisfiable } from '../shared/errors.ts';
import { SerialLane } from '../shared/serial-lane.ts';
import { loadPipelineDirectory, type Pipeline } from './pipeline/index.ts';
import type { AppDeployer } from './runs/deploy-step.ts';
import { RunEngine } from './runs/run-engine.ts';
import { RunPlanner, type PushFacts } from './runs/run-planner.ts';
import { DeliveryStore, type Delivery } from './store/deliveries.ts';
import { RunStore, type CiRun, type CiStep, type StepLine } from './store/runs.ts';
import { SecretStore } from './store/secrets.ts';
import { deletedRef as githubDeletedRef, pullRequestFacts, pushFacts } from './webhooks/github-payloads.ts';
import { gitlabDeletedRef, gitlabMergeRequestFacts, gitlabPushFacts } from './webhooks/gitlab-payloads.ts';
import { GitLabReceiver } from './webhooks/gitlab-receiver.ts';
import { GitHubReceiver } from './webhooks/github-receiver.ts';
import { checkCloneUrl, GitMirror, MIRROR_KEY_FILE, MIRRORS_DIR, withoutCredentials } from './workspace/git-mirror.ts';

export interface CiServiceOptions {
  knex: Knex;
  cluster: ClusterClient;
  clock: Clock;
  logger: Logger;
  dataDir: string;
  pipelinesDir: string;
  webhookSecrets: readonly string[];
  /** The tokens GitLab's webhooks may send (X-Gitlab-Token); none: /hooks/gitlab answers 503. */
  gitlabTokens?: readonly string[];
  /** The bundled registry and the platform robot, handed to every step (see RunEngineOptions.registry). */
  registry?: () => { url: string; username: string; password: string } | undefined;
  /** The apps, as deploy steps reach them (src/main.ts wires them in). */
  deployer?: AppDeployer;
}

export interface PipelineSummary {
  name: string;
  repository: string | null;
  file: string;
  steps: string[];
}

export class CiService {
  readonly receiver: GitHubReceiver;
  readonly gitlabReceiver: GitLabReceiver;
  readonly runs: RunStore;
  readonly secrets: SecretStore;
  readonly deliveries: DeliveryStore;
  private readonly engine: RunEngine;
  private readonly planner: RunPlanner;
  private readonly lane = new SerialLane();
  private readonly mirror: GitMirror;
  /** Deleted branches and tags not yet dropped from their mirror, by clone URL (noteDeletedRef). */
  private readonly deletedRefs = new Map<string, Set<string>>();
  private pipelines: Pipeline[] = [];
  private pipelineErrors: Array<{ file: string; message: string }> = [];
  private readonly listeners = new Set<(run: CiRun) => void>();

  constructor(private readonly options: CiServiceOptions) {
    this.runs = new RunStore(options.knex);
    this.secrets = new SecretStore(options.knex);
    this.deliveries = new DeliveryStore(options.knex);
    const mirror = (this.mirror = new GitMirror(path.join(options.dataDir, ...MIRRORS_DIR), path.join(options.dataDir, ...MIRROR_KEY_FILE)));
    this.engine = new RunEngine({
      runs: this.runs,
      mirrorOf: (cloneUrl) => mirror.directoryOf(cloneUrl),
      commitTime: (cloneUrl, commit) => mirror.commitTime(cloneUrl, commit),
      secrets: this.secrets,
      cluster: options.cluster,
      clock: options.clock,
      logger: options.logger,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.deployer ? { deployer: options.deployer } : {}),
      onChange: (run) => {
        for (const listener of this.listeners) listener(run);
      },
    });
    this.planner = new RunPlanner(this.runs, mirror, (repository) => this.pipelines.filter((p) => p.repository === repository), options.clock);
    this.receiver = new GitHubReceiver({
      secrets: options.webhookSecrets,
      deliveries: this.deliveries,
      clock: options.clock,
      onDelivery: (delivery) => void this.processDelivery(delivery),
      onRefDeleted: (delivery) => this.noteDeletedRef(delivery),
    });
    this.gitlabReceiver = new GitLabReceiver({
      tokens: options.gitlabTokens ?? [],
      deliveries: this.deliveries,
      clock: options.clock,
      onDelivery: (delivery) => void this.processDelivery(delivery),
      onRefDeleted: (delivery) => this.noteDeletedRef(delivery),
    });
  }

  async start(): Promise<void> {
    this.reloadPipelines();
    await this.mirror.open();
    await this.engine.start();
    // Deliveries recorded but not turned into runs before a stop or crash.
    for (const delivery of await this.deliveries.pending()) void this.processDelivery(delivery);
  }

  async stop(): Promise<void> {
    await this.lane.idle();
    await this.engine.stop();
  }

  /** Reads the pipelines directory again; broken files are reported, not fatal. */
  reloadPipelines(): { pipelines: PipelineSummary[]; errors: Array<{ file: string; message: string }> } {
    const loaded = loadPipelineDirectory(this.options.pipelinesDir);
    this.pipelines = loaded.pipelines;
    this.pipelineErrors = loaded.errors;
    for (const error of loaded.errors) this.options.logger.error({ file: error.file }, error.message);
    return this.listPipelines();
  }

  listPipelines(): { pipelines: PipelineSummary[]; errors: Array<{ file: string; message: string }> } {
    return {
      pipelines: this.pipelines.map((p) => ({ name: p.name, repository: p.repository, file: p.file, steps: p.steps.map((s) => s.name) })),
      errors: this.pipelineErrors,
    };
  }

  /**
   * Runs a pipeline by hand at a ref (a branch name, a tag name or a full ref): a server pipeline, or
   * with `repository`, one of that repository's (a server pipeline bound to it, or its .gantry.yml).
   */
  async trigger(pipelineName: string, ref: string, cloneUrl?: string, repository?: string): Promise<CiRun> {
    const pipeline = this.pipelines.find((p) => p.name === pipelineName && (repository === undefined || p.repository === repository));
    if (repository === undefined && !pipeline?.repository) {
      throw new NotFound(`no server pipeline named "${pipelineName}" (gantry ci ls); a repository's .gantry.yml runs with its repository named (--repo owner/name)`);
    }
    const repo = repository ?? pipeline!.repository!;
    const url = cloneUrl ?? (await this.runs.lastCloneUrl(repo));
    if (!url) throw new Invalid(`no clone URL known for ${repo} yet: give one (--url)`);
    const fullRef = ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const planned = await this.lane
      .run(() => this.planner.plan({ repository: repo, cloneUrl: checkCloneUrl(url), ref: fullRef, before: null, after: null, event: 'manual', deliveryId: null }, pipelineName))
      .catch((err: Error & { stderr?: string }) => {
        // A ref or repository that is not there is the asker's mistake, told in git's words (was a 500).
        if (err.stderr === undefined) throw err;
        const why = err.stderr.trim().split('\n').filter(Boolean).at(-1) ?? err.message;
        throw new Unsatisfiable(withoutCredentials(`cannot fetch ${fullRef} from ${url}: ${why}`));
      });
    const run = planned.runs[0];
    if (!run && planned.skipped.length === 0) throw new NotFound(`${repo} has no pipeline named "${pipelineName}" at ${fullRef} (neither a server pipeline nor its .gantry.yml)`);
    if (!run) throw new Invalid(`pipeline "${pipelineName}" did not start: ${planned.skipped.join('; ')}`);
    await this.engine.enqueue(run.id);
    return this.runs.get(run.id);
  }

  cancel(runId: string): Promise<CiRun> {
    return this.engine.cancel(runId, 'canceled by user');
  }

  /** Lets a step waiting for approval go (`who`: the approver, recorded with the time). */
  approve(runId: string, step: string, who: string): Promise<CiRun> {
    return this.engine.approve(runId, step, who);
  }

  /** The log of a step that runs on the server (a deploy), after line `afterSeq`. */
  stepLines(runId: string, step: string, afterSeq = 0): Promise<StepLine[]> {
    return this.runs.lines(runId, step, afterSeq);
  }

  async run(runId: string): Promise<CiRun & { steps: CiStep[] }> {
    const run = await this.runs.get(runId);
    return { ...run, steps: await this.runs.steps(runId) };
  }

  listRuns(query: { pipeline?: string; limit?: number; before?: string }): Promise<CiRun[]> {
    return this.runs.list(query);
  }

  /** Calls `listener` on every change of any run or step; returns an unsubscribe. */
  subscribe(listener: (run: CiRun) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A deleted branch or tag is dropped from its mirror (GitMirror.forget), on the planning lane so
   * that no fetch into the same mirror runs meanwhile, and in batches: the deletions received while
   * the lane was busy go in one git transaction. A stop before that leaves the refs, which costs the
   * mirror's fetches a little time and nothing else.
   */
  private noteDeletedRef(delivery: Delivery): void {
    let cloneUrl: string;
    let ref: string;
    try {
      const payload = JSON.parse(delivery.payload) as Record<string, unknown>;
      const deleted = delivery.deliveryId.startsWith('gitlab:') ? gitlabDeletedRef(payload) : githubDeletedRef(payload);
      if (!deleted) return;
      cloneUrl = checkCloneUrl(deleted.cloneUrl);
      ref = deleted.ref;
    } catch {
      return; // not a URL the mirror would have fetched from
    }
    const pending = this.deletedRefs.get(cloneUrl);
    if (pending) return void pending.add(ref);
    this.deletedRefs.set(cloneUrl, new Set([ref]));
    const repository = delivery.repository; // logged rather than the URL, which could carry credentials
    void this.lane.run(async () => {
      await this.receiver.idle(MAX_PLANNING_DELAY_MS);
      const refs = [...(this.deletedRefs.get(cloneUrl) ?? [])];
      this.deletedRefs.delete(cloneUrl);
      try {
        const forgotten = await this.mirror.forget(cloneUrl, refs);
        if (forgotten > 0) this.options.logger.debug({ repository, forgotten }, 'deleted refs dropped from the git mirror');
      } catch (err) {
        this.options.logger.warn({ repository, err: (err as Error).message }, 'deleted refs could not be dropped from the git mirror');
      }
    });
  }

  /**
   * Turns a recorded push into runs, once (runs are unique per delivery and pipeline), one delivery at
   * a time, after the deliveries being received have been answered (GitHubReceiver.idle); the receiver
   * hands over what it recorded, so the payload is not read back.
   */
  private processDelivery(delivery: Delivery): Promise<void> {
    const { deliveryId } = delivery;
    return this.lane.run(async () => {
      try {
        await Promise.all([this.receiver.idle(MAX_PLANNING_DELAY_MS), this.gitlabReceiver.idle(MAX_PLANNING_DELAY_MS)]);
        const push = factsOf(delivery);
        const planned = await this.planner.plan(push);
        for (const run of planned.runs) if (run.state === 'queued') await this.engine.enqueue(run.id);
        const started = planned.runs.map((r) => `${r.pipeline} #${r.number}`);
        await this.deliveries.settle(deliveryId, 'processed', [started.length ? `started ${started.join(', ')}` : 'no pipeline started', ...planned.skipped].join('; '));
      } catch (err) {
        this.options.logger.error({ delivery: deliveryId, err: (err as Error).message }, 'a push could not be turned into runs');
        await this.deliveries.settle(deliveryId, 'failed', (err as Error).message);
      }
    });
  }
}

/** The longest a push's planning waits for a burst of deliveries to be answered (GitHubReceiver.idle). */
const MAX_PLANNING_DELAY_MS = 1000;

/** What a recorded delivery asks to build, by its forge (GitLab's ids start with "gitlab:") and event. */
function factsOf(delivery: Delivery): PushFacts {
  const payload = JSON.parse(delivery.payload) as Record<string, unknown>;
  if (delivery.deliveryId.startsWith('gitlab:')) {
    return delivery.event === 'Merge Request Hook' ? gitlabMergeRequestFacts(payload, delivery.deliveryId) : gitlabPushFacts(payload, delivery.deliveryId);
  }
  return delivery.event === 'pull_request' ? pullRequestFacts(payload, delivery.deliveryId) : pushFacts(payload, delivery.deliveryId);
}
