// Marathon's shapes as /v2 renders them (src/server/routes/marathon/json.ts, label-selector.ts, errors.ts),
// without a server: an app rendered from its definition posts back as the same definition (Marathon's
// own apps from its documentation included), the fields Marathon's appWriter writes are there and the
// deprecated ones are not, tasks, deployments and queue items have Marathon's fields, label selectors
// read as Marathon's LabelSelectorParsers reads them, and errors take Marathon's bodies.
import assert from 'node:assert/strict';
import { AppDefinitionInvalid, parseAppDefinition, type AppDefinition, type AppView, type DeploymentView } from '../../src/apps/index.ts';
import type { TaskRecord } from '../../src/cluster/index.ts';
import { marathonErrorBody } from '../../src/server/routes/marathon/errors.ts';
import { embedsOf, marathonApp, marathonDefinition, marathonDeployment, marathonQueueItem, marathonTask } from '../../src/server/routes/marathon/json.ts';
import { matchesLabels, parseLabelSelectors } from '../../src/server/routes/marathon/label-selector.ts';
import { Conflict, Forbidden, Invalid, NotFound, Unauthorized } from '../../src/shared/errors.ts';
import { basic0, basic3, bridgedWebapp, documentedHealthChecks, documentedReadinessCheck, exportedWebapp } from '../apps/marathon-apps.ts';

const withoutSource = (app: AppDefinition): Omit<AppDefinition, 'source'> => {
  const { source: _source, ...rest } = app;
  return rest;
};

function roundTrips(json: Record<string, unknown>): Record<string, unknown> {
  const app = parseAppDefinition(json);
  const rendered = marathonDefinition(app);
  assert.deepEqual(withoutSource(parseAppDefinition(rendered)), withoutSource(app), `${app.id} renders as it reads`);
  return rendered;
}

function task(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 't-1',
    spec: { env: { MARATHON_APP_VERSION: '2024-01-01T00:00:00.000Z' } } as unknown as TaskRecord['spec'],
    state: 'running',
    agentId: 'agent-1',
    allocation: { host: 'node-1', ports: [31001] } as TaskRecord['allocation'],
    exitCode: null,
    reason: null,
    waitingReason: null,
    limits: null,
    killRequested: false,
    createdAt: '2024-01-01T00:00:01.000Z',
    stagedAt: '2024-01-01T00:00:02.000Z',
    startedAt: '2024-01-01T00:00:03.000Z',
    finishedAt: null,
    restarts: 0,
    restartAt: null,
    health: 'healthy',
    ready: null,
    probeMessage: null,
    result: null,
    address: null,
    version: 3,
    ...overrides,
  };
}

describe('Marathon JSON on /v2', () => {
  describe('apps', () => {
    it('renders each documented app so that it posts back as the same definition', () => {
      roundTrips(basic0);
      roundTrips(basic3);
      roundTrips(bridgedWebapp);
      roundTrips(exportedWebapp);
      roundTrips({ id: '/checks', cmd: 'serve', portDefinitions: [{ port: 0, name: 'http-api' }], healthChecks: [documentedHealthChecks.HTTP], readinessChecks: [documentedReadinessCheck] });
      for (const check of Object.values(documentedHealthChecks)) roundTrips({ id: '/one-check', cmd: 'serve', healthChecks: [check] });
      roundTrips({ id: '/tuned', cmd: 'serve', user: 'nobody', constraints: [['hostname', 'UNIQUE']], labels: { tier: 'web' }, taskKillGracePeriodSeconds: 5, unreachableStrategy: 'disabled', upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } });
    });

    it('writes what Marathon\'s appWriter writes: defaults spelled out, deprecated fields never, ports by network', () => {
      const host = roundTrips(basic0);
      assert.equal(host.id, '/basic-0');
      assert.deepEqual(host.networks, [{ mode: 'host' }]);
      assert.deepEqual(host.portDefinitions, [{ port: 0, protocol: 'tcp', name: 'default', labels: {} }]);
      assert.equal(host.container, undefined);
      for (const field of ['ports', 'uris', 'ipAddress', 'source', 'args', 'user']) assert.equal(field in host, false, field);
      assert.deepEqual(host.upgradeStrategy, { minimumHealthCapacity: 1, maximumOverCapacity: 1 });
      assert.deepEqual(host.unreachableStrategy, { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 });
      assert.equal(host.killSelection, 'YOUNGEST_FIRST');
      assert.equal(host.maxLaunchDelaySeconds, 300);

      const bridge = roundTrips(bridgedWebapp);
      assert.equal('portDefinitions' in bridge, false, 'no portDefinitions with bridge networking');
      const container = bridge.container as { portMappings: unknown[]; docker: Record<string, unknown> };
      assert.deepEqual(container.portMappings[0], { containerPort: 8080, hostPort: 0, servicePort: 9000, protocol: 'tcp', labels: {} });
      assert.deepEqual(container.docker, { image: 'python:3', forcePullImage: false, privileged: false, parameters: [] });
      assert.deepEqual((bridge.healthChecks as unknown[])[0], { protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 5, intervalSeconds: 20, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 15, ignoreHttp1xx: false, ipProtocol: 'IPv4' });
      const command = roundTrips({ id: '/c', cmd: 'serve', healthChecks: [documentedHealthChecks.COMMAND] });
      assert.deepEqual((command.healthChecks as Array<Record<string, unknown>>)[0]!.command, { value: 'curl -f -X GET http://$HOST:$PORT0/health' });
    });

    it('adds version information, counts, deployments, tasks and the last failure as asked', () => {
      const definition = parseAppDefinition({ id: '/web', cmd: 'serve', instances: 2, healthChecks: [{ protocol: 'HTTP', portIndex: 0 }] });
      const view: AppView = {
        definition,
        version: '2024-01-02T00:00:00.000Z',
        lastConfigChangeAt: '2024-01-01T00:00:00.000Z',
        lastHealthyVersion: null,
        counts: { staged: 1, running: 1, healthy: 1, unhealthy: 0 },
        deployments: ['d-1'],
        tasks: [task(), task({ id: 't-2', state: 'staging', startedAt: null, health: null, allocation: null }), task({ id: 't-3', state: 'queued', stagedAt: null, startedAt: null, health: null, allocation: null })],
        lastTaskFailure: { taskId: 't-0', state: 'failed', message: 'exited with 1', timestamp: '2024-01-01T00:00:05.000Z', version: '2024-01-01T00:00:00.000Z', host: 'node-a', agentId: 'a-1' },
      };
      const listed = marathonApp(view, embedsOf([], ['counts', 'deployments']));
      assert.deepEqual(listed.versionInfo, { lastScalingAt: '2024-01-02T00:00:00.000Z', lastConfigChangeAt: '2024-01-01T00:00:00.000Z' });
      assert.equal(listed.version, '2024-01-02T00:00:00.000Z');
      assert.deepEqual([listed.tasksStaged, listed.tasksRunning, listed.tasksHealthy, listed.tasksUnhealthy], [1, 1, 1, 0]);
      assert.deepEqual(listed.deployments, [{ id: 'd-1' }]);
      assert.equal('tasks' in listed, false);
      assert.equal('lastTaskFailure' in listed, false);

      const full = marathonApp(view, embedsOf(['apps.tasks', 'apps.lastTaskFailure'], []));
      assert.deepEqual(full.deployments, [{ id: 'd-1' }], 'apps.tasks brings the deployments along');
      const tasks = full.tasks as Array<Record<string, unknown>>;
      assert.deepEqual(tasks.map((t) => t.id), ['t-1', 't-2'], 'a task still waiting for an agent is in the queue, not listed');
      assert.deepEqual(full.lastTaskFailure, { appId: '/web', host: 'node-a', slaveId: 'a-1', message: 'exited with 1', state: 'TASK_FAILED', taskId: 't-0', timestamp: '2024-01-01T00:00:05.000Z', version: '2024-01-01T00:00:00.000Z' });
      assert.deepEqual(embedsOf(['apps.failures'], []), new Set(['lastTaskFailure', 'tasks', 'counts', 'deployments']));
    });
  });

  it('renders a task as Marathon\'s, its health check results once its check has a verdict', () => {
    const definition = parseAppDefinition({ id: '/web', cmd: 'serve', portDefinitions: [{ port: 10001 }], healthChecks: [{ protocol: 'HTTP', portIndex: 0, maxConsecutiveFailures: 3 }] });
    assert.deepEqual(marathonTask(task(), definition), {
      id: 't-1',
      appId: '/web',
      host: 'node-1',
      ports: [31001],
      servicePorts: [10001],
      slaveId: 'agent-1',
      state: 'TASK_RUNNING',
      stagedAt: '2024-01-01T00:00:02.000Z',
      startedAt: '2024-01-01T00:00:03.000Z',
      version: '2024-01-01T00:00:00.000Z',
      healthCheckResults: [{ alive: true, consecutiveFailures: 0, instanceId: 't-1', taskId: 't-1' }],
    });
    const sick = marathonTask(task({ health: 'unhealthy', probeMessage: 'GET /health: 500' }), definition);
    assert.deepEqual(sick.healthCheckResults, [{ alive: false, consecutiveFailures: 3, instanceId: 't-1', taskId: 't-1', lastFailureCause: 'GET /health: 500' }]);
    assert.equal(marathonTask(task({ killRequested: true }), definition).state, 'TASK_KILLING', 'asked to die: no more traffic');
    assert.equal(marathonTask(task({ killRequested: true, state: 'killed' }), definition).state, 'TASK_KILLED');
    const staging = marathonTask(task({ state: 'staging', startedAt: null, health: null }), definition);
    assert.equal(staging.state, 'TASK_STAGING');
    assert.equal('startedAt' in staging, false);
    assert.deepEqual(staging.healthCheckResults, []);
  });

  it('renders a deployment with its current actions and a step count from 1, and a queue item with its delay', () => {
    const view = {
      record: { id: 'd-1', currentStep: 0 },
      plan: { id: 'd-1', version: '2024-01-01T00:00:00.000Z', affectedApps: ['/web'], steps: [{ actions: [{ action: 'RestartApplication', app: '/web' }] }] },
      currentStep: { actions: [{ action: 'RestartApplication', app: '/web' }] },
    } as unknown as DeploymentView;
    assert.deepEqual(marathonDeployment(view), {
      id: 'd-1',
      version: '2024-01-01T00:00:00.000Z',
      affectedApps: ['/web'],
      affectedPods: [],
      steps: [{ actions: [{ action: 'RestartApplication', app: '/web' }] }],
      currentActions: [{ action: 'RestartApplication', app: '/web', readinessCheckResults: [] }],
      currentStep: 1,
      totalSteps: 1,
    });
    const item = marathonQueueItem({ appId: '/web', count: 2, delayMs: 1500, delayUntil: 0, waitingReasons: ['no agent has 64 GiB'], lastLaunchError: null }, null, '2024-01-01T00:00:00.000Z');
    assert.deepEqual(item, { app: { id: '/web' }, count: 2, role: '*', delay: { timeLeftSeconds: 2, overdue: false }, since: '2024-01-01T00:00:00.000Z', waitingReasons: ['no agent has 64 GiB'], lastLaunchError: null });
    assert.deepEqual((marathonQueueItem({ appId: '/web', count: 1, delayMs: 0, delayUntil: null, waitingReasons: [], lastLaunchError: null }, null, null) as { delay: unknown }).delay, { timeLeftSeconds: 0, overdue: true });
  });

  it('reads label selectors as Marathon does: existence, equality, sets, escapes, all of them at once', () => {
    const labels = { tier: 'frontend', environment: 'production', '!!!': '+++', deployed: 'eu' };
    const matches = (query: string) => matchesLabels(parseLabelSelectors(query), labels);
    assert.ok(matches('tier'));
    assert.ok(!matches('missing'));
    assert.ok(matches('environment==production'));
    assert.ok(matches('environment == production, tier != backend'));
    assert.ok(!matches('tier!=frontend'));
    assert.ok(!matches('missing!=x'), '!= needs the label to exist');
    assert.ok(matches('deployed in (us, eu)'));
    assert.ok(!matches('deployed notin (us, eu)'));
    assert.ok(matches('\\!\\!\\! in (\\-\\-\\-, \\+\\+\\+)'));
    assert.ok(matches('tier, environment==production, deployed in (eu)'));
    assert.ok(!matches('tier, environment==staging'));
    assert.throws(() => parseLabelSelectors('tier = x'), (err: Error) => err instanceof Invalid && /Can not parse label selector tier = x/.test(err.message));
    assert.throws(() => parseLabelSelectors('tier in (a'), Invalid);
    assert.throws(() => parseLabelSelectors('a b'), Invalid);
  });

  it('answers errors in Marathon\'s bodies; the admin guard\'s and unexpected failures are left to the house handler', () => {
    let invalid: unknown;
    try {
      parseAppDefinition({ id: '/web', cmd: 'x', instances: -1 });
    } catch (err) {
      invalid = err;
    }
    assert.ok(invalid instanceof AppDefinitionInvalid);
    assert.deepEqual(marathonErrorBody(invalid), { status: 422, body: { message: 'Object is not valid', details: [{ path: '/instances', errors: (invalid as AppDefinitionInvalid).problems[0]!.errors }] } });
    assert.deepEqual(marathonErrorBody(new Conflict('App is locked by one or more deployments.', { deployments: [{ id: 'd-1' }] })), {
      status: 409,
      body: { message: 'App is locked by one or more deployments.', deployments: [{ id: 'd-1' }] },
    });
    assert.deepEqual(marathonErrorBody(new NotFound("App '/x' does not exist")), { status: 404, body: { message: "App '/x' does not exist" } });
    assert.deepEqual(marathonErrorBody(Object.assign(new SyntaxError('Unexpected end of JSON input'), { status: 400 })), { status: 400, body: { message: 'Invalid JSON', details: 'Unexpected end of JSON input' } });
    assert.equal(marathonErrorBody(new Unauthorized()), null, 'the admin guard answers as on every route');
    assert.equal(marathonErrorBody(new Forbidden('this route needs a admin token')), null);
    assert.equal(marathonErrorBody(new Error('boom')), null);
  });
});
