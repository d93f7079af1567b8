// GitLab's webhook payloads as the run planner takes them (PushFacts): a push to a branch (Push Hook)
// or a tag (Tag Push Hook), and a merge request opened, reopened or pushed to (Merge Request Hook).
// Pure, like github-payloads.ts: what the receiver recorded in, facts or Invalid out.
import { Invalid } from '../../shared/errors.ts';
import type { PushFacts } from '../runs/run-planner.ts';
import { checkCloneUrl } from '../workspace/git-mirror.ts';

/** GitLab's blank ref: 40 zeros (64 in a SHA-256 repository). */
const ZERO_SHA = /^0+$/;

type Json = Record<string, unknown>;

/**
 * A push's run: the project's pipelines at the pushed commit. `checkout_sha` is what to build: for an
 * annotated tag `after` is the tag object, and GitLab peels it to its commit in `checkout_sha`.
 */
export function gitlabPushFacts(payload: Json, deliveryId: string): PushFacts {
  const project = objectAt(payload, 'project');
  const missing = [
    typeof project?.path_with_namespace !== 'string' && 'project.path_with_namespace',
    typeof project?.git_http_url !== 'string' && 'project.git_http_url',
    typeof payload.ref !== 'string' && 'ref',
    typeof payload.checkout_sha !== 'string' && typeof payload.after !== 'string' && 'checkout_sha or after',
  ].filter((name): name is string => name !== false);
  if (missing.length > 0 || !project) throw new Invalid(`the GitLab push payload lacks ${missing.join(', ')}`);
  const ref = payload.ref as string;
  return {
    repository: project.path_with_namespace as string,
    cloneUrl: checkCloneUrl(project.git_http_url as string),
    ref,
    before: typeof payload.before === 'string' ? payload.before : null,
    after: typeof payload.checkout_sha === 'string' ? payload.checkout_sha : (payload.after as string),
    event: ref.startsWith('refs/tags/') ? 'tag' : 'push',
    deliveryId,
  };
}

/**
 * A merge request's run: the target project's pipelines, at the head commit, fetched from the target
 * project (GitLab keeps every merge request's head at refs/merge-requests/IID/head there, forks' too).
 * `before` is the base commit when the payload names one (diff_refs.base_sha); GitLab's Merge Request
 * Hook does not today, so it is null and the changed paths are not known from the payload alone.
 */
export function gitlabMergeRequestFacts(payload: Json, deliveryId: string): PushFacts {
  const attributes = objectAt(payload, 'object_attributes');
  const project = objectAt(payload, 'project');
  const target = objectAt(attributes, 'target');
  const source = objectAt(attributes, 'source');
  const head = objectAt(attributes, 'last_commit')?.id;
  const repository = typeof target?.path_with_namespace === 'string' ? target.path_with_namespace : project?.path_with_namespace;
  const cloneUrl = typeof target?.git_http_url === 'string' ? target.git_http_url : project?.git_http_url;
  const missing = [
    !Number.isSafeInteger(attributes?.iid) && 'object_attributes.iid',
    typeof attributes?.target_branch !== 'string' && 'object_attributes.target_branch',
    typeof attributes?.source_branch !== 'string' && 'object_attributes.source_branch',
    typeof head !== 'string' && 'object_attributes.last_commit.id',
    typeof repository !== 'string' && 'object_attributes.target.path_with_namespace',
    typeof cloneUrl !== 'string' && 'object_attributes.target.git_http_url',
  ].filter((name): name is string => name !== false);
  if (missing.length > 0 || !attributes) throw new Invalid(`the GitLab merge request payload lacks ${missing.join(', ')}`);
  const iid = attributes.iid as number;
  const baseSha = objectAt(attributes, 'diff_refs')?.base_sha;
  // A deleted source project leaves `source` null (and its id null): a fork either way.
  const headRepository = typeof source?.path_with_namespace === 'string' ? source.path_with_namespace : '(deleted fork)';
  const sourceId = attributes.source_project_id;
  // Not the same project unless both ids say so: a payload without them gets no secrets.
  const fork = !(typeof sourceId === 'number' && sourceId === attributes.target_project_id);
  return {
    repository: repository as string,
    cloneUrl: checkCloneUrl(cloneUrl as string),
    ref: gitlabMergeRequestRef(iid),
    before: typeof baseSha === 'string' ? baseSha : null,
    after: head as string,
    event: 'pull_request',
    deliveryId,
    pullRequest: {
      number: iid,
      baseBranch: attributes.target_branch as string,
      headBranch: attributes.source_branch as string,
      headRepository,
      fork,
    },
  };
}

/** Where GitLab keeps a merge request's head commit in its target project. */
export function gitlabMergeRequestRef(iid: number): string {
  return `refs/merge-requests/${iid}/head`;
}

/** Whether a Push Hook or Tag Push Hook payload deleted its ref (`after` blank, `checkout_sha` null). */
export function gitlabRefDeleted(payload: Json): boolean {
  return (typeof payload.after === 'string' && ZERO_SHA.test(payload.after)) || payload.checkout_sha === null;
}

/** The project and ref a push deleted, for the mirror to drop; null when it deleted nothing (or names neither). */
export function gitlabDeletedRef(payload: Json): { cloneUrl: string; ref: string } | null {
  const cloneUrl = objectAt(payload, 'project')?.git_http_url;
  if (!gitlabRefDeleted(payload) || typeof payload.ref !== 'string' || typeof cloneUrl !== 'string') return null;
  return { cloneUrl, ref: payload.ref };
}

function objectAt(object: Json | undefined, key: string): Json | undefined {
  const value = object?.[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
