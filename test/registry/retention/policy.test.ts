// What a retention policy deletes (src/registry/retention/policy.ts): a table of artifacts and rules.
import assert from 'node:assert/strict';
import type { Artifact } from '../../../src/registry/metadata/registry-metadata.ts';
import { artifactsToDelete, parsePolicy, type RetentionPolicy } from '../../../src/registry/retention/policy.ts';

const NOW = new Date('2026-11-25T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

function artifact(digest: string, tags: Array<[string, number]>, options: { pulledDaysAgo?: number; referenced?: boolean } = {}): Artifact {
  return {
    repository: 'team/app',
    digest,
    size: 100,
    pushedAt: daysAgo(Math.max(...tags.map(([, d]) => d), 0)),
    lastPulledAt: options.pulledDaysAgo === undefined ? null : daysAgo(options.pulledDaysAgo),
    subjectDigest: null,
    referenced: options.referenced ?? false,
    tags: tags.map(([name, d]) => ({ name, pushedAt: daysAgo(d) })),
  };
}

const policy = (overrides: Partial<RetentionPolicy>): RetentionPolicy => ({ name: 'p', repositories: 'team/**', tags: {}, rules: {}, untagged: false, ...overrides });
const deleted = (p: RetentionPolicy, artifacts: Artifact[]) => artifactsToDelete(p, artifacts, NOW).map((a) => a.digest).sort();

describe('retention policy decisions', () => {
  const releases = [
    artifact('m1', [['v1', 10]]),
    artifact('m2', [['v2', 9]]),
    artifact('m3', [['v3', 8]]),
    artifact('m4', [['v4', 7]]),
    artifact('m5', [['v5', 6], ['latest', 6]]),
    artifact('m6', [['dev-1', 20]]),
  ];

  it('keeps the 3 most recently pushed v* tags and leaves tags the policy does not cover alone', () => {
    assert.deepEqual(deleted(policy({ tags: { include: 'v.*' }, rules: { keepLastPushed: 3 } }), releases), ['m1', 'm2']);
  });

  it('keeps an artifact when any of its tags is kept', () => {
    const shared = [...releases.slice(0, 4), artifact('m5', [['v5', 6]]), artifact('m7', [['v0', 30], ['v9', 1]])];
    // v9 (1 day) is among the 3 newest: m7 stays though its v0 is the oldest tag of all.
    assert.deepEqual(deleted(policy({ tags: { include: 'v.*' }, rules: { keepLastPushed: 3 } }), shared), ['m1', 'm2', 'm3']);
  });

  it('combines rules with OR: pushed within a duration, pulled recently', () => {
    const artifacts = [artifact('old-pulled', [['a', 40]], { pulledDaysAgo: 1 }), artifact('old', [['b', 40]]), artifact('new', [['c', 2]])];
    assert.deepEqual(deleted(policy({ rules: { pushedWithinMs: 7 * 86_400_000 } }), artifacts), ['old', 'old-pulled']);
    assert.deepEqual(deleted(policy({ rules: { pushedWithinMs: 7 * 86_400_000, pulledWithinMs: 7 * 86_400_000 } }), artifacts), ['old']);
    assert.deepEqual(deleted(policy({ rules: { keepLastPulled: 1 } }), artifacts), ['new', 'old']);
  });

  it('excludes tags by pattern, and never deletes an index\'s child or an untagged manifest on its own', () => {
    const artifacts = [artifact('keepme', [['release-1', 50]]), artifact('child', [['arm64', 50]], { referenced: true }), artifact('none', []), artifact('gone', [['x', 50]])];
    assert.deepEqual(deleted(policy({ tags: { exclude: 'release-.*' }, rules: { keepLastPushed: 0 } }), artifacts), ['gone']);
    assert.deepEqual(deleted(policy({ untagged: true }), artifacts), [], 'no rule: tagged artifacts are left alone');
  });

  it('refuses policies that are invalid or would delete every covered tag', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 'p', repositories: 'team/**', rules: {} }, /at least one rule/],
      [{ name: 'p', repositories: 'team/**', tags: { include: 'v(' }, rules: { keepLastPushed: 1 } }, /invalid tags\.include "v\("/],
      [{ name: 'p', repositories: 'Team/{a', rules: { keepLastPushed: 1 } }, /invalid repository glob/],
      [{ name: 'p', repositories: 'team/{a,b', rules: { keepLastPushed: 1 } }, /unbalanced/],
      [{ name: 'p', repositories: 'team/**', rules: { keepLastPushed: -1 } }, /rules\.keepLastPushed/],
      [{ name: 'p', repositories: 'team/**', rules: { keepLastPushed: 1 }, extra: true }, /unrecognized key/i],
    ];
    for (const [input, message] of cases) assert.throws(() => parsePolicy(input), message, JSON.stringify(input));
  });
});
