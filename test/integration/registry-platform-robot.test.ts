// The platform's own registry robot: made at the first start, handed to agents when they register,
// usable where ops granted its group, kept across restarts, replaced when its token file is lost,
// and not removable by mistake.
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, runCli, startGantry, tempDir, type Started } from '../helpers/processes.ts';

interface RegistryAccess {
  url: string;
  username: string;
  password: string;
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('registry: the platform robot', function () {
  this.timeout(90_000);
  const dataDir = path.join(tempDir('platform-robot'), 'server');
  let server: (Started & { match: RegExpMatchArray }) | undefined;
  let apiUrl = '';
  let registryUrl = '';

  const start = async () => {
    server = await startGantry(
      ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on (http:\/\/\S+)/,
    );
    registryUrl = server.match[1]!;
    apiUrl = /listening on (http:\/\/\S+)/.exec(server.output())![1]!;
  };
  const env = () => ({ GANTRY_URL: apiUrl, GANTRY_TOKEN: ADMIN_TOKEN });

  /** Registers an agent as `gantry agent` does and returns what the master gave it for the registry. */
  const registerAgent = async (): Promise<RegistryAccess> => {
    const response = await fetch(`${apiUrl}/api/v1/agent/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${JOIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hostname: 'robot-test', resources: { scalars: { cpus: 1, mem: 256 }, ranges: {}, sets: {} }, attributes: {}, drivers: ['exec'], runningTaskIds: [] }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { registry?: RegistryAccess };
    assert.ok(body.registry, 'the registration answer carries registry credentials');
    return body.registry;
  };
  const startUpload = (repository: string, headers: Record<string, string>) =>
    fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers }).then((r) => r.status);
  const listTags = (repository: string, headers: Record<string, string> = {}) =>
    fetch(`${registryUrl}/v2/${repository}/tags/list`, { headers }).then((r) => r.status);

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('is made at the first start and given to registering agents', async () => {
    await start();
    const access = await registerAgent();
    assert.equal(access.url, registryUrl);
    assert.equal(access.username, 'gantry-platform');
    const users = JSON.parse((await runCli(['registry', 'user', 'ls', '--json'], env())).stdout) as Array<{ name: string; kind: string; groups: string[] }>;
    assert.deepEqual(users.map((u) => [u.name, u.kind, u.groups]), [['gantry-platform', 'robot', ['gantry-platform']]]);
    const tokenFile = statSync(path.join(dataDir, 'secrets', 'registry-robot.token'));
    assert.equal(tokenFile.mode & 0o777, 0o600, 'only the server user can read the token file');
    assert.ok(!server!.output().includes(access.password), 'the token is not printed or logged');
  });

  it('pulls and pushes where its group is granted, in a repository closed to others', async () => {
    const access = await registerAgent();
    const robot = basic(access.username, access.password);
    for (const args of [['builds/**', 'anonymous', 'none'], ['builds/**', 'authenticated', 'none'], ['builds/**', 'group:gantry-platform', 'pull,push']]) {
      assert.equal((await runCli(['registry', 'acl', 'set', ...args], env())).code, 0);
    }
    assert.equal(await listTags('builds/app'), 401);
    assert.equal(await startUpload('builds/app', robot), 202);
    assert.equal(await listTags('builds/app', robot), 200);
  });

  it('cannot be removed through the CLI', async () => {
    const result = await runCli(['registry', 'user', 'rm', 'gantry-platform'], env());
    assert.equal(result.code, 1);
    assert.match(result.stderr, /platform's own robot .* cannot be removed/);
  });

  it('keeps its token across a restart, and gets a new one when the token file is lost', async () => {
    const before = await registerAgent();
    await server!.stop();
    await start();
    const kept = await registerAgent();
    assert.equal(kept.password, before.password);
    assert.equal(await startUpload('builds/app', basic(kept.username, kept.password)), 202);

    await server!.stop();
    rmSync(path.join(dataDir, 'secrets', 'registry-robot.token'));
    await start();
    const renewed = await registerAgent();
    assert.notEqual(renewed.password, before.password);
    assert.equal(await startUpload('builds/app', basic(renewed.username, renewed.password)), 202);
    assert.equal(await startUpload('builds/app', basic(before.username, before.password)), 401, 'the old token stopped working');
  });
});
