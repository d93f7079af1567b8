// Registry quotas and usage (issue 7) through a real server: a push that would take a repository over
// its quota is refused with 403 DENIED and says by how much, what the repository holds costs nothing
// again, usage per repository counts a shared layer in each repository and once in the total, and the
// figures are exported as Prometheus metrics.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, api, killAll, runCli, tempDir } from '../helpers/processes.ts';
import { ociClient, sha256, startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';

describe('registry quotas and usage', function () {
  this.timeout(60_000);
  const dir = tempDir('registry-quotas');
  let started: RegistryServer | undefined;
  let registry = '';
  let env: Record<string, string> = {};
  let client: ReturnType<typeof ociClient>;

  before(async () => {
    started = await startRegistryServer(dir);
    ({ registry, env } = started);
    client = ociClient(registry, started.basic);
  });
  after(async () => {
    await started?.server.stop();
    killAll();
  });

  const pushBlob = (repo: string, bytes: Buffer) => client.postBlob(repo, bytes);
  const putManifest = (repo: string, tag: string, config: Buffer, layers: Buffer[]) => client.putManifest(repo, tag, client.manifestOf(config, layers));

  it('refuses a push over quota with 403 DENIED and a clear message; what is held costs nothing again', async () => {
    const set = await runCli(['registry', 'quota', 'set', 'team/small', '10KiB'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'quota team/small: 10 KiB\n');
    const first = randomBytes(6 * 1024);
    assert.equal((await pushBlob('team/small', first)).status, 201);
    const second = await pushBlob('team/small', randomBytes(6 * 1024));
    assert.equal(second.status, 403);
    const body = (await second.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.match(body.errors[0]!.message, /^repository team\/small is over its quota: 6144 of 10240 bytes used \(quota "team\/small"\), this push needs 6144 more/);
    assert.equal((await pushBlob('team/small', first)).status, 201, 'pushing what it holds again adds nothing');
    // A manifest over quota too (its config is pushed where there is room: another repository).
    const config = Buffer.from(JSON.stringify({ pad: 'x'.repeat(5000) }));
    assert.equal((await pushBlob('team/roomy', config)).status, 201);
    const mount = await fetch(`${registry}/v2/team/small/blobs/uploads/?mount=${sha256(config)}&from=team/roomy`, { method: 'POST', headers: started!.basic });
    assert.equal(mount.status, 403, 'a mount is a push');
    // Other repositories are not limited; the longest glob wins.
    assert.equal((await runCli(['registry', 'quota', 'set', 'team/**', '1MiB'], env)).code, 0);
    assert.equal((await pushBlob('team/roomy', randomBytes(20 * 1024))).status, 201);
    const big = await pushBlob('team/small', randomBytes(6 * 1024));
    assert.equal(big.status, 403, 'team/small keeps its own, smaller quota');
  });

  it('shows bytes per repository with quotas, a shared layer once in the total, and exports metrics', async () => {
    const shared = randomBytes(4096);
    for (const repo of ['shared/a', 'shared/b']) {
      assert.equal((await pushBlob(repo, shared)).status, 201);
      const config = Buffer.from(JSON.stringify({ repo }));
      assert.equal((await pushBlob(repo, config)).status, 201);
      assert.equal((await putManifest(repo, 'v1', config, [shared])).status, 201);
    }
    const usage = (await api(env.GANTRY_URL!).get<{ repositories: Array<{ repository: string; bytes: number; tags: number }>; totalBytes: number }>('/api/v1/registry/usage/repositories')).body;
    const a = usage.repositories.find((r) => r.repository === 'shared/a')!;
    const b = usage.repositories.find((r) => r.repository === 'shared/b')!;
    assert.ok(a.bytes > 4096 && b.bytes > 4096, 'the shared layer counts in each repository');
    assert.equal(a.tags, 1);
    const sum = usage.repositories.reduce((total, r) => total + r.bytes, 0);
    assert.equal(sum - usage.totalBytes, 4096, 'and once in the total');

    const df = await runCli(['registry', 'df', '--repos'], env);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^team\/small\s+0\s+6 KiB\s+10 KiB \(60%\)$/m);
    assert.match(df.stdout, /^total .+ \(layers shared between repositories counted once\)$/m);
    const metrics = await fetch(`${env.GANTRY_URL}/api/v1/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await metrics.text();
    assert.match(text, /^gantry_registry_repository_bytes\{repository="team\/small"\} 6144$/m);
    assert.match(text, /^gantry_registry_quota_bytes\{repository="team\/small"\} 10240$/m);
    assert.match(text, /^gantry_registry_free_inodes \d+$/m);
  });

  describe('bad input', () => {
    it('refuses a bad glob or size in one line, and says when there is no such quota', async () => {
      const cases: Array<[string[], number, RegExp]> = [
        [['registry', 'quota', 'set', 'Team/{x', '1GiB'], 2, /invalid repository glob/],
        [['registry', 'quota', 'set', 'team/x', 'lots'], 2, /the size must look like 500MiB, 10GiB/],
        [['registry', 'quota', 'rm', 'nobody/**'], 1, /no quota for "nobody\/\*\*"/],
      ];
      for (const [args, code, message] of cases) {
        const result = await runCli(args, env);
        assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
        assert.equal(result.stderr.trim().split('\n').length, 1);
      }
    });
  });
});
