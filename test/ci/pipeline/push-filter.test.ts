// matchesPush: which pushes start a run, for branches, tags and changed paths.
import assert from 'node:assert/strict';
import { matchesPullRequest, matchesPush, type PushEvent } from '../../../src/ci/pipeline/index.ts';
import { lines, ONE_STEP, parse } from './helpers.ts';

const pipelineWith = (...push: string[]) => parse(lines(...(push.length > 0 ? ['on:', '  push:', ...push.map((l) => `    ${l}`)] : []), ...ONE_STEP));
const branch = (name: string, changedPaths: string[] | null = null): PushEvent => ({ kind: 'branch', name, changedPaths });
const tag = (name: string): PushEvent => ({ kind: 'tag', name, changedPaths: null });

type Row = [on: string[], event: PushEvent, run: boolean];

const rows: Row[] = [
  // no filter: every branch and every tag (Woodpecker and Drone without when/trigger)
  [[], branch('main'), true],
  [[], branch('feature/deep/name'), true],
  [[], tag('v1.0.0'), true],
  // branches: `*` stays in one segment, `**` crosses `/`
  [['branches: main'], branch('main'), true],
  [['branches: main'], branch('main2'), false],
  [['branches: [main, "release/*"]'], branch('release/1.2'), true],
  [['branches: ["release/*"]'], branch('release/1.2/hotfix'), false],
  [['branches: ["release/**"]'], branch('release/1.2/hotfix'), true],
  [['branches: {exclude: ["wip/**"]}'], branch('feature/x'), true],
  [['branches: {exclude: ["wip/**"]}'], branch('wip/x'), false],
  [['branches: {include: ["**"], exclude: [main]}'], branch('main'), false],
  [['branches: []'], branch('main'), false],
  // only branches: tags do not build; only tags: branches do not build
  [['branches: main'], tag('v1.0.0'), false],
  [['tags: ["v*"]'], branch('main'), false],
  [['tags: ["v*"]'], tag('v1.0.0'), true],
  [['tags: ["v*"]'], tag('nightly'), false],
  [['tags: {include: ["v*"], exclude: ["*-rc*"]}'], tag('v2.0.0-rc1'), false],
  [['branches: main', 'tags: ["v*"]'], tag('v1'), true],
  [['branches: main', 'tags: ["v*"]'], branch('main'), true],
  // paths: at least one changed path passes include minus exclude
  [['paths: ["src/**"]'], branch('main', ['src/a/b.ts']), true],
  [['paths: ["src/**"]'], branch('main', ['docs/a.md', 'README.md']), false],
  [['paths: ["src/**"]'], branch('main', ['docs/a.md', 'src/x.ts']), true],
  [['paths: ["*.md"]'], branch('main', ['docs/a.md']), false],
  [['paths: ["**/*.md"]'], branch('main', ['docs/a.md', 'README.md']), true],
  [['paths: {exclude: ["docs/**", "**/*.md"]}'], branch('main', ['docs/guide.txt', 'README.md']), false],
  [['paths: {exclude: ["docs/**", "**/*.md"]}'], branch('main', ['docs/guide.txt', 'src/main.ts']), true],
  [['paths: {include: ["src/**"], exclude: ["**/*.md"]}'], branch('main', ['src/README.md', 'lib/x.ts']), false],
  [['paths: [".github/**"]'], branch('main', ['.github/workflows/x.yml']), true],
  // unknown changed paths (new branch, force push) and an empty commit do not block
  [['paths: ["src/**"]'], branch('main', null), true],
  [['paths: ["src/**"]'], branch('main', []), true],
  // tags carry no diff: paths do not apply
  [['paths: ["src/**"]'], tag('v1'), true],
  // branches and paths together
  [['branches: main', 'paths: ["src/**"]'], branch('dev', ['src/x.ts']), false],
  [['branches: main', 'paths: ["src/**"]'], branch('main', ['src/x.ts']), true],
];

describe('ci pipeline: which pushes run a pipeline', () => {
  for (const [on, event, run] of rows) {
    const what = `${event.kind} ${event.name}${event.changedPaths === null ? '' : ` changing [${event.changedPaths.join(', ')}]`}`;
    it(`${on.length === 0 ? 'no filter' : on.join('; ')}: ${what} → ${run ? 'runs' : 'skipped'}`, () => {
      const decision = matchesPush(pipelineWith(...on), event);
      assert.equal(decision.run, run, decision.reason);
    });
  }

  it('says why', () => {
    const pipeline = pipelineWith('branches: [main, "release/*"]', 'paths: {exclude: ["docs/**"]}');
    assert.deepEqual(matchesPush(pipeline, branch('dev', ['src/a'])), { run: false, reason: 'branch "dev" does not match on.push.branches (main, release/*)' });
    assert.deepEqual(matchesPush(pipeline, branch('main', ['docs/a.md'])), {
      run: false,
      reason: 'branch "main": the changed path "docs/a.md" does not match on.push.paths (** except docs/**)',
    });
    assert.deepEqual(matchesPush(pipeline, branch('main', null)), {
      run: true,
      reason: 'branch "main" matches on.push.branches (main, release/*); changed paths unknown, on.push.paths not applied',
    });
    assert.deepEqual(matchesPush(pipeline, tag('v1')), { run: false, reason: 'tag "v1": on.push filters branches only (add on.push.tags to build tags)' });
  });

  describe('pull requests (on.pull_request)', () => {
    const pulls = (...on: string[]) => parse(lines('on:', ...on.map((l) => `  ${l}`), ...ONE_STEP));
    const into = (baseBranch: string, changedPaths: string[] | null = null) => ({ number: 7, baseBranch, changedPaths });

    it('runs none without on.pull_request, every one with it empty, and filters base branches and paths', () => {
      assert.deepEqual(matchesPullRequest(parse(lines(...ONE_STEP)), into('main')), { run: false, reason: 'pull request #7 into "main": on.pull_request is not set' });
      assert.equal(matchesPullRequest(pulls('pull_request:'), into('anything')).run, true);
      const filtered = pulls('pull_request:', '    branches: [main, "release/*"]', '    paths: {exclude: ["docs/**"]}');
      assert.deepEqual(matchesPullRequest(filtered, into('dev', ['src/a'])), { run: false, reason: 'pull request #7 into "dev": the base branch does not match on.pull_request.branches (main, release/*)' });
      assert.deepEqual(matchesPullRequest(filtered, into('release/2', ['docs/a.md'])), { run: false, reason: 'pull request #7 into "release/2": the changed path "docs/a.md" does not match on.pull_request.paths (** except docs/**)' });
      assert.equal(matchesPullRequest(filtered, into('main', ['src/a', 'docs/a.md'])).run, true);
      assert.equal(matchesPullRequest(filtered, into('main', null)).run, true, 'unknown paths do not block');
    });

    it('a pipeline whose on names pull_request only runs on no push; with both, on both', () => {
      assert.deepEqual(matchesPush(pulls('pull_request:'), branch('main')), { run: false, reason: 'branch "main": the pipeline runs on pull requests only (on has no push)' });
      assert.equal(matchesPush(pulls('pull_request:', 'push:'), branch('main')).run, true);
      assert.equal(matchesPullRequest(pulls('pull_request:', 'push:'), into('main')).run, true);
    });
  });
});
