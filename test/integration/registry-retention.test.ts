// Retention through the whole platform (issue 7): `gantry registry prune` and `gantry registry policy
// set|ls|run|rm` against a real server, images pushed over the OCI API: "keep the 3 most recent v*" in
// a dry run (nothing changes) and for real (the tags are gone, their blobs freed, the rest pulls), an
// artifact with a kept and an unkept tag survives, every run is recorded, bad input is refused.
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, api, killAll, runCli, tempDir } from '../helpers/processes.ts';
import { OCI_MANIFEST, ociClient, startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';

interface Run {
  policy: string;
  trigger: string;
  dryRun: boolean;
  deleted: Array<{ repository: string; digest: string; tags: string[] }>;
  blobs: number;
  bytesFreed: number;
  inodesFreed: number;
}

describe('registry retention: prune and policies', function () {
  this.timeout(60_000);
  const dir = tempDir('registry-retention');
  let started: RegistryServer | undefined;
  let registry = '';
  let env: Record<string, string> = {};
  let basic = { authorization: '' };
  let pushImage: (repo: string, tags: string[]) => Promise<string>;

  before(async () => {
    started = await startRegistryServer(dir);
    ({ registry, env, basic } = started);
    const client = ociClient(registry, basic);
    pushImage = (repo, tags) => client.pushImage(repo, tags);
  });
  after(async () => {
    await started?.server.stop();
    killAll();
  });

  /** Points another tag at a pushed manifest, as `docker tag` + `docker push` do. */
  const retag = async (repo: string, digest: string, tag: string) => {
    const bytes = Buffer.from(await (await fetch(`${registry}/v2/${repo}/manifests/${digest}`, { headers: { ...basic, accept: OCI_MANIFEST } })).arrayBuffer());
    const res = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { ...basic, 'content-type': OCI_MANIFEST }, body: bytes });
    assert.equal(res.status, 201);
  };
  const tagsOf = async (repo: string) => ((await (await fetch(`${registry}/v2/${repo}/tags/list`, { headers: basic })).json()) as { tags: string[] }).tags.sort();

  it('prunes to the 3 most recent v* tags: a dry run changes nothing, the real run frees the blobs', async () => {
    for (const v of ['v1', 'v2', 'v3', 'v4', 'v5']) await pushImage('team/app', [v]);
    await pushImage('team/app', ['dev']);
    const all = await tagsOf('team/app');

    const dry = await runCli(['registry', 'prune', '--repo', 'team/*', '--tag', 'v.*', '--keep-last', '3', '--grace', '0s', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const dryRun = JSON.parse(dry.stdout) as Run;
    assert.deepEqual(dryRun.deleted.map((d) => d.tags.join(',')).sort(), ['v1', 'v2']);
    assert.equal(dryRun.blobs, 6, 'each deleted image: manifest, config, layer');
    assert.equal(dryRun.inodesFreed, 6);
    assert.deepEqual(await tagsOf('team/app'), all, 'the dry run deleted nothing');

    const real = await runCli(['registry', 'prune', '--repo', 'team/*', '--tag', 'v.*', '--keep-last', '3', '--grace', '0s'], env);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /^team\/app\s+2\s+2$/m);
    assert.match(real.stdout, /1 repositories covered; freed .+ and 6 inodes \(6 blobs\)/);
    assert.deepEqual(await tagsOf('team/app'), ['dev', 'v3', 'v4', 'v5']);
    assert.equal((await fetch(`${registry}/v2/team/app/manifests/v5`, { headers: { ...basic, accept: OCI_MANIFEST } })).status, 200);
  });

  it('keeps an artifact one of whose tags is kept; records every run of a stored policy', async () => {
    const both = await pushImage('team/svc', ['v1']);
    for (const v of ['v2', 'v3', 'v4']) await pushImage('team/svc', [v]);
    await retag('team/svc', both, 'v9'); // the oldest image gets the newest tag
    const set = await runCli(['registry', 'policy', 'set', 'releases', '--repo', 'team/svc', '--tag', 'v.*', '--keep-last', '2'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'policy releases saved: tags v.*: last 2 pushed\n');
    const listed = await runCli(['registry', 'policy', 'ls'], env);
    assert.match(listed.stdout, /^releases\s+team\/svc\s+tags v\.\*: last 2 pushed$/m);

    const dry = await runCli(['registry', 'policy', 'run', 'releases', '--dry-run', '--grace', '0s', '--json'], env);
    assert.deepEqual((JSON.parse(dry.stdout) as Run).deleted.map((d) => d.tags.join(',')).sort(), ['v2', 'v3']);
    const real = await runCli(['registry', 'policy', 'run', 'releases', '--grace', '0s', '--json'], env);
    const run = JSON.parse(real.stdout) as Run;
    assert.deepEqual(run.deleted.map((d) => d.tags.join(',')).sort(), ['v2', 'v3']);
    assert.deepEqual(await tagsOf('team/svc'), ['v1', 'v4', 'v9'], 'v1 stays with v9 on the same artifact');
    assert.equal((await fetch(`${registry}/v2/team/svc/manifests/${both}`, { headers: { ...basic, accept: OCI_MANIFEST } })).status, 200);

    const runs = (await api(env.GANTRY_URL!).get<{ runs: Run[] }>('/api/v1/registry/retention-runs?policy=releases')).body.runs;
    assert.deepEqual(runs.map((r) => [r.policy, r.trigger, r.dryRun, r.deleted.length]), [['releases', 'api', false, 2], ['releases', 'api', true, 2]]);
    assert.ok(runs[0]!.bytesFreed > 0);
    assert.equal((await runCli(['registry', 'policy', 'rm', 'releases'], env)).code, 0);
    const gone = await runCli(['registry', 'policy', 'run', 'releases'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no retention policy named "releases"/);
  });

  it('streams its progress to a client that asks for JSON lines (the CLI\'s progress bar), the result last', async () => {
    for (let i = 0; i < 4; i++) await pushImage(`lines/repo${i}`, ['a', 'b']);
    const res = await fetch(`${env.GANTRY_URL}/api/v1/registry/prune`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ repo: 'lines/*', keepLast: 0, dryRun: true }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /ndjson/);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { progress?: { phase: string; done: number; total: number | null }; result?: Run });
    const last = lines.pop()!;
    assert.deepEqual(last.result?.deleted.length, 4, 'the result comes last');
    const repositories = lines.filter((l) => l.progress?.phase === 'repositories').map((l) => l.progress!);
    assert.deepEqual(repositories.at(-1), { phase: 'repositories', done: 4, total: 4 }, 'each phase ends with its last step');
    assert.ok(lines.every((l) => l.progress !== undefined));
    // An unknown repository is still an ordinary error answer.
    const unknown = await fetch(`${env.GANTRY_URL}/api/v1/registry/prune`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ repo: 'nobody/here', keepLast: 1 }),
    });
    assert.equal(unknown.status, 404);
  });

  describe('bad input', () => {
    it('refuses an invalid regex, an invalid glob, an unknown repository and a prune that keeps nothing, in one line', async () => {
      const cases: Array<[string[], number, RegExp]> = [
        [['registry', 'prune', '--tag', 'v(', '--keep-last', '1'], 2, /invalid tags\.include "v\("/],
        [['registry', 'prune', '--repo', 'team/{a', '--keep-last', '1'], 2, /unbalanced/],
        [['registry', 'prune', '--repo', 'nobody/here', '--keep-last', '1'], 1, /no repository named "nobody\/here"/],
        [['registry', 'prune', '--repo', 'team/*'], 2, /say what to keep or delete/],
        [['registry', 'prune', '--keep-last', 'three'], 2, /--keep-last must be a whole number/],
        [['registry', 'policy', 'set', 'bad name', '--repo', 'x', '--keep-last', '1'], 2, /policy name/],
      ];
      for (const [args, code, message] of cases) {
        const result = await runCli(args, env);
        assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message, args.join(' '));
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      }
    });
  });
});
