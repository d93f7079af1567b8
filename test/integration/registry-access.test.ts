// Registry users, robots and ACL rules managed the way ops do it: through `gantry registry user|acl`
// against a running `gantry server`, and checked on the registry's own port with real HTTP.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, runCli, startGantry, tempDir, type Started } from '../helpers/processes.ts';

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('registry users and ACL from the CLI', function () {
  this.timeout(60_000);
  let server: Started | undefined;
  let registry = '';
  let env: Record<string, string> = {};
  const cli = (args: string[], stdin?: string) => runCli(['registry', ...args], env, 30_000, stdin);

  before(async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(tempDir('registry-access'), 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0',
        '--no-local-agent', '--log-level', 'warn', '--registry-external-url', 'https://registry.example.com:5443'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on (http:\/\/\S+)/,
    );
    server = started;
    registry = started.match[1]!;
    env = { GANTRY_URL: /listening on (http:\/\/\S+)/.exec(started.output())![1]!, GANTRY_TOKEN: ADMIN_TOKEN };
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  /** Starts an upload in `repository` (needs push): the status says whether the caller may push. */
  const startUpload = (repository: string, headers: Record<string, string> = {}) =>
    fetch(`${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers }).then((r) => r.status);
  const listTags = (repository: string, headers: Record<string, string> = {}) =>
    fetch(`${registry}/v2/${repository}/tags/list`, { headers }).then((r) => r.status);

  it('names the configured external URL as the token realm in challenges', async () => {
    const response = await fetch(`${registry}/v2/`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="https:\/\/registry\.example\.com:5443\/token",service="gantry-registry"/);
  });

  it('adds a user whose password comes on stdin, and that user can push', async () => {
    const added = await cli(['user', 'add', 'alice', '--password-stdin', '--group', 'team'], 'correct horse battery\n');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added registry user alice \(groups: team\)/);
    assert.equal(await startUpload('alice/app', basic('alice', 'correct horse battery')), 202, 'the trailing newline is not part of the password');
    assert.equal(await startUpload('alice/app', basic('alice', 'correct horse battery\n')), 401);
    const listed = JSON.parse((await cli(['user', 'ls', '--json'])).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(listed.map((u) => [u.name, u.kind, u.groups]), [['alice', 'user', ['team']], ['gantry-platform', 'robot', ['gantry-platform']]]);
    assert.ok(!JSON.stringify(listed).includes('correct horse'), 'no password in the listing');
    assert.ok(!Object.keys(listed[0]!).some((k) => /hash|password/i.test(k)));
  });

  it('adds a robot whose token is shown once and works as its password', async () => {
    const added = await cli(['user', 'add', 'ci-bot', '--robot', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const robot = JSON.parse(added.stdout) as { kind: string; token: string };
    assert.equal(robot.kind, 'robot');
    assert.match(robot.token, /^grr_/);
    assert.equal(await startUpload('builds/app', basic('ci-bot', robot.token)), 202);
    const listing = (await cli(['user', 'ls'])).stdout;
    assert.match(listing, /ci-bot\s+robot/);
    assert.ok(!listing.includes(robot.token));
  });

  it('refuses accounts it cannot take, with one line and a non-zero exit', async () => {
    const cases: Array<[string[], string | undefined, number, RegExp]> = [
      [['user', 'add', 'bob'], undefined, 2, /give the password on stdin/],
      [['user', 'add', 'bob', '--password-stdin'], 'short\n', 2, /at least 8 characters/],
      [['user', 'add', 'Bob!', '--password-stdin'], 'long enough pw\n', 2, /not a valid name/],
      [['user', 'add', 'admin', '--password-stdin'], 'long enough pw\n', 2, /reserved/],
      [['user', 'add', 'alice', '--password-stdin'], 'another password\n', 1, /already exists/],
      [['user', 'add', 'r2', '--robot', '--password-stdin'], 'x\n', 2, /robot gets a generated token/],
      [['user', 'rm', 'nobody'], undefined, 1, /registry user "nobody" is not known/],
    ];
    for (const [args, stdin, code, message] of cases) {
      const result = await cli(args, stdin);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
    }
    // The refused duplicate did not replace alice's password.
    assert.equal(await startUpload('alice/app', basic('alice', 'correct horse battery')), 202);
  });

  it('makes a repository tree private and push-restricted with ACL rules, and back', async () => {
    const alice = basic('alice', 'correct horse battery');
    assert.equal(await listTags('secret/app'), 404, 'by default anonymous may pull: an unknown repository is 404, not 401');
    for (const args of [['secret/**', 'anonymous', 'none'], ['secret/**', 'group:team', 'pull']]) {
      const set = await cli(['acl', 'set', ...args]);
      assert.equal(set.code, 0, set.stderr);
    }
    assert.equal(await listTags('secret/app'), 401, 'anonymous is challenged now');
    assert.equal(await listTags('secret/app', alice), 404, 'alice (group team) may pull');
    assert.equal(await startUpload('secret/app', alice), 403, 'but not push');
    assert.equal(await startUpload('other/app', alice), 202, 'elsewhere the default still holds');

    const rules = JSON.parse((await cli(['acl', 'ls', '--json'])).stdout) as Array<{ repositoryGlob: string; subject: string; actions: string[] }>;
    assert.deepEqual(rules.map((r) => [r.repositoryGlob, r.subject, r.actions]), [
      ['secret/**', 'anonymous', []],
      ['secret/**', 'group:team', ['pull']],
    ]);
    assert.match((await cli(['acl', 'ls'])).stdout, /secret\/\*\*\s+anonymous\s+none/);

    // Replacing a rule changes rights at once.
    await cli(['acl', 'set', 'secret/**', 'group:team', 'push,pull']);
    assert.equal(await startUpload('secret/app', alice), 202);

    const removed = await cli(['acl', 'rm', 'secret/**', 'anonymous']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await listTags('secret/unknown'), 404, 'without the rule anonymous may pull again (404, not 401)');
    const again = await cli(['acl', 'rm', 'secret/**', 'anonymous']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no ACL rule for subject "anonymous" on "secret\/\*\*"/);
  });

  it('refuses bad ACL rules with one line and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['acl', 'set', 'team/**', 'anonymous', 'pull,write'], /unknown action "write"/],
      [['acl', 'set', 'team/**', 'admin', 'pull'], /not an ACL subject/],
      [['acl', 'set', 'team/ app', 'anonymous', 'pull'], /not a repository glob/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    }
    assert.equal(JSON.parse((await cli(['acl', 'ls', '--json'])).stdout).length, 1, 'only the group:team rule is left');
  });

  it('removes users: a removed password stops working', async () => {
    // carol never logged in, so no cached login can outlive her (verified logins are cached for 10 s).
    assert.equal((await cli(['user', 'add', 'carol', '--password-stdin'], 'carols password\n')).code, 0);
    for (const name of ['ci-bot', 'carol']) {
      const removed = await cli(['user', 'rm', name]);
      assert.equal(removed.code, 0, removed.stderr);
    }
    assert.equal(await startUpload('carol/app', basic('carol', 'carols password')), 401);
    assert.deepEqual((JSON.parse((await cli(['user', 'ls', '--json'])).stdout) as Array<{ name: string }>).map((u) => u.name), ['alice', 'gantry-platform']);
  });

  it('needs the admin token for every account and ACL route', async () => {
    const noToken = await runCli(['registry', 'user', 'ls'], { GANTRY_URL: env.GANTRY_URL!, GANTRY_TOKEN: '' });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /401|token/i);
    for (const [method, route] of [['POST', '/api/v1/registry/users'], ['PUT', '/api/v1/registry/acl'], ['DELETE', '/api/v1/registry/users/alice'], ['GET', '/api/v1/registry/acl']]) {
      const response = await fetch(env.GANTRY_URL + route!, { method: method!, headers: { authorization: 'Bearer gat_not-a-token', 'content-type': 'application/json' }, body: method === 'GET' || method === 'DELETE' ? null : '{}' });
      assert.equal(response.status, 401, `${method} ${route}`);
      assert.equal(((await response.json()) as { error: string }).error, 'unauthorized');
    }
  });
});
