// Apps from the terminal (issue 18): `gantry apps deploy FILE` creates or replaces an app from YAML or
// JSON and follows its deployment to the end, printing new healthy / old / target as it goes: exit 0
// when it succeeded, 1 with the reason when it failed and was rolled back, 2 for a file with a mistake
// (its line named); `apps ls|show|tasks|versions`, `apps scale|restart|rollback --wait`, `deployments
// ls|cancel`, `apps rm`; and `apps logs` merging every instance's lines, each led by its instance,
// following new instances with -f.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, GANTRY, JOIN_TOKEN, api, killAll, runCli, startGantry, tempDir, waitFor, type CliResult, type Started } from '../helpers/processes.ts';

const PORTS = '[38000-38999]';

/** Logs each request with its VERSION; 200 on /health. */
const SERVER = `node -e 'require("http").createServer((q, r) => { console.log(process.env.VERSION + " " + q.url); r.statusCode = q.url === "/health" ? 200 : 404; r.end() }).listen(process.env.PORT0)'`;

function appYaml(version: string, extra = ''): string {
  return `# the CLI's test app
id: /cli/web
cmd: >-
  ${SERVER}
instances: 2
cpus: 0.1
mem: 48
env:
  VERSION: ${version}
portDefinitions:
  - port: 0
    name: http
healthChecks:
  - protocol: HTTP
    path: /health
    portIndex: 0
    gracePeriodSeconds: 15
    intervalSeconds: 1
    timeoutSeconds: 1
    maxConsecutiveFailures: 3
${extra}`;
}

describe('apps from the CLI: deploy and follow, ls, show, scale, rollback, logs', function () {
  this.timeout(120_000);
  const dir = tempDir('apps-cli');
  let server: Started | undefined;
  let env: Record<string, string>;
  let url = '';
  const cli = (...args: string[]) => runCli(args, env, 90_000);
  const file = (name: string, text: string): string => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };
  const ok = (result: CliResult): CliResult => {
    assert.equal(result.code, 0, `exit ${result.code}: ${result.stdout}${result.stderr}`);
    return result;
  };
  const appNow = async () => (await api(url).get('/api/v1/apps/cli/web')).body;

  before(async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-resources', `cpus:4;mem:4096;ports:${PORTS}`, '--agent-task-users', 'root', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    server = started;
    url = started.match[1]!;
    env = { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN };
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('`apps deploy FILE.yml` creates the app and follows its deployment to success (exit 0), showing its progress', async () => {
    const result = ok(await cli('apps', 'deploy', file('web.yml', appYaml('v1'))));
    assert.match(result.stdout, /^Created \/cli\/web: version (\S+), deployment [0-9a-f-]{36}$/m);
    assert.match(result.stdout, /^Deployed \/cli\/web version \S+: \[##########\] 2\/2 new healthy, 0 old, target 2$/m);
    assert.match(result.stderr, /\/cli\/web: \[-+\] 0\/2 new healthy, 0 old, target 2/, 'the progress as it went');
    const app = await appNow();
    assert.equal(app.counts.healthy, 2);
    assert.deepEqual(app.deployments, []);
  });

  it('`apps deploy FILE.json` replaces it: the old instances are rolled out as the new ones turn healthy', async () => {
    const json = file('web-v2.json', JSON.stringify({ id: '/cli/web', cmd: SERVER, instances: 2, cpus: 0.1, mem: 48, env: { VERSION: 'v2' }, portDefinitions: [{ port: 0, name: 'http' }], healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 15, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }] }));
    const result = ok(await cli('apps', 'deploy', json));
    assert.match(result.stdout, /^Updated \/cli\/web: version/m);
    assert.match(result.stdout, /2\/2 new healthy, 0 old, target 2$/m);
    assert.match(result.stderr, /\d\/2 new healthy, [12] old, target 2/, 'old instances counted while they were there');
    assert.equal((await appNow()).definition.env.VERSION, 'v2');
  });

  it('`apps deploy` of a version that keeps crashing exits 1 with the reason, the app rolled back to the last healthy version', async () => {
    const healthy = (await appNow()).lastConfigChangeAt;
    const broken = file('broken.yml', appYaml('v3').replace(/cmd: >-\n {2}.*\n/, "cmd: 'echo v3 cannot start; exit 1'\n"));
    const result = await cli('apps', 'deploy', broken);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /^gantry: deployment [0-9a-f-]{36} of \/cli\/web failed: 3 new instances of \/cli\/web failed and none became healthy; rolled back to the configuration of version /m);
    assert.ok(result.stderr.includes(`rolled back to the configuration of version ${healthy} (now version `), result.stderr);
    await waitFor('v2 healthy again', async () => {
      const app = await appNow();
      return app.definition.env.VERSION === 'v2' && app.deployments.length === 0 && app.counts.healthy === 2;
    }, 60_000);
  });

  it('`apps deploy GROUP.yml` deploys a group in its dependencies\' order and follows it to the end', async () => {
    const app = (id: string, extra = ''): string =>
      `  - id: ${id}\n    cmd: >-\n      ${SERVER}\n    instances: 1\n    cpus: 0.05\n    mem: 48\n    portDefinitions: [{ port: 0 }]\n${extra}`;
    const group = `id: /cli/shop\napps:\n${app('db')}${app('api', '    dependencies: [db]\n')}`;
    const result = ok(await cli('apps', 'deploy', file('shop.yml', group)));
    assert.match(result.stdout, /^Deploying group \/cli\/shop: version \S+, deployment [0-9a-f-]{36}$/m);
    assert.match(result.stdout, /^step [12]\/2$/m, "the step it was at when it looked");
    assert.match(result.stdout, /^Deployed group \/cli\/shop$/m);
    const listed = (await api(url).get('/api/v1/apps?id=/cli/shop/')).body.apps.map((a: { id: string; counts: { running: number } }) => [a.id, a.counts.running]);
    assert.deepEqual(listed, [['/cli/shop/api', 1], ['/cli/shop/db', 1]]);
    ok(await cli('apps', 'rm', '/cli/shop/api'));
    ok(await cli('apps', 'rm', '/cli/shop/db'));
  });

  it('`apps deploy` of a file with a mistake exits 2 naming its line, and sends nothing', async () => {
    const result = await cli('apps', 'deploy', file('typo.yml', appYaml('v9', 'instancez: 3\n')));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /typo\.yml:\d+: \/instancez: unknown field "instancez" \(did you mean "instances"\?\)/);
    assert.equal((await appNow()).definition.env.VERSION, 'v2');
  });

  it('`apps ls|show|tasks|versions` show the app, its instances and versions', async () => {
    const app = await appNow();
    const ls = ok(await cli('apps', 'ls'));
    assert.match(ls.stdout, /^ID\s+RUNNING\s+HEALTHY\s+VERSION\s+STATE$/m);
    assert.match(ls.stdout, new RegExp(`^/cli/web\\s+2/2\\s+2\\s+${app.version.replace(/\./g, '\\.')}\\s+stable$`, 'm'));
    const show = ok(await cli('apps', 'show', 'cli/web'));
    assert.match(show.stdout, /^instances: {4}2 asked, 2 running, 0 staging, 2 healthy, 0 unhealthy$/m);
    assert.match(show.stdout, /"VERSION": "v2"/);
    const tasks = ok(await cli('apps', 'tasks', '/cli/web'));
    assert.equal(tasks.stdout.trim().split('\n').filter((line) => /^i-\S+\s+t-\S+\s+running\s+healthy\s+\S+:38\d{3}/.test(line)).length, 2, tasks.stdout);
    const versions = ok(await cli('apps', 'versions', '/cli/web'));
    assert.match(versions.stdout, new RegExp(`^${app.version.replace(/\./g, '\\.')}\\s+current, last healthy$`, 'm'));
    assert.ok(versions.stdout.trim().split('\n').length >= 5, 'v1, v2, v3 and the rollback');
    const missing = await cli('apps', 'show', '/cli/nope');
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'gantry: app /cli/nope does not exist\n');
  });

  it('`apps logs` merges every instance\'s lines, each led by its instance; -f follows instances started meanwhile', async () => {
    const instances = (await appNow()).tasks.map((t: { spec: { owner: string } }) => t.spec.owner.split(':').at(-1));
    const logs = ok(await cli('apps', 'logs', '/cli/web'));
    const prefixes = new Set(logs.stdout.trim().split('\n').map((line) => /^\[(i-[^\]]+)\] v2 \/health$/.exec(line)?.[1] ?? `bad line: ${line}`));
    assert.deepEqual([...prefixes].sort(), instances.sort());

    // -f, then a third instance: its lines come too.
    const child = spawn(GANTRY, ['apps', 'logs', '/cli/web', '-f'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('followed lines', async () => out.includes('/health'), 20_000);
      ok(await cli('apps', 'scale', '/cli/web', '3', '--wait'));
      const third = (await appNow()).tasks.map((t: { spec: { owner: string } }) => t.spec.owner.split(':').at(-1)).find((i: string) => !instances.includes(i));
      assert.ok(third);
      await waitFor('the new instance\'s lines', async () => out.includes(`[${third}] v2 /health`), 20_000);
      assert.ok(out.split('\n').filter(Boolean).every((line) => /^\[i-[^\]]+\] v2 \/health$/.test(line)), 'whole lines only, never two instances\' mixed');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('`apps logs` orders the lines of all instances by their time, not one instance after the other', async () => {
    // Each instance prints its clock every 50 ms for 3 s, then sleeps: read at the end, one log after the
    // other would go back ~3 s at each instance's start.
    // (It says "done" when it stops: under a loaded CI machine node may start late, and a wait for a
    // span of 2.9 s of ticks never ended.)
    const ticker = `node -e 'const end = Date.now() + 3000; const t = setInterval(() => { console.log("tick " + Date.now()); if (Date.now() > end) { clearInterval(t); console.log("done"); setInterval(() => {}, 1e6) } }, 50)'`;
    ok(await cli('apps', 'deploy', file('ticks.json', JSON.stringify({ id: '/cli/ticks', cmd: ticker, instances: 2, cpus: 0.5, mem: 128 }))));
    await waitFor('both instances done ticking', async () => {
      const logged = ok(await cli('apps', 'logs', '/cli/ticks')).stdout.trim().split('\n');
      return new Set(logged.flatMap((line) => /^\[(i-[^\]]+)\] done$/.exec(line)?.[1] ?? [])).size === 2;
    }, 60_000);
    const lines = ok(await cli('apps', 'logs', '/cli/ticks')).stdout.trim().split('\n').filter((line) => !line.endsWith('] done'));
    const times = lines.map((line) => Number(/^\[i-[^\]]+\] tick (\d+)$/.exec(line)?.[1] ?? NaN));
    assert.ok(times.every((t) => !Number.isNaN(t)), 'only tick lines');
    // The agent stamps a line when it reads it, within its poll of the output file after it was printed.
    const backwards = Math.max(...times.map((t, i) => (i === 0 ? 0 : Math.max(...times.slice(0, i)) - t)));
    assert.ok(backwards < 1000, `time never goes back by more than the agent's read delay: ${backwards} ms`);
    const instancesSeen = lines.map((line) => /^\[(i-[^\]]+)\]/.exec(line)![1]);
    const switches = instancesSeen.filter((instance, i) => i > 0 && instance !== instancesSeen[i - 1]).length;
    assert.ok(switches >= 10, `the two instances' lines interleave (${switches} switches)`);
    ok(await cli('apps', 'rm', '/cli/ticks'));
  });

  it('`apps scale|restart|rollback --wait`, `deployments ls|cancel` and `apps rm`', async () => {
    const scaled = ok(await cli('apps', 'scale', '/cli/web', '2', '--wait'));
    assert.match(scaled.stdout, /^Scaling \/cli\/web to 2: version \S+, deployment \S+$/m);
    assert.match(scaled.stdout, /^Deployed \/cli\/web version \S+: \[##########\] 2\/2 new healthy, 0 old, target 2$/m);
    const restarted = ok(await cli('apps', 'restart', '/cli/web', '--wait'));
    assert.match(restarted.stdout, /^Deployed \/cli\/web/m);

    // A deployment that takes a while (its instances listen after 8 s): listed, then canceled, which rolls it back.
    const before = await appNow();
    const slow = ok(await cli('apps', 'deploy', '--no-follow', file('slow.yml', appYaml('v4').replace(/cmd: >-\n {2}/, 'cmd: >-\n  sleep 8; exec '))));
    const deploymentId = /deployment (\S+)$/m.exec(slow.stdout)![1]!;
    assert.doesNotMatch(slow.stdout, /^Deployed/m, '--no-follow returns at once');
    const listed = ok(await cli('deployments', 'ls'));
    assert.match(listed.stdout, new RegExp(`^${deploymentId}\\s+/cli/web\\s+1/1\\s+RestartApplication /cli/web`, 'm'));
    const canceled = ok(await cli('deployments', 'cancel', deploymentId));
    assert.match(canceled.stdout, new RegExp(`^Canceled ${deploymentId}: rolling back \\(deployment \\S+\\)$`, 'm'));
    await waitFor('back to v2, healthy', async () => {
      const app = await appNow();
      return app.definition.env.VERSION === 'v2' && app.lastConfigChangeAt === before.lastConfigChangeAt && app.deployments.length === 0 && app.counts.healthy === 2;
    }, 60_000);

    const v1 = (await api(url).get<{ versions: string[] }>('/api/v1/apps/cli/web/versions')).body.versions.at(-1)!;
    const rolledBack = ok(await cli('apps', 'rollback', '/cli/web', '--to', v1, '--wait'));
    assert.match(rolledBack.stdout, new RegExp(`^Rolling /cli/web back to version ${v1.replace(/\./g, '\\.')}: version \\S+, deployment \\S+$`, 'm'));
    assert.match(rolledBack.stdout, /^Deployed \/cli\/web/m);
    assert.equal((await appNow()).definition.env.VERSION, 'v1', 'back at the first version\'s definition');

    const removed = ok(await cli('apps', 'rm', '/cli/web'));
    assert.match(removed.stdout, /^Removing \/cli\/web \(deployment \S+\)$/m);
    await waitFor('no instance left', async () => (await api(url).get('/api/v1/tasks?ownerPrefix=app:/cli/web:&state=running,staging,queued')).body.tasks.length === 0);
    assert.equal((await api(url).get('/api/v1/apps/cli/web')).status, 404);
  });
});
