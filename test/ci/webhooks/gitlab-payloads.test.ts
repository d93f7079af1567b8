// GitLab payloads to run facts, with GitLab's documented example payloads:
// test/fixtures/gitlab/{push,tag_push,merge_request}.json are the "Payload example" blocks of Push
// events, Tag events and Merge request events in docs.gitlab.com "Webhook events", copied verbatim from
// gitlabhq/gitlabhq doc/user/project/integrations/webhook_events.md (at 017a6c129d6a9e4ad9fec792cd84f88641d7dbfe).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  gitlabDeletedRef,
  gitlabMergeRequestFacts,
  gitlabMergeRequestRef,
  gitlabPushFacts,
  gitlabRefDeleted,
} from '../../../src/ci/webhooks/gitlab-payloads.ts';
import { Invalid } from '../../../src/shared/errors.ts';

type Payload = Record<string, unknown>;
const fixture = (name: string): Payload => JSON.parse(readFileSync(new URL(`../../fixtures/gitlab/${name}.json`, import.meta.url), 'utf8')) as Payload;
const PUSH = fixture('push');
const TAG_PUSH = fixture('tag_push');
const MERGE_REQUEST = fixture('merge_request');
const ZERO_SHA = '0'.repeat(40);

/** The merge request example with object_attributes changed (undefined deletes a key). */
function mergeRequest(attributes: Payload): Payload {
  const payload = structuredClone(MERGE_REQUEST);
  const target = payload.object_attributes as Payload;
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) delete target[key];
    else target[key] = value;
  }
  return payload;
}

describe('GitLab payloads', () => {
  it('a push: the project, its HTTP clone URL, the ref and both commits', () => {
    assert.deepEqual(gitlabPushFacts(PUSH, 'gitlab:d-1'), {
      repository: 'mike/diaspora',
      cloneUrl: 'http://example.com/mike/diaspora.git',
      ref: 'refs/heads/master',
      before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      event: 'push',
      deliveryId: 'gitlab:d-1',
    });
  });

  it('a tag push: event tag, and the commit the tag points to (checkout_sha), not the tag object (after)', () => {
    assert.deepEqual(gitlabPushFacts(TAG_PUSH, 'gitlab:d-2'), {
      repository: 'jsmith/example',
      cloneUrl: 'http://example.com/jsmith/example.git',
      ref: 'refs/tags/v1.0.0',
      before: ZERO_SHA,
      after: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
      event: 'tag',
      deliveryId: 'gitlab:d-2',
    });
    const annotated = { ...TAG_PUSH, after: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' };
    assert.equal(gitlabPushFacts(annotated, 'gitlab:d-3').after, '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7');
    const { checkout_sha: _checkout, ...withoutCheckout } = TAG_PUSH;
    assert.equal(gitlabPushFacts(withoutCheckout, 'gitlab:d-4').after, '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7', 'after, when there is no checkout_sha');
  });

  it('a merge request: the target project at refs/merge-requests/IID/head, the last commit, the branches', () => {
    assert.deepEqual(gitlabMergeRequestFacts(MERGE_REQUEST, 'gitlab:d-5'), {
      repository: 'awesome_space/awesome_project',
      cloneUrl: 'http://example.com/awesome_space/awesome_project.git',
      ref: 'refs/merge-requests/1/head',
      before: null,
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      event: 'pull_request',
      deliveryId: 'gitlab:d-5',
      pullRequest: { number: 1, baseBranch: 'master', headBranch: 'ms-viewport', headRepository: 'awesome_space/awesome_project', fork: false },
    });
    assert.equal(gitlabMergeRequestRef(42), 'refs/merge-requests/42/head');
  });

  it('a merge request from a fork (another source project) is a fork, and is built from the target project', () => {
    const source = { ...((MERGE_REQUEST.object_attributes as Payload).source as Payload), path_with_namespace: 'contributor/awesome_project', git_http_url: 'http://example.com/contributor/awesome_project.git' };
    const facts = gitlabMergeRequestFacts(mergeRequest({ source_project_id: 27, source }), 'gitlab:d-6');
    assert.deepEqual(facts.pullRequest, { number: 1, baseBranch: 'master', headBranch: 'ms-viewport', headRepository: 'contributor/awesome_project', fork: true });
    assert.equal(facts.cloneUrl, 'http://example.com/awesome_space/awesome_project.git');
    assert.equal(facts.repository, 'awesome_space/awesome_project');
  });

  it('a merge request whose source project was deleted, or whose ids are missing, is a fork', () => {
    const gone = gitlabMergeRequestFacts(mergeRequest({ source_project_id: null, source: null }), 'gitlab:d-7');
    assert.deepEqual([gone.pullRequest?.headRepository, gone.pullRequest?.fork], ['(deleted fork)', true]);
    const unsaid = gitlabMergeRequestFacts(mergeRequest({ source_project_id: undefined, target_project_id: undefined }), 'gitlab:d-8');
    assert.equal(unsaid.pullRequest?.fork, true);
  });

  it('a merge request takes its base commit from diff_refs when the payload has them, and the project when it has no target', () => {
    const base = '0b4bc9a49b562e85de7cc9e834518ea6828729b9';
    assert.equal(gitlabMergeRequestFacts(mergeRequest({ diff_refs: { base_sha: base, head_sha: 'x', start_sha: 'y' } }), 'gitlab:d-9').before, base);
    const facts = gitlabMergeRequestFacts(mergeRequest({ target: undefined }), 'gitlab:d-10');
    assert.deepEqual([facts.repository, facts.cloneUrl], ['gitlabhq/gitlab-test', 'http://example.com/gitlabhq/gitlab-test.git']);
  });

  it('a deleted branch or tag: the project and ref for the mirror to drop; null for a push that deleted nothing', () => {
    const deletedBranch = { ...PUSH, after: ZERO_SHA, checkout_sha: null, commits: [] };
    assert.equal(gitlabRefDeleted(deletedBranch), true);
    assert.deepEqual(gitlabDeletedRef(deletedBranch), { cloneUrl: 'http://example.com/mike/diaspora.git', ref: 'refs/heads/master' });
    assert.deepEqual(gitlabDeletedRef({ ...TAG_PUSH, after: ZERO_SHA, checkout_sha: null }), { cloneUrl: 'http://example.com/jsmith/example.git', ref: 'refs/tags/v1.0.0' });
    assert.equal(gitlabRefDeleted(PUSH), false);
    assert.equal(gitlabDeletedRef(PUSH), null);
    assert.equal(gitlabDeletedRef(TAG_PUSH), null);
    assert.equal(gitlabDeletedRef({ after: ZERO_SHA, ref: 'refs/heads/x' }), null, 'no project to drop it from');
  });

  const invalid: Array<[string, () => unknown, RegExp]> = [
    ['a push without a project', () => gitlabPushFacts({ ...PUSH, project: undefined }, 'd'), /lacks project\.path_with_namespace, project\.git_http_url$/],
    ['a push without ref and commits', () => gitlabPushFacts({ ...PUSH, ref: undefined, after: undefined, checkout_sha: undefined }, 'd'), /lacks ref, checkout_sha or after$/],
    ['a push with a clone URL git cannot use', () => gitlabPushFacts({ ...PUSH, project: { ...(PUSH.project as Payload), git_http_url: 'javascript:alert(1)' } }, 'd'), /clone URL/],
    ['a merge request without attributes', () => gitlabMergeRequestFacts({ ...MERGE_REQUEST, object_attributes: undefined }, 'd'), /lacks object_attributes\.iid, object_attributes\.target_branch, object_attributes\.source_branch, object_attributes\.last_commit\.id$/],
    ['a merge request without a last commit', () => gitlabMergeRequestFacts(mergeRequest({ last_commit: null }), 'd'), /lacks object_attributes\.last_commit\.id$/],
    ['a merge request without a target or project', () => gitlabMergeRequestFacts({ ...mergeRequest({ target: undefined }), project: undefined }, 'd'), /lacks object_attributes\.target\.path_with_namespace, object_attributes\.target\.git_http_url$/],
    ['a merge request with a fractional iid', () => gitlabMergeRequestFacts(mergeRequest({ iid: 1.5 }), 'd'), /lacks object_attributes\.iid$/],
  ];
  for (const [what, make, message] of invalid) {
    it(`refuses ${what} with Invalid, saying what is wrong`, () => {
      assert.throws(make, (err: unknown) => err instanceof Invalid && message.test(err.message));
    });
  }
});
