import assert from 'node:assert/strict';
import { evaluateAcl, globMatches, type AclCaller, type AclRule } from '../../../src/registry/auth/acl.ts';
import type { RegistryAction } from '../../../src/registry/auth/authorizer.ts';

const rule = (repositoryGlob: string, subject: string, ...actions: RegistryAction[]): AclRule => ({ repositoryGlob, subject, actions });
const ANON: AclCaller = { name: null, groups: [] };
const ALICE: AclCaller = { name: 'alice', groups: ['team'] };
const BOB: AclCaller = { name: 'bob', groups: [] };
const CAROL: AclCaller = { name: 'carol', groups: ['team', 'release'] };

describe('registry ACL evaluation', () => {
  describe('globs', () => {
    const cases: Array<[string, string, boolean]> = [
      ['team/*', 'team/app', true],
      ['team/*', 'team/a/b', false],
      ['team/**', 'team/a/b', true],
      ['team/**', 'team', true],
      ['*', 'app', true],
      ['*', 'team/app', false],
      ['**', 'team/app', true],
      ['team/app', 'team/app', true],
      ['team/app', 'team/application', false],
      ['*/app', 'team/app', true],
    ];
    for (const [glob, repo, expected] of cases) it(`${glob} ${expected ? 'matches' : 'does not match'} ${repo}`, () => assert.equal(globMatches(glob, repo), expected));
  });

  const privateTeam = [rule('team/secret/**', 'anonymous'), rule('team/secret/**', 'authenticated'), rule('team/secret/**', 'group:team', 'pull', 'push')];
  const pushRestricted = [rule('prod/**', 'authenticated', 'pull'), rule('prod/**', 'group:release', 'pull', 'push')];
  const layered = [
    rule('**', 'authenticated', 'pull'),
    rule('team/**', 'group:team', 'pull', 'push'),
    rule('team/app', 'bob', 'pull', 'push', 'delete'),
    rule('team/app', 'group:team', 'pull'),
  ];
  const cases: Array<[string, AclRule[], AclCaller, string, RegistryAction[]]> = [
    ['default: anonymous may pull', [], ANON, 'any/repo', ['pull']],
    ['default: authenticated may pull and push, not delete', [], BOB, 'any/repo', ['pull', 'push']],
    ['a rule for another repository leaves the default', [rule('other/**', 'anonymous')], ANON, 'team/app', ['pull']],
    ['private repo: anonymous gets nothing', privateTeam, ANON, 'team/secret/db', []],
    ['private repo: an authenticated outsider gets nothing', privateTeam, BOB, 'team/secret/db', []],
    ['private repo: the group pulls and pushes', privateTeam, ALICE, 'team/secret/db', ['pull', 'push']],
    ['private repo: nested below it too', privateTeam, ALICE, 'team/secret/a/b', ['pull', 'push']],
    ['private repo: outside it, the default', privateTeam, ANON, 'team/public', ['pull']],
    ['push-restricted: authenticated only pull', pushRestricted, BOB, 'prod/api', ['pull']],
    ['push-restricted: the release group pushes', pushRestricted, CAROL, 'prod/api', ['pull', 'push']],
    ['push-restricted: anonymous keeps the default pull', pushRestricted, ANON, 'prod/api', ['pull']],
    ['the longest glob wins over a shorter one, even for a less specific subject', [rule('team/**', 'alice', 'pull', 'push', 'delete'), rule('team/app', 'anonymous', 'pull')], ALICE, 'team/app', ['pull']],
    ['on the same glob the user beats the group', layered, BOB, 'team/app', ['pull', 'push', 'delete']],
    ['the group rule of the longest glob', layered, ALICE, 'team/app', ['pull']],
    ['a shorter glob when the longest has no rule for the caller', layered, ALICE, 'team/other', ['pull', 'push']],
    ['the catch-all for an outsider', layered, BOB, 'team/other', ['pull']],
    ['anonymous rules apply to everybody unless more specific', [rule('pub/**', 'anonymous', 'pull', 'push')], BOB, 'pub/x', ['pull', 'push']],
    ['authenticated beats anonymous on the same glob', [rule('x/**', 'anonymous', 'pull'), rule('x/**', 'authenticated', 'pull', 'push', 'delete')], BOB, 'x/y', ['pull', 'push', 'delete']],
    ['authenticated does not apply to anonymous callers', [rule('x/**', 'authenticated', 'pull', 'push')], ANON, 'x/y', ['pull']],
    ['two groups of the caller on the same glob: the union', [rule('x/**', 'group:team', 'pull'), rule('x/**', 'group:release', 'push')], CAROL, 'x/y', ['pull', 'push']],
    ['a group the caller is not in does not apply', [rule('x/**', 'group:release', 'pull', 'push', 'delete')], ALICE, 'x/y', ['pull', 'push']],
    ['an empty rule denies', [rule('x/**', 'bob')], BOB, 'x/y', []],
  ];
  for (const [what, rules, caller, repo, expected] of cases) {
    it(what, () => assert.deepEqual(evaluateAcl(rules, caller, repo), expected));
  }
});
