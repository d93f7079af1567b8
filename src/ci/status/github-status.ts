// Commit statuses on GitHub (POST /repos/{owner}/{repo}/statuses/{sha}): pending when a run starts,
// success or failure (error for canceled and timed out) when it ends, with a link to the run. Optional:
// only when a token is configured. A failure to report is logged and never affects the run.
import type { Logger } from 'pino';
import type { CiRun } from '../store/runs.ts';
import { fromGitLab } from './gitlab-status.ts';

export interface GitHubStatusOptions {
  /** https://api.github.com, or a GitHub Enterprise API URL. */
  apiUrl: string;
  token: string;
  /** Where people see the run (the Gantry server's public URL); the status links to the run there. */
  publicUrl?: string;
  logger: Logger;
  fetch?: typeof fetch;
}

type GitHubState = 'pending' | 'success' | 'failure' | 'error';

const STATE_OF_RUN: Record<CiRun['state'], GitHubState> = {
  queued: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  canceled: 'error',
  timeout: 'error',
};

export class GitHubStatusReporter {
  /** The last state sent per run, so that every step change does not become a request. */
  private readonly sent = new Map<string, GitHubState>();

  constructor(private readonly options: GitHubStatusOptions) {}

  /** Reports the run's state if it changed since the last report. */
  async report(run: CiRun): Promise<void> {
    if (!run.commit || run.event === 'manual' || fromGitLab(run) || !/^[^/\s]+\/[^/\s]+$/.test(run.repository)) return;
    const state = STATE_OF_RUN[run.state];
    if (this.sent.get(run.id) === state) return;
    this.sent.set(run.id, state);
    if (state !== 'pending') setTimeout(() => this.sent.delete(run.id), 60_000).unref();
    const url = `${this.options.apiUrl.replace(/\/+$/, '')}/repos/${run.repository}/statuses/${run.commit}`;
    const body = {
      state,
      // As GitHub Actions tells a pull request's check from the push's on the same commit.
      context: `gantry/${run.pipeline}${run.event === 'pull_request' ? ' (pull_request)' : ''}`,
      description: describe(run).slice(0, 140),
      ...(this.options.publicUrl ? { target_url: `${this.options.publicUrl.replace(/\/+$/, '')}/api/v1/runs/${run.id}` } : {}),
    };
    try {
      const response = await (this.options.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/vnd.github+json', 'content-type': 'application/json', 'user-agent': 'gantry-ci' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) this.options.logger.warn({ run: run.id, status: response.status }, 'GitHub refused the commit status');
    } catch (err) {
      this.options.logger.warn({ run: run.id, err: (err as Error).message }, 'could not report the commit status to GitHub');
    }
  }
}

function describe(run: CiRun): string {
  switch (run.state) {
    case 'queued':
      return `#${run.number} is queued`;
    case 'running':
      return `#${run.number} is running`;
    case 'success':
      return `#${run.number} passed`;
    default:
      return `#${run.number} ${run.state}${run.reason ? `: ${run.reason}` : ''}`;
  }
}
