// Commit statuses on GitLab (POST /api/v4/projects/:id/statuses/:sha, the project named by its
// URL-encoded path): running while a run is active, then success, failed or canceled, with a link to
// the run. For runs started by GitLab deliveries only (their delivery ids start with "gitlab:"), and
// only when a token is configured. A failure to report is logged and never affects the run.
import type { Logger } from 'pino';
import type { CiRun } from '../store/runs.ts';

export interface GitLabStatusOptions {
  /** The GitLab instance, e.g. https://gitlab.example.com. */
  url: string;
  /** A token with the api scope on the projects (sent as PRIVATE-TOKEN). */
  token: string;
  /** Where people see the run (the Gantry server's public URL); the status links to the run there. */
  publicUrl?: string;
  logger: Logger;
  fetch?: typeof fetch;
}

type GitLabState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

const STATE_OF_RUN: Record<CiRun['state'], GitLabState> = {
  queued: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  canceled: 'canceled',
  timeout: 'failed',
};

/** Whether a run came from a GitLab delivery (the receiver records them as `gitlab:<event UUID>`). */
export function fromGitLab(run: Pick<CiRun, 'deliveryId'>): boolean {
  return run.deliveryId?.startsWith('gitlab:') ?? false;
}

export class GitLabStatusReporter {
  /** The last state sent per run, so that every step change does not become a request. */
  private readonly sent = new Map<string, GitLabState>();

  constructor(private readonly options: GitLabStatusOptions) {}

  async report(run: CiRun): Promise<void> {
    if (!run.commit || !fromGitLab(run)) return;
    const state = STATE_OF_RUN[run.state];
    if (this.sent.get(run.id) === state) return;
    this.sent.set(run.id, state);
    if (state !== 'pending' && state !== 'running') setTimeout(() => this.sent.delete(run.id), 60_000).unref();
    const url = `${this.options.url.replace(/\/+$/, '')}/api/v4/projects/${encodeURIComponent(run.repository)}/statuses/${run.commit}`;
    const body = {
      state,
      name: `gantry/${run.pipeline}`,
      // The branch the status belongs to; GitLab guesses wrong for a commit on several branches.
      ...(run.pullRequest ? { ref: run.pullRequest.headBranch } : run.branch ? { ref: run.branch } : run.tag ? { ref: run.tag } : {}),
      description: `#${run.number} ${run.state}${run.reason && (run.state === 'failure' || run.state === 'timeout' || run.state === 'canceled') ? `: ${run.reason}` : ''}`.slice(0, 255),
      ...(this.options.publicUrl ? { target_url: `${this.options.publicUrl.replace(/\/+$/, '')}/api/v1/runs/${run.id}` } : {}),
    };
    try {
      const response = await (this.options.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'private-token': this.options.token, 'content-type': 'application/json', 'user-agent': 'gantry-ci' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) this.options.logger.warn({ run: run.id, status: response.status }, 'GitLab refused the commit status');
    } catch (err) {
      this.options.logger.warn({ run: run.id, err: (err as Error).message }, 'could not report the commit status to GitLab');
    }
  }
}
