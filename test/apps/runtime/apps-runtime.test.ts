// Apps on a real server in this process (embedded agent, exec driver): an app becomes N healthy
// instances; a new version rolls without the healthy count ever dropping below its minimum; a version
// whose health check fails is rolled back to the last healthy one, whose instances were never all
// stopped; a crash-looping app's launches back off; scaling down kills by killSelection.
import assert from 'node:assert/strict';
import path from 'node:path';
import { pino } from 'pino';
import type { AppsService } from '../../../src/apps/index.ts';
import { clusterClient, type TaskRecord } from '../../../src/cluster/index.ts';
import { loadServerConfig } from '../../../src/config/server-config.ts';
import { startServer, type RunningServer } from '../../../src/main.ts';
import { tempDir, waitFor } from '../../helpers/processes.ts';

/** Answers 200 on / and /health, 404 elsewhere; says which version it is on /version. */
const SERVER = `node -e 'require("http").createServer((q, r) => { r.statusCode = q.url === "/" || q.url === "/health" ? 200 : 404; r.end(process.env.VERSION || "") }).listen(process.env.PORT0, "127.0.0.1")'`;

function webApp(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    cmd: SERVER,
    instances: 3,
    cpus: 0.1,
    mem: 64,
    portDefinitions: [{ port: 0, name: 'http' }],
    healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 2 }],
    env: { VERSION: 'v1' },
    ...extra,
  };
}

describe('apps runtime: instances, rolling upgrades, rollbacks, backoff', function () {
  this.timeout(120_000);
  let server: RunningServer;
  let apps: AppsService;
  const dataDir = path.join(tempDir('apps-runtime'), 'data');

  before(async () => {
    const config = loadServerConfig({
      env: {},
      flags: { dataDir, listen: '127.0.0.1:0', registryListen: '127.0.0.1:0', discovery: { dnsListen: '127.0.0.1:0' }, logLevel: 'silent', agent: { resources: 'cpus:4;mem:4096;ports:[33000-33999]', taskUsers: ['root'] }, apps: { progressDeadlineMs: 30_000, drainDelayMs: 0 } },
    });
    server = await startServer(config, pino({ level: 'silent' }));
    apps = server.apps;
  });
  after(async () => server?.close({ drain: true }));

  const live = (id: string): TaskRecord[] => apps.tasks(id);
  const healthyCount = (id: string): number => live(id).filter((t) => t.state === 'running' && t.health === 'healthy').length;
  const deploymentDone = async (id: string) => waitFor(`${id}: no deployment running`, async () => apps.getApp(id).deployments.length === 0, 60_000);

  it('runs a new app as N healthy instances, spread with the app\'s version in their environment', async () => {
    const { version, deploymentId } = await apps.createApp(webApp('/prod/web'));
    assert.match(deploymentId, /^[0-9a-f-]{36}$/);
    await waitFor('3 healthy instances', async () => healthyCount('/prod/web') === 3, 60_000);
    await deploymentDone('/prod/web');
    const view = apps.getApp('/prod/web');
    assert.deepEqual(view.counts, { staged: 0, running: 3, healthy: 3, unhealthy: 0 });
    assert.equal(view.lastHealthyVersion, version, 'its version is the one a failure rolls back to');
    for (const task of live('/prod/web')) {
      assert.equal(task.spec.env.MARATHON_APP_VERSION, version);
      assert.match(task.spec.owner, /^app:\/prod\/web:i-/);
    }
  });

  it('rolls a new version with minimumHealthCapacity 0.5: never fewer than 2 of 3 healthy, all replaced at the end', async () => {
    const before = new Set(live('/prod/web').map((t) => t.id));
    let lowest = Infinity;
    const sampler = setInterval(() => (lowest = Math.min(lowest, healthyCount('/prod/web'))), 20);
    try {
      const { version } = await apps.putApp('/prod/web', webApp('/prod/web', { env: { VERSION: 'v2' }, upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } }));
      await waitFor('every instance on the new version and healthy', async () => {
        const tasks = live('/prod/web');
        return tasks.length === 3 && tasks.every((t) => t.spec.env.MARATHON_APP_VERSION === version && t.health === 'healthy' && !before.has(t.id));
      }, 60_000);
      await deploymentDone('/prod/web');
    } finally {
      clearInterval(sampler);
    }
    assert.ok(lowest >= 2, `the healthy count dropped to ${lowest}`);
  });

  it('rolls back a version whose health check fails, to the last healthy one, without ever stopping all the old instances', async () => {
    const good = apps.getApp('/prod/web');
    const goodTasks = new Set(live('/prod/web').map((t) => t.id));
    let oldLowest = Infinity;
    const sampler = setInterval(() => (oldLowest = Math.min(oldLowest, live('/prod/web').filter((t) => goodTasks.has(t.id) && t.state === 'running').length)), 20);
    try {
      const bad = webApp('/prod/web', {
        env: { VERSION: 'v3' },
        upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
        healthChecks: [{ protocol: 'HTTP', path: '/missing', portIndex: 0, gracePeriodSeconds: 0, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 1 }],
      });
      const { version: badVersion } = await apps.putApp('/prod/web', bad);
      const rolledBack = await waitFor('a rollback', async () => {
        const now = apps.getApp('/prod/web');
        return now.version !== badVersion && now.definition.env.VERSION === 'v2' ? now : undefined;
      }, 60_000);
      assert.equal(rolledBack.lastConfigChangeAt, good.lastConfigChangeAt, 'the good configuration again: its instances count as current');
      await deploymentDone('/prod/web');
      await waitFor('3 healthy v2 instances', async () => healthyCount('/prod/web') === 3 && live('/prod/web').every((t) => t.spec.env.VERSION === 'v2'), 60_000);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(oldLowest >= 1, 'the old instances were never all stopped');
    const versions = await apps.versions('/prod/web');
    assert.equal(versions.length, 4, 'v1, v2, the bad v3, and the rollback (a new version with v2\'s definition)');
  });

  it('backs off the launches of a crash-looping app: the gaps between launches grow', async () => {
    // Each launch is seen in the app's events (a task that lives 50 ms could slip between two polls).
    const launches: number[] = [];
    const seen = new Set<string>();
    const onEvent = (event: { eventType: string; appId?: string; taskId?: string }): void => {
      if (event.eventType === 'status_update_event' && event.appId === '/crash' && !seen.has(event.taskId!)) (seen.add(event.taskId!), launches.push(Date.now()));
    };
    apps.events.on('event', onEvent);
    try {
      await apps.createApp({ id: '/crash', cmd: 'exit 1', instances: 1, cpus: 0.1, mem: 32, backoffSeconds: 1, backoffFactor: 2, maxLaunchDelaySeconds: 60 });
      await waitFor('4 launches', async () => launches.length >= 4, 30_000);
    } finally {
      apps.events.off('event', onEvent);
    }
    const gaps = launches.slice(1).map((t, i) => t - launches[i]!);
    assert.ok(gaps[0]! >= 900, `the first relaunch waited the backoff (${gaps[0]} ms)`);
    assert.ok(gaps[1]! > gaps[0]! * 1.5 && gaps[2]! > gaps[1]! * 1.5, `each wait about doubles: ${gaps.join(', ')} ms`);
    const queued = apps.queue().find((q) => q.appId === '/crash');
    assert.ok(queued === undefined || queued.delayMs <= 8000);
    await apps.deleteApp('/crash', { force: true });
  });

  it('scales down by killSelection: YOUNGEST_FIRST keeps the oldest instances', async () => {
    const tasks = [...live('/prod/web')].sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
    await apps.scaleApp('/prod/web', 1);
    await waitFor('one instance left', async () => live('/prod/web').filter((t) => !t.killRequested).length === 1, 30_000);
    assert.equal(live('/prod/web').filter((t) => !t.killRequested)[0]!.id, tasks[0]!.id, 'the oldest stays');
    await deploymentDone('/prod/web');
  });

  it('refuses a change while a deployment runs (409 naming it), unless forced', async () => {
    const slow = webApp('/prod/slow', { instances: 1, healthChecks: [{ protocol: 'HTTP', path: '/missing', portIndex: 0, gracePeriodSeconds: 300, intervalSeconds: 1, timeoutSeconds: 1 }] });
    const { deploymentId } = await apps.createApp(slow);
    await assert.rejects(apps.scaleApp('/prod/slow', 2), (err: Error & { status?: number; details?: { deployments: Array<{ id: string }> } }) => err.status === 409 && err.details?.deployments[0]?.id === deploymentId);
    const forced = await apps.scaleApp('/prod/slow', 2, { force: true });
    assert.notEqual(forced.deploymentId, deploymentId);
    await apps.deleteApp('/prod/slow', { force: true });
    assert.throws(() => apps.getApp('/prod/slow'), /app \/prod\/slow does not exist/);
    const pool = clusterClient(server.master);
    await waitFor('its instances gone', async () => (await pool.list('app:/prod/slow:', { states: ['queued', 'staging', 'running'] })).tasks.length === 0, 30_000);
  });

  it('deploys a group in its dependencies\' order: the database healthy before the web app starts; removed in reverse', async () => {
    const db = webApp('db', { instances: 1 });
    const web = webApp('web', { instances: 2, dependencies: ['db'] });
    const started: Record<string, number> = {};
    const ended: Record<string, number> = {};
    const onEvent = (event: { eventType: string; appId?: string; taskStatus?: string }): void => {
      if (event.eventType !== 'status_update_event' || !event.appId?.startsWith('/shop/')) return;
      if (event.taskStatus === 'TASK_STAGING') started[event.appId] ??= Date.now();
      if (event.taskStatus === 'TASK_KILLED') ended[event.appId] ??= Date.now();
    };
    apps.events.on('event', onEvent);
    try {
      const { deploymentId } = await apps.putGroup({ id: '/shop', apps: [db, web] });
      const plan = apps.deployments().find((d) => d.record.id === deploymentId)!;
      assert.deepEqual(plan.record.plan.steps.map((step) => step.actions.map((a) => `${a.action} ${a.appId}`)), [['start /shop/db'], ['start /shop/web']]);
      await waitFor('both apps healthy', async () => healthyCount('/shop/db') === 1 && healthyCount('/shop/web') === 2, 60_000);
      await deploymentDone('/shop/web');
      const dbHealthyAt = Date.parse(live('/shop/db')[0]!.startedAt!);
      assert.ok(started['/shop/web']! > dbHealthyAt, 'the web app started after the database ran');
      assert.deepEqual(apps.getGroup('/shop').apps.map((a) => a.definition.id), ['/shop/db', '/shop/web']);
      await apps.deleteGroup('/shop');
      const pool = clusterClient(server.master);
      await waitFor('the group gone', async () => (await pool.list('app:/shop/', { states: ['queued', 'staging', 'running'] })).tasks.length === 0, 60_000);
      assert.ok(ended['/shop/db']! >= ended['/shop/web']!, 'the database stopped after the web app');
    } finally {
      apps.events.off('event', onEvent);
    }
  });

  it('a master restarted in the middle of a deployment resumes it: no instance twice', async () => {
    const slowReady = webApp('/prod/resume', { instances: 4, upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.25 } });
    await apps.createApp(slowReady);
    await waitFor('4 healthy', async () => healthyCount('/prod/resume') === 4, 60_000);
    await deploymentDone('/prod/resume');
    const { version } = await apps.putApp('/prod/resume', { ...slowReady, env: { VERSION: 'v2' } });
    await waitFor('the rolling upgrade under way', async () => live('/prod/resume').some((t) => t.spec.env.MARATHON_APP_VERSION === version), 30_000);
    await server.close(); // as a crash: the embedded agent's tasks keep running
    const config = loadServerConfig({
      env: {},
      flags: { dataDir, listen: '127.0.0.1:0', registryListen: '127.0.0.1:0', discovery: { dnsListen: '127.0.0.1:0' }, logLevel: 'silent', agent: { resources: 'cpus:4;mem:4096;ports:[33000-33999]', taskUsers: ['root'] }, apps: { progressDeadlineMs: 30_000, drainDelayMs: 0 } },
    });
    server = await startServer(config, pino({ level: 'silent' }));
    apps = server.apps;
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, live('/prod/resume').filter((t) => !t.killRequested).length)), 20);
    try {
      await waitFor('every instance on the new version', async () => {
        const tasks = live('/prod/resume');
        return tasks.length === 4 && tasks.every((t) => t.spec.env.MARATHON_APP_VERSION === version && t.health === 'healthy');
      }, 60_000);
      await deploymentDone('/prod/resume');
    } finally {
      clearInterval(sampler);
    }
    assert.ok(most <= 5, `never more than the over-capacity allows (5): ${most}`);
  });

  it('kills and replaces one instance that fails its health check; when more than half fail at once, suspects the checker and kills none', async () => {
    // Unhealthy while a file `sick` is in the instance's directory, or while the shared file names the app sick.
    const shared = path.join(tempDir('apps-breaker'), 'all-sick');
    const checked = `node -e 'const fs = require("fs"); require("http").createServer((q, r) => { r.statusCode = fs.existsSync("sick") || fs.existsSync("${shared}") ? 500 : 200; r.end() }).listen(process.env.PORT0, "127.0.0.1")'`;
    const spared: unknown[] = [];
    const kills: Array<{ taskId: string }> = [];
    const onEvent = (event: { eventType: string; appId?: string; taskId?: string }): void => {
      if (event.appId !== '/prod/checked') return;
      if (event.eventType === 'unhealthy_instances_spared_event') spared.push(event);
      if (event.eventType === 'unhealthy_instance_kill_event') kills.push(event as { taskId: string });
    };
    apps.events.on('event', onEvent);
    try {
      await apps.createApp(webApp('/prod/checked', { cmd: checked, instances: 4, healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 1 }] }));
      await waitFor('4 healthy', async () => healthyCount('/prod/checked') === 4, 60_000);
      await deploymentDone('/prod/checked');

      const { writeFileSync, rmSync } = await import('node:fs');
      const victim = live('/prod/checked')[0]!;
      writeFileSync(path.join(dataDir, 'agent', 'sandboxes', victim.id, 'sick'), '');
      await waitFor('the sick instance killed and replaced', async () => kills.some((k) => k.taskId === victim.id) && healthyCount('/prod/checked') === 4 && !live('/prod/checked').some((t) => t.id === victim.id), 60_000);
      assert.equal(spared.length, 0);

      const before = new Set(live('/prod/checked').map((t) => t.id));
      writeFileSync(shared, '');
      await waitFor('the circuit breaker open', async () => spared.length > 0 && live('/prod/checked').filter((t) => t.health === 'unhealthy').length === 4, 30_000);
      // A few more checks fail while it stays open: still nothing is killed.
      await waitFor('three more failing rounds', async () => live('/prod/checked').every((t) => t.health === 'unhealthy'), 5_000);
      assert.equal(kills.length, 1, 'no instance killed while more than half failed');
      assert.deepEqual(new Set(live('/prod/checked').map((t) => t.id)), before);
      rmSync(shared);
      await waitFor('all healthy again', async () => healthyCount('/prod/checked') === 4, 30_000);
      assert.deepEqual(new Set(live('/prod/checked').map((t) => t.id)), before, 'the same instances');
    } finally {
      apps.events.off('event', onEvent);
    }
    await apps.deleteApp('/prod/checked');
  });

  it('gates a rolling upgrade on readiness: no old instance goes until a new one is ready', async () => {
    // /ready answers 503 until a file `ready` is in the instance's directory; v1 makes it at start, v2 does not.
    const serve = (makeReady: boolean) =>
      `${makeReady ? 'touch ready; ' : ''}exec node -e 'const fs = require("fs"); require("http").createServer((q, r) => { r.statusCode = q.url === "/ready" && !fs.existsSync("ready") ? 503 : 200; r.end() }).listen(process.env.PORT0, "127.0.0.1")'`;
    const ready = (version: string, makeReady: boolean) =>
      webApp('/prod/gated', {
        cmd: serve(makeReady),
        instances: 2,
        env: { VERSION: version },
        readinessChecks: [{ name: 'ready', protocol: 'HTTP', path: '/ready', portName: 'http', intervalSeconds: 2, timeoutSeconds: 1 }],
        upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.5 },
      });
    await apps.createApp(ready('v1', true));
    await waitFor('2 ready v1 instances', async () => live('/prod/gated').filter((t) => t.ready === true).length === 2, 60_000);
    await deploymentDone('/prod/gated');
    const olds = new Set(live('/prod/gated').map((t) => t.id));
    await apps.putApp('/prod/gated', ready('v2', false));
    const first = await waitFor('a v2 instance running, healthy, not ready', async () => live('/prod/gated').find((t) => t.spec.env.VERSION === 'v2' && t.health === 'healthy' && t.ready === false), 60_000);
    // Three more checks of the new instance come back not ready: the old ones stay, none is killed.
    await waitFor('three seconds of not-ready', async () => Date.now() - Date.parse(first.startedAt!) > 3000 && live('/prod/gated').find((t) => t.id === first.id)?.ready === false, 10_000);
    assert.deepEqual(live('/prod/gated').filter((t) => olds.has(t.id) && !t.killRequested).length, 2, 'both old instances kept while no new one is ready');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dataDir, 'agent', 'sandboxes', first.id, 'ready'), '');
    const second = await waitFor('one old instance replaced by a second v2', async () => live('/prod/gated').find((t) => t.spec.env.VERSION === 'v2' && t.id !== first.id && t.state === 'running'), 30_000);
    await waitFor('exactly one old instance gone', async () => live('/prod/gated').filter((t) => olds.has(t.id) && !t.killRequested).length === 1, 30_000);
    writeFileSync(path.join(dataDir, 'agent', 'sandboxes', second.id, 'ready'), '');
    await waitFor('both v2 ready, the old ones gone', async () => {
      const tasks = live('/prod/gated');
      return tasks.length === 2 && tasks.every((t) => t.spec.env.VERSION === 'v2' && t.ready === true);
    }, 30_000);
    await deploymentDone('/prod/gated');
    await apps.deleteApp('/prod/gated');
  });
});
