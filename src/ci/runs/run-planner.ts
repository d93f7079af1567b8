// From a push (a webhook delivery) or a manual trigger to runs: fetch the commit into the server's
// mirror, read `.gantry.yml` there, take the server's pipelines for the repository, keep those whose
// `on.push` filters match, and record one run per pipeline (unique per delivery and pipeline). A
// `.gantry.yml` that does not parse becomes a failed run that says why, and nothing executes.
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { concurrencyGroupFor, matchesPullRequest, matchesPush, parsePipeline, type Pipeline } from '../pipeline/index.ts';
import type { CiRun, NewRun, PullRequestInfo, RunEvent, RunStore } from '../store/runs.ts';
import type { GitMirror } from '../workspace/git-mirror.ts';
import { CLONE_STEP } from './step-plan.ts';

export const REPOSITORY_PIPELINE_FILE = '.gantry.yml';

export interface PushFacts {
  repository: string;
  cloneUrl: string;
  ref: string;
  before: string | null;
  /** The pushed commit; null for a manual run (the ref's head is fetched). */
  after: string | null;
  event: RunEvent;
  deliveryId: string | null;
  /** A pull request's run: `ref` is its head (refs/pull/N/head), `before` its base commit. */
  pullRequest?: PullRequestInfo;
}

export interface PlannedRuns {
  runs: CiRun[];
  /** One line per pipeline that did not start, saying why. */
  skipped: string[];
}

export class RunPlanner {
  constructor(
    private readonly runs: RunStore,
    private readonly mirror: GitMirror,
    private readonly serverPipelines: (repository: string) => Pipeline[],
    private readonly clock: Clock,
  ) {}

  async plan(push: PushFacts, only?: string): Promise<PlannedRuns> {
    const pull = push.pullRequest;
    await this.mirror.fetch(push.cloneUrl, push.ref);
    // What a pull request changes is counted from where it left its base branch (`base...head`).
    if (pull) await this.mirror.fetch(push.cloneUrl, `refs/heads/${pull.baseBranch}`).catch(() => undefined);
    // GitLab's merge request payloads name no base commit: the base branch as just fetched is one.
    const before = push.before ?? (pull ? await this.mirror.resolve(push.cloneUrl, `refs/heads/${pull.baseBranch}`).catch(() => null) : null);
    // A push names its commit; a manual trigger builds what the ref points to now.
    const pinned = push.after ?? (await this.mirror.resolve(push.cloneUrl, push.ref));
    // Both read the mirror at the pinned commit: at once, as they are on the way to the first step.
    const [changedPaths, text] = await Promise.all([
      push.event === 'manual' ? null : this.mirror.changedPaths(push.cloneUrl, before, pinned, pull ? 'merge-base' : 'direct'),
      this.mirror.readFile(push.cloneUrl, pinned, REPOSITORY_PIPELINE_FILE),
    ]);
    // A pull request's run is on its base branch, as Drone and Woodpecker have it (`when: branch`).
    const branch = pull ? pull.baseBranch : push.ref.startsWith('refs/heads/') ? push.ref.slice('refs/heads/'.length) : null;
    const tag = push.ref.startsWith('refs/tags/') ? push.ref.slice('refs/tags/'.length) : null;

    const candidates: Array<{ pipeline: Pipeline | null; name: string; problem?: string }> = this.serverPipelines(push.repository).map((p) => ({ pipeline: p, name: p.name }));
    if (text !== null) {
      try {
        const pipeline = parsePipeline(text, REPOSITORY_PIPELINE_FILE);
        candidates.push({ pipeline, name: pipeline.name });
      } catch (err) {
        candidates.push({ pipeline: null, name: `${push.repository}/${REPOSITORY_PIPELINE_FILE}`, problem: (err as Error).message });
      }
    }

    const result: PlannedRuns = { runs: [], skipped: [] };
    for (const candidate of candidates) {
      if (only !== undefined && candidate.name !== only) continue;
      const { pipeline } = candidate;
      if (pipeline && push.event !== 'manual') {
        const decision = pull
          ? matchesPullRequest(pipeline, { number: pull.number, baseBranch: pull.baseBranch, changedPaths })
          : matchesPush(pipeline, { kind: tag !== null ? 'tag' : 'branch', name: tag ?? branch ?? push.ref, changedPaths });
        if (!decision.run) {
          result.skipped.push(`${pipeline.name}: ${decision.reason}`);
          continue;
        }
      }
      const now = this.clock.now();
      const run: NewRun = {
        id: newId('cr', now.getTime()),
        pipeline: candidate.name,
        repository: push.repository,
        event: push.event === 'manual' ? 'manual' : pull ? 'pull_request' : tag !== null ? 'tag' : 'push',
        ref: push.ref,
        branch,
        tag,
        commit: pinned,
        before,
        cloneUrl: push.cloneUrl,
        deliveryId: push.deliveryId,
        state: pipeline ? 'queued' : 'failure',
        reason: candidate.problem ?? null,
        // `${branch}` is the branch (or tag) name, as concurrencyGroupFor documents it: passing the full
        // ref made a group written "deploy-${branch}" read "deploy-refs/heads/main".
        concurrencyGroup: pipeline ? concurrencyGroupFor(pipeline, { repository: push.repository, ref: pull ? `pull/${pull.number}` : (tag ?? branch ?? push.ref) }) : null,
        definition: pipeline,
        changedPaths,
        workspaceHost: null,
        createdAt: now.toISOString(),
        startedAt: null,
        finishedAt: pipeline ? null : now.toISOString(),
        pullRequest: pull ?? null,
      };
      const steps = pipeline ? [{ name: CLONE_STEP, position: 0 }, ...pipeline.steps.map((s, i) => ({ name: s.name, position: i + 1 }))] : [];
      const created = await this.runs.create(run, steps);
      if (created) result.runs.push(created);
    }
    return result;
  }
}
