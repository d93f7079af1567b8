// GitHub's webhook payloads as the run planner takes them (PushFacts): a push to a branch or tag, and a
// pull request opened, pushed to or reopened. Pure: what the receiver recorded in, facts or Invalid out.
import { Invalid } from '../../shared/errors.ts';
import type { PushFacts } from '../runs/run-planner.ts';
import { checkCloneUrl } from '../workspace/git-mirror.ts';

export function pushFacts(payload: Record<string, unknown>, deliveryId: string): PushFacts {
  const repository = payload.repository as { full_name?: unknown; clone_url?: unknown } | undefined;
  if (typeof repository?.full_name !== 'string' || typeof repository.clone_url !== 'string' || typeof payload.ref !== 'string' || typeof payload.after !== 'string') {
    throw new Invalid('the push payload lacks repository.full_name, repository.clone_url, ref or after');
  }
  return {
    repository: repository.full_name,
    cloneUrl: checkCloneUrl(repository.clone_url),
    ref: payload.ref,
    before: typeof payload.before === 'string' ? payload.before : null,
    after: payload.after,
    event: payload.ref.startsWith('refs/tags/') ? 'tag' : 'push',
    deliveryId,
  };
}

/**
 * A pull request's run: the base repository's pipelines, at the head commit, fetched from the base
 * repository (GitHub keeps every pull request's head at refs/pull/N/head there, forks' too).
 */
export function pullRequestFacts(payload: Record<string, unknown>, deliveryId: string): PushFacts {
  const pull = payload.pull_request as
    | { number?: unknown; head?: { sha?: unknown; ref?: unknown; repo?: { full_name?: unknown } | null }; base?: { sha?: unknown; ref?: unknown; repo?: { full_name?: unknown; clone_url?: unknown } } }
    | undefined;
  const base = pull?.base;
  const head = pull?.head;
  if (
    typeof pull?.number !== 'number' ||
    typeof head?.sha !== 'string' ||
    typeof head.ref !== 'string' ||
    typeof base?.ref !== 'string' ||
    typeof base.repo?.full_name !== 'string' ||
    typeof base.repo.clone_url !== 'string'
  ) {
    throw new Invalid('the pull_request payload lacks pull_request.number, head.sha, head.ref, base.ref or base.repo');
  }
  // A deleted fork leaves head.repo null: it is not the base repository either way.
  const headRepository = typeof head.repo?.full_name === 'string' ? head.repo.full_name : '(deleted fork)';
  return {
    repository: base.repo.full_name,
    cloneUrl: checkCloneUrl(base.repo.clone_url),
    ref: `refs/pull/${pull.number}/head`,
    before: typeof base.sha === 'string' ? base.sha : null,
    after: head.sha,
    event: 'pull_request',
    deliveryId,
    pullRequest: { number: pull.number, baseBranch: base.ref, headBranch: head.ref, headRepository, fork: headRepository !== base.repo.full_name },
  };
}

/** The branch or tag a push deleted, and where from (the mirror drops it). */
export function deletedRef(payload: Record<string, unknown>): { cloneUrl: string; ref: string } | null {
  const repository = payload.repository as { clone_url?: unknown } | undefined;
  if (typeof payload.ref !== 'string' || typeof repository?.clone_url !== 'string') return null;
  return { cloneUrl: repository.clone_url, ref: payload.ref };
}
