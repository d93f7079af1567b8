// Marathon's REST API on a real server (issue 18), driven as a Marathon client drives it: an app from
// Marathon's documentation posted to POST /v2/apps becomes healthy instances listed by GET
// /v2/apps?embed=apps.tasks; a new version's deployment is told on /v2/events in order (deployment_info,
// the new tasks' status updates, their health, deployment_success); a change while a deployment runs
// is a 409 in Marathon's body, and DELETE /v2/deployments/ID rolls it back; bad definitions are 422s
// with Marathon's details, and nothing is written; /v2/queue shows an app backed off after a crash and
// one waiting for room; tasks are killed and replaced through /v2/apps/ID/tasks/TASK and /v2/tasks/delete.
import assert from 'node:assert/strict';
import path from 'node:path';
import { readEvents, type ReceivedEvent } from '../helpers/sse-client.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

/** Ports of this file's embedded agent: a range of its own, as other servers on the machine take 31000 up. */
const PORTS = '[37000-37999]';

/** Answers 200 on / and /health, 404 elsewhere, with its VERSION; after `sleep` seconds when DELAY is set. */
const NODE_SERVER = `node -e 'require("http").createServer((q, r) => { r.statusCode = q.url === "/" || q.url === "/health" ? 200 : 404; r.end("version " + (process.env.VERSION || "")) }).listen(process.env.PORT0)'`;

/**
 * docs/docs/recipes.md of mesosphere/marathon, "HTTP health checks", as it is but for two things: its
 * command (python and the fetched toggle.py) is a node server, and its `fetch` is gone (no fetcher here:
 * the command must be on the agent). The deprecated `ports` stays.
 */
const RECIPE_TOGGLE = {
  id: 'toggle',
  cmd: NODE_SERVER,
  cpus: 0.2,
  disk: 0.0,
  healthChecks: [
    {
      protocol: 'HTTP',
      path: '/health',
      portIndex: 0,
      gracePeriodSeconds: 5,
      intervalSeconds: 10,
      timeoutSeconds: 10,
      maxConsecutiveFailures: 3,
    },
  ],
  instances: 2,
  mem: 32.0,
  ports: [0],
};

/** A quick web app: checked every second. */
function webApp(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    cmd: NODE_SERVER,
    instances: 2,
    cpus: 0.1,
    mem: 48,
    portDefinitions: [{ port: 0, name: 'http' }],
    healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 15, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }],
    env: { VERSION: 'v1' },
    ...extra,
  };
}

interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

describe('the Marathon API (/v2) on a real server', function () {
  this.timeout(120_000);
  const dir = tempDir('marathon-api');
  let server: Started | undefined;
  let url = '';
  const streams: AbortController[] = [];

  async function call<T = any>(method: string, route: string, body?: unknown, raw?: string): Promise<Answer<T>> {
    const response = await fetch(url + route, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: raw ?? (body === undefined ? null : JSON.stringify(body)),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  /** Opens /v2/events (with `query`) and collects its events until `stop` holds. */
  async function events(query = ''): Promise<{ received: ReceivedEvent[]; until(stop: (events: ReceivedEvent[]) => boolean, ms?: number): Promise<ReceivedEvent[]> }> {
    const abort = new AbortController();
    streams.push(abort);
    const response = await fetch(`${url}/v2/events${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/event-stream' }, signal: abort.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const received: ReceivedEvent[] = [];
    let check: (() => void) | undefined;
    void readEvents(response, (all) => {
      received.splice(0, received.length, ...all);
      check?.();
      return false;
    }).catch(() => undefined);
    return {
      received,
      until: (stop, ms = 60_000) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`events not seen in ${ms} ms: ${received.map((e) => e.event).join(', ')}`)), ms);
          check = () => {
            if (stop(received)) {
              clearTimeout(timer);
              check = undefined;
              resolve(received);
            }
          };
          check();
        }),
    };
  }

  const appOf = async (id: string) => (await call(`GET`, `/v2/apps${id}`)).body.app;
  /** The app once it has `instances` healthy instances, all of its current configuration, and no deployment. */
  const settled = (id: string, instances: number) =>
    waitFor(
      `${id}: ${instances} healthy instances of its configuration, no deployment`,
      async () => {
        const app = await appOf(id);
        const tasks = (app?.tasks ?? []) as Array<{ healthCheckResults: Array<{ alive: boolean }>; version: string }>;
        return (
          app.deployments.length === 0 &&
          app.tasksHealthy === instances &&
          tasks.length === instances &&
          tasks.every((t) => t.healthCheckResults[0]?.alive === true && t.version >= app.versionInfo.lastConfigChangeAt) &&
          app
        );
      },
      60_000,
    );

  before(async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-resources', `cpus:4;mem:4096;ports:${PORTS}`, '--agent-task-users', 'root', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    server = started;
    url = started.match[1]!;
  });

  after(async () => {
    for (const abort of streams) abort.abort();
    await server?.stop();
    killAll();
  });

  it('runs an app from Marathon\'s documentation, posted unchanged, as healthy instances listed with ?embed=apps.tasks', async () => {
    const created = await call('POST', '/v2/apps', RECIPE_TOGGLE);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), '/v2/apps/toggle');
    const deploymentId = created.headers.get('marathon-deployment-id');
    assert.match(deploymentId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(created.body.id, '/toggle');
    assert.deepEqual(created.body.deployments, [{ id: deploymentId }]);
    assert.deepEqual(created.body.portDefinitions, [{ port: 0, protocol: 'tcp', labels: {} }], 'the deprecated ports, as portDefinitions');
    assert.equal(created.body.version, created.body.versionInfo.lastConfigChangeAt);

    const listed = await waitFor(
      '2 healthy instances of /toggle',
      async () => {
        const { body } = await call('GET', '/v2/apps?embed=apps.tasks');
        const app = body.apps.find((a: { id: string }) => a.id === '/toggle');
        return app?.tasksHealthy === 2 && app.deployments.length === 0 && app;
      },
      60_000,
    );
    assert.equal(listed.tasksRunning, 2);
    assert.equal(listed.tasks.length, 2);
    for (const task of listed.tasks) {
      assert.equal(task.appId, '/toggle');
      assert.equal(task.state, 'TASK_RUNNING');
      assert.equal(task.version, created.body.version);
      assert.deepEqual(task.healthCheckResults, [{ alive: true, consecutiveFailures: 0, instanceId: task.id, taskId: task.id }]);
      assert.ok(task.ports[0] >= 37000 && task.ports[0] <= 37999, String(task.ports));
      const answer = await fetch(`http://127.0.0.1:${task.ports[0]}/health`);
      assert.equal(answer.status, 200, 'the instance answers on the port it was given');
    }

    // The same app by id ({app}, tasks embedded), its tasks, every app's tasks, and the filters.
    const one = await call('GET', '/v2/apps/toggle');
    assert.deepEqual(one.body.app.tasks.map((t: { id: string }) => t.id).sort(), listed.tasks.map((t: { id: string }) => t.id).sort());
    assert.equal((await call('GET', '/v2/apps/toggle/tasks')).body.tasks.length, 2);
    const running = (await call('GET', '/v2/tasks?status=running')).body.tasks.filter((t: { appId: string }) => t.appId === '/toggle');
    assert.equal(running.length, 2);
    assert.equal((await call('GET', '/v2/tasks?status=staging')).body.tasks.filter((t: { appId: string }) => t.appId === '/toggle').length, 0);
    assert.deepEqual((await call('GET', '/v2/apps?id=TOG')).body.apps.map((a: { id: string }) => a.id), ['/toggle'], 'id: contained, any case');
    assert.deepEqual((await call('GET', '/v2/apps?id=nothing')).body.apps, []);
    assert.equal((await call('GET', '/v2/apps')).body.apps[0].tasks, undefined, 'tasks only when embedded');
    assert.deepEqual((await call('GET', '/v2/apps/toggle/versions')).body, { versions: [created.body.version] });
    const version = await call('GET', `/v2/apps/toggle/versions/${created.body.version}`);
    assert.equal(version.body.instances, 2);
    assert.equal(version.body.version, created.body.version);

    // Everything Marathon shows of an app posts back as it is: a PUT of it changes nothing but the version.
    const { tasks: _tasks, ...exported } = one.body.app;
    const again = await call('PUT', '/v2/apps/toggle?partialUpdate=false', exported);
    assert.equal(again.status, 200, JSON.stringify(again.body));

    const info = await call('GET', '/v2/info');
    assert.equal(info.body.name, 'gantry');
    assert.equal(info.body.elected, true);
    const ping = await fetch(`${url}/ping`);
    assert.equal(ping.status, 200, 'no token needed');
    assert.equal(await ping.text(), 'pong');
  });

  it('tells a new version\'s deployment on /v2/events in order: deployment_info, status updates, health, deployment_success', async () => {
    const created = await call('POST', '/v2/apps', webApp('/prod/web'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await settled('/prod/web', 2);

    const all = await events();
    const filtered = await events('?event_type=deployment_info&event_type=deployment_success');
    await all.until((e) => e.some((x) => x.event === 'event_stream_attached'));
    // Marathon's PUT: a partial update by default (the fields given are laid over the app).
    const put = await call('PUT', '/v2/apps/prod/web', { env: { VERSION: 'v2' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const { deploymentId, version } = put.body;
    assert.equal(put.headers.get('marathon-deployment-id'), deploymentId);
    assert.deepEqual(Object.keys(put.body).sort(), ['deploymentId', 'version']);

    const seen = await all.until((e) => e.some((x) => x.event === 'deployment_success' && JSON.parse(x.data).id === deploymentId));
    const parsed = seen.map((e) => ({ type: e.event, ...JSON.parse(e.data) }));
    for (const event of parsed) assert.equal(event.eventType, event.type, 'event: names the JSON\'s eventType');
    const at = (find: (e: any) => boolean, what: string): number => {
      const index = parsed.findIndex(find);
      assert.ok(index >= 0, `${what} in ${parsed.map((e) => e.type).join(', ')}`);
      return index;
    };
    const info = at((e) => e.type === 'deployment_info' && e.plan.id === deploymentId, 'deployment_info');
    const staged = at((e) => e.type === 'status_update_event' && e.version === version && e.appId === '/prod/web', 'a new task\'s status update');
    const runningAt = at((e) => e.type === 'status_update_event' && e.version === version && e.taskStatus === 'TASK_RUNNING', 'a new task running');
    const healthy = at((e) => e.type === 'health_status_changed_event' && e.version === version && e.alive === true, 'a new task healthy');
    const success = at((e) => e.type === 'deployment_success' && e.id === deploymentId, 'deployment_success');
    assert.ok(info < staged && staged <= runningAt && runningAt < healthy && healthy < success, `in order: ${[info, staged, runningAt, healthy, success]}`);
    assert.equal(parsed[info].plan.steps[0].actions[0].action, 'RestartApplication');
    assert.ok(parsed.some((e) => e.type === 'status_update_event' && e.taskStatus === 'TASK_KILLED' && e.version !== version), 'the old tasks were killed');

    await filtered.until((e) => e.some((x) => x.event === 'deployment_success'));
    assert.deepEqual([...new Set(filtered.received.map((e) => e.event))].sort(), ['deployment_info', 'deployment_success'], 'event_type keeps those types only');
    const app = await settled('/prod/web', 2);
    assert.equal(app.versionInfo.lastConfigChangeAt, version);
    assert.equal(app.env.VERSION, 'v2');
    assert.equal(app.cmd, NODE_SERVER, 'the fields not given were kept');
  });

  it('answers a change during a deployment with 409 in Marathon\'s body; DELETE /v2/deployments/ID rolls it back', async () => {
    const before = await settled('/prod/web', 2);
    // v3 listens only after 5 s: its deployment runs long enough to be in the way.
    const slow = await call('PUT', '/v2/apps/prod/web', { env: { VERSION: 'v3' }, cmd: `sleep 5; exec ${NODE_SERVER}` });
    assert.equal(slow.status, 200, JSON.stringify(slow.body));
    const locked = await call('PUT', '/v2/apps/prod/web', { instances: 3 });
    assert.equal(locked.status, 409);
    assert.deepEqual(Object.keys(locked.body).sort(), ['deployments', 'message']);
    assert.match(locked.body.message, /locked by one or more deployments/);
    assert.deepEqual(locked.body.deployments, [{ id: slow.body.deploymentId }]);
    assert.equal((await call('POST', '/v2/apps/prod/web/restart')).status, 409);

    const running = await call('GET', '/v2/deployments');
    const deployment = running.body.find((d: { id: string }) => d.id === slow.body.deploymentId);
    assert.deepEqual(
      { affectedApps: deployment.affectedApps, currentStep: deployment.currentStep, totalSteps: deployment.totalSteps, currentActions: deployment.currentActions },
      { affectedApps: ['/prod/web'], currentStep: 1, totalSteps: 1, currentActions: [{ action: 'RestartApplication', app: '/prod/web', readinessCheckResults: [] }] },
    );

    const canceled = await call('DELETE', `/v2/deployments/${slow.body.deploymentId}`);
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.notEqual(canceled.body.deploymentId, slow.body.deploymentId, 'the rollback is a deployment of its own');
    const back = await settled('/prod/web', 2);
    assert.equal(back.version, canceled.body.version);
    assert.equal(back.env.VERSION, 'v2', 'back to the version before');
    assert.equal(back.cmd, before.cmd);
    assert.equal(back.versionInfo.lastConfigChangeAt, before.versionInfo.lastConfigChangeAt, 'the configuration it had, so its instances still running were kept');
    assert.deepEqual((await call('DELETE', `/v2/deployments/${slow.body.deploymentId}`)).body, { message: `DeploymentPlan ${slow.body.deploymentId} does not exist` });
  });

  it('refuses bad definitions with 422 and Marathon\'s details, writing nothing', async () => {
    const invalid = await call('POST', '/v2/apps', { id: '/bad', cmd: 'serve', instancez: 2, portDefinitions: [{ port: 0 }], healthChecks: [{ protocol: 'HTTP', portIndex: 3 }], upgradeStrategy: { minimumHealthCapacity: 1.5 } });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.message, 'Object is not valid');
    assert.deepEqual(invalid.body.details.map((d: { path: string }) => d.path).sort(), ['/healthChecks(0)/portIndex', '/instancez', '/upgradeStrategy/minimumHealthCapacity']);
    assert.match(invalid.body.details.find((d: { path: string }) => d.path === '/instancez').errors[0], /did you mean "instances"/);
    const badId = await call('PUT', '/v2/apps/Bad_ID', { cmd: 'serve' });
    assert.equal(badId.status, 422);
    assert.deepEqual(badId.body.details.map((d: { path: string }) => d.path), ['/id']);
    const tooBig = await call('POST', '/v2/apps', { id: '/huge', cmd: 'serve', mem: 100_000 });
    assert.equal(tooBig.status, 422, JSON.stringify(tooBig.body));
    assert.match(tooBig.body.message, /mem/);
    const notJson = await call('POST', '/v2/apps', undefined, '{"id": ');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.message, 'Invalid JSON');
    assert.equal((await call('POST', '/v2/apps', RECIPE_TOGGLE)).body.message, 'An app with id [/toggle] already exists.');
    assert.deepEqual((await call('GET', '/v2/apps/bad')).body, { message: "App '/bad' does not exist" });
    assert.equal((await call('PATCH', '/v2/apps/bad', { instances: 1 })).status, 404, 'PATCH never creates');
    const ids = (await call('GET', '/v2/apps')).body.apps.map((a: { id: string }) => a.id);
    assert.deepEqual(ids, ['/prod/web', '/toggle'], 'nothing was written');
  });

  it('kills tasks through /v2/apps/ID/tasks/TASK and /v2/tasks/delete: each is replaced', async () => {
    const [first, second] = (await call('GET', '/v2/apps/prod/web/tasks')).body.tasks;
    const killed = await call('DELETE', `/v2/apps/prod/web/tasks/${first.id}`);
    assert.equal(killed.status, 200, JSON.stringify(killed.body));
    assert.equal(killed.body.task.id, first.id);
    assert.deepEqual((await call('DELETE', '/v2/apps/prod/web/tasks/t-nope')).body, { message: "Task 't-nope' does not exist" });
    assert.equal((await call('POST', '/v2/tasks/delete', { ids: [second.id, 't-nope'] })).status, 400, 'an unknown id: nothing killed');
    const deleted = await call('POST', '/v2/tasks/delete', { ids: [second.id] });
    assert.deepEqual(deleted.body.tasks.map((t: { id: string }) => t.id), [second.id]);
    await waitFor('both replaced', async () => {
      const tasks = (await call('GET', '/v2/apps/prod/web/tasks')).body.tasks as Array<{ id: string; healthCheckResults: Array<{ alive: boolean }> }>;
      return tasks.length === 2 && tasks.every((t) => t.id !== first.id && t.id !== second.id && t.healthCheckResults[0]?.alive);
    }, 60_000);
    await waitFor('no deployment running', async () => (await call('GET', '/v2/deployments')).body.length === 0, 30_000);
    // With scale=true the app shrinks by exactly the task named, not by killSelection's choice.
    const [keep, drop] = (await call('GET', '/v2/apps/prod/web/tasks')).body.tasks as Array<{ id: string }>;
    const scaled = await call('DELETE', `/v2/apps/prod/web/tasks/${drop!.id}?scale=true`);
    assert.equal(scaled.status, 200, JSON.stringify(scaled.body));
    assert.match(scaled.body.deploymentId, /^[0-9a-f-]{36}$/);
    await waitFor('the named task gone, the other kept', async () => {
      const tasks = (await call('GET', '/v2/apps/prod/web/tasks')).body.tasks as Array<{ id: string }>;
      return tasks.length === 1 && tasks[0]!.id === keep!.id;
    }, 30_000);
    assert.equal((await call('GET', '/v2/apps/prod/web')).body.app.instances, 1);
  });

  it('shows in /v2/queue an app backed off after a crash and one waiting for room, with the pool\'s reason', async () => {
    const crashing = await call('POST', '/v2/apps', { id: '/crash', cmd: 'exit 3', cpus: 0.1, mem: 16, backoffSeconds: 60 });
    assert.equal(crashing.status, 201);
    const delayed = await waitFor('/crash delayed in the queue', async () => {
      const item = (await call('GET', '/v2/queue')).body.queue.find((q: { app: { id: string } }) => q.app.id === '/crash');
      return item?.delay.overdue === false && item;
    });
    assert.equal(delayed.count, 1);
    assert.ok(delayed.delay.timeLeftSeconds > 50 && delayed.delay.timeLeftSeconds <= 60, String(delayed.delay.timeLeftSeconds));
    assert.equal(delayed.app.version, crashing.body.version);
    assert.equal((await call('GET', '/v2/apps/crash')).body.app.lastTaskFailure.state, 'TASK_FAILED');

    // Two instances of 3 CPUs on an agent of 4: one runs, one waits for room.
    const big = await call('POST', '/v2/apps', { id: '/big', cmd: 'sleep 600', cpus: 3, mem: 16, instances: 2 });
    assert.equal(big.status, 201, JSON.stringify(big.body));
    // The queue is read once one instance runs: until the master has heard of the placement, both may show as waiting.
    await waitFor('one /big instance running', async () => {
      const tasks = (await call('GET', '/v2/apps/big/tasks')).body.tasks as Array<{ state: string }>;
      return tasks.filter((t) => t.state === 'TASK_RUNNING').length === 1;
    });
    const waiting = await waitFor('/big waiting in the queue', async () => {
      const item = (await call('GET', '/v2/queue')).body.queue.find((q: { app: { id: string } }) => q.app.id === '/big');
      return item?.waitingReasons.length > 0 && item;
    });
    assert.equal(waiting.count, 1, 'one instance runs, one waits');
    assert.deepEqual(waiting.delay, { timeLeftSeconds: 0, overdue: true });
    assert.match(waiting.waitingReasons[0], /cpus/);
    assert.match(waiting.since, /^\d{4}-/);

    for (const id of ['crash', 'big']) {
      const removed = await call('DELETE', `/v2/apps/${id}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.match(removed.body.deploymentId, /^[0-9a-f-]{36}$/);
    }
    await waitFor('the queue empty of them', async () => !(await call('GET', '/v2/queue')).body.queue.some((q: { app: { id: string } }) => q.app.id === '/crash' || q.app.id === '/big'));
    assert.equal((await call('GET', '/v2/apps/big')).status, 404);
  });

  it('deploys a group from /v2/groups in its dependencies\' order, shows it as a tree, and removes it', async () => {
    const group = {
      id: '/shop',
      apps: [webApp('db', { instances: 1 }), webApp('web', { instances: 1, dependencies: ['db'] })],
      groups: [{ id: 'workers', apps: [webApp('queue', { instances: 1 })] }],
    };
    const created = await call('POST', '/v2/groups', group);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const deployment = (await call('GET', '/v2/deployments')).body.find((d: { id: string }) => d.id === created.body.deploymentId);
    assert.deepEqual(
      deployment.steps.map((step: { actions: Array<{ action: string; app: string }> }) => step.actions.map((a) => `${a.action} ${a.app}`).sort()),
      [['StartApplication /shop/db', 'StartApplication /shop/workers/queue'], ['StartApplication /shop/web']],
      'the database (and the independent queue) first, then what depends on it',
    );
    await waitFor('the group deployed', async () => (await call('GET', '/v2/deployments')).body.length === 0, 60_000);
    const tree = (await call('GET', '/v2/groups/shop?embed=group.apps.tasks')).body;
    assert.deepEqual(tree.apps.map((a: { id: string }) => a.id), ['/shop/db', '/shop/web']);
    assert.deepEqual(tree.groups.map((g: { id: string; apps: Array<{ id: string }> }) => [g.id, g.apps.map((a) => a.id)]), [['/shop/workers', ['/shop/workers/queue']]]);
    // With a message: without one, a failing assert.ok has Node search the (transpiled, one-line) source
    // for the expression, which on this file spun for minutes instead of failing.
    const health = tree.apps.map((a: { id: string; tasksHealthy: number; tasksRunning: number }) => `${a.id} ${a.tasksHealthy}/${a.tasksRunning}`);
    assert.ok(tree.apps.every((a: { tasksHealthy: number }) => a.tasksHealthy === 1), `healthy/running: ${health.join(', ')}`);
    assert.ok((await call('GET', '/v2/groups')).body.groups.some((g: { id: string }) => g.id === '/shop'), 'under the root group');
    const removed = await call('DELETE', '/v2/groups/shop');
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    await waitFor('the group gone', async () => (await call('GET', '/v2/groups/shop')).status === 404, 30_000);
    assert.deepEqual((await call('GET', '/v2/groups/nothing')).body, { message: "Group '/nothing' does not exist" });
  });
});
