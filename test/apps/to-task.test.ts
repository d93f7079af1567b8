import assert from 'node:assert/strict';
import {
  AppDefinitionInvalid,
  appOwnerPrefix,
  groupOwnerPrefix,
  instanceOwner,
  parseAppDefinition,
  poolGaps,
  taskForInstance,
  type AppDefinition,
} from '../../src/apps/index.ts';
import { parseOwner, parseTaskSpec } from '../../src/cluster/index.ts';
import { Invalid } from '../../src/shared/errors.ts';
import { basic3, bridgedWebapp, documentedHealthChecks, exportedWebapp } from './marathon-apps.ts';

const app = (json: object): AppDefinition => parseAppDefinition({ id: '/prod/web', cmd: 'serve --port $PORT0', ...json });
const instance = { instanceId: 'i-1', version: '2026-03-01T12:00:00.000Z' };

/** The spec the pool makes of an instance's submission (what clusterClient.submit stores). */
function specOf(definition: AppDefinition) {
  const { owner, submission } = taskForInstance(definition, instance);
  return parseTaskSpec({ ...submission, owner }, owner);
}

/** What the pool cannot run of an app, by Marathon path. */
function gaps(definition: AppDefinition): Record<string, string[]> {
  return Object.fromEntries(poolGaps(definition).map((p) => [p.path, p.errors]));
}

describe('apps: an instance as the pool\'s task', () => {
  it('submits a shell app with its resources, one port of any number, constraints, a spread over agents and its kill grace period', () => {
    const definition = app({ cpus: 0.5, mem: 256, disk: 100, constraints: [['hostname', 'UNIQUE'], ['rack', 'GROUP_BY', '2']], taskKillGracePeriodSeconds: 30, user: 'web' });
    const { owner, submission, notApplied } = taskForInstance(definition, instance);
    assert.equal(owner, 'app:/prod/web:i-1');
    const spec = parseTaskSpec({ ...submission, owner }, owner);
    assert.equal(spec.name, '/prod/web');
    assert.equal(spec.cmd, 'serve --port $PORT0');
    assert.deepEqual([spec.cpus, spec.mem, spec.disk, spec.gpus], [0.5, 256, 100, 0]);
    assert.deepEqual(spec.ports, [0]);
    assert.equal(spec.group, 'app:/prod/web', 'UNIQUE and GROUP_BY count this app\'s instances');
    assert.equal(spec.spreadGroup, true);
    assert.deepEqual(spec.constraints, [{ field: 'hostname', operator: 'UNIQUE' }, { field: 'rack', operator: 'GROUP_BY', value: '2' }]);
    assert.equal(spec.killGraceMs, 30_000);
    assert.equal(spec.user, 'web');
    assert.equal(spec.image, undefined, 'no container: the exec driver');
    assert.deepEqual(notApplied, []);
  });

  it('gives the task Marathon\'s variables, the app\'s own winning as in Marathon', () => {
    const definition = app({ cpus: 0.5, mem: 128, labels: { 'team.name': 'shop', tier: 'front' }, env: { MARATHON_APP_ID: 'mine', LOG_LEVEL: 'debug' } });
    const env = specOf(definition).env;
    assert.equal(env.LOG_LEVEL, 'debug');
    assert.equal(env.MARATHON_APP_ID, 'mine');
    assert.equal(env.MARATHON_APP_VERSION, '2026-03-01T12:00:00.000Z');
    assert.equal(env.MARATHON_APP_RESOURCE_CPUS, '0.5');
    assert.equal(env.MARATHON_APP_RESOURCE_MEM, '128.0', 'printed as Scala prints a Double');
    assert.equal(env.MARATHON_APP_RESOURCE_GPUS, '0');
    assert.equal(env.MARATHON_APP_LABELS, 'TEAM_NAME TIER');
    assert.equal(env.MARATHON_APP_LABEL_TEAM_NAME, 'shop');
    assert.equal(env.GANTRY_APP_ID, '/prod/web');
    assert.equal(env.GANTRY_APP_INSTANCE, 'i-1');
  });

  it('asks for fixed host ports with requirePorts, and any free ones without (the numbers are then service ports)', () => {
    const ports = [{ port: 8080, name: 'http' }, { port: 8443, name: 'https' }];
    assert.deepEqual(specOf(app({ portDefinitions: ports, requirePorts: true })).ports, [8080, 8443]);
    const { submission, notApplied } = taskForInstance(app({ portDefinitions: ports }), instance);
    assert.deepEqual(submission.ports, [0, 0]);
    assert.ok(!notApplied.some((line) => /service port/.test(line)), 'service ports are discovery\'s: nothing the task lacks');
    assert.deepEqual(submission.portNames, ['http', 'https'], 'the pool sets PORT_HTTP and PORT_HTTPS from them');
    assert.equal(specOf(app({ portDefinitions: [] })).ports.length, 0);
  });

  it('turns a health check into the pool\'s health probe on the same port, in milliseconds', () => {
    const spec = specOf(app({ portDefinitions: [{}, {}], healthChecks: [{ ...documentedHealthChecks.HTTP, portIndex: 1 }] }));
    assert.deepEqual(spec.health, { kind: 'http', path: '/api/health', portIndex: 1, gracePeriodMs: 300_000, intervalMs: 60_000, timeoutMs: 20_000, consecutiveFailures: 3 });
  });

  it('maps TCP, MESOS_HTTP and COMMAND checks; a Mesos-level check waits its delay; maxConsecutiveFailures 0 still probes', () => {
    assert.deepEqual(specOf(app({ healthChecks: [documentedHealthChecks.TCP] })).health, { kind: 'tcp', portIndex: 0, gracePeriodMs: 300_000, intervalMs: 60_000, timeoutMs: 20_000, consecutiveFailures: 1 });
    const mesos = specOf(app({ healthChecks: [{ protocol: 'MESOS_HTTP', gracePeriodSeconds: 0, delaySeconds: 15 }] })).health;
    assert.equal(mesos?.kind, 'http');
    assert.equal(mesos?.gracePeriodMs, 15_000);
    const command = specOf(app({ healthChecks: [documentedHealthChecks.COMMAND] })).health;
    assert.deepEqual([command?.kind, command?.command], ['command', 'curl -f -X GET http://$HOST:$PORT0/health']);
  });

  it('cuts a health check timeout longer than its interval to the interval, and says so', () => {
    const definition = app({ healthChecks: [{ intervalSeconds: 10 }] });
    const { submission, notApplied } = taskForInstance(definition, instance);
    assert.equal(submission.health?.timeoutMs, 10_000);
    assert.match(notApplied.join('\n'), /timeoutSeconds 20: cut to intervalSeconds \(10\)/);
  });

  it('turns a readiness check into the readiness probe on the port it names', () => {
    const spec = specOf(app({ portDefinitions: [{ name: 'admin' }, { name: 'http-api' }], readinessChecks: [{ path: 'ready', intervalSeconds: 5, timeoutSeconds: 2 }] }));
    assert.deepEqual(spec.readiness, { kind: 'http', portIndex: 1, path: '/ready', statuses: [200], gracePeriodMs: 0, intervalMs: 5000, timeoutMs: 2000, consecutiveFailures: 1 });
  });

  it('runs a Docker app on its image with bridge networking when its container port is its host port', () => {
    const spec = specOf(parseAppDefinition(exportedWebapp));
    assert.equal(spec.image, 'python:3');
    assert.equal(spec.network, 'bridge');
    assert.deepEqual(spec.ports, [0]);
    assert.equal(spec.health?.kind, 'http');
    assert.equal(spec.env.MARATHON_APP_DOCKER_IMAGE, 'python:3');
    const fixed = specOf(app({ networks: [{ mode: 'container/bridge' }], container: { docker: { image: 'nginx', forcePullImage: true }, portMappings: [{ containerPort: 80, hostPort: 80 }] } }));
    assert.deepEqual([fixed.ports, fixed.forcePull], [[80], true]);
    const host = specOf(app({ container: { docker: { image: 'nginx' } } }));
    assert.equal(host.network, 'host');
  });

  it('places with or away from another app\'s instances: WITH and WITHOUT name the app, the pool its task group', () => {
    const spec = specOf(app({ constraints: [['hostname', 'WITH', '/prod/db'], ['rack', 'WITHOUT', '/prod/cache'], ['zone', 'IS', 'west']] }));
    assert.deepEqual(spec.constraints.map((c) => [c.field, c.operator, c.value]), [['hostname', 'WITH', 'app:/prod/db'], ['rack', 'WITHOUT', 'app:/prod/cache'], ['zone', 'IS', 'west']]);
  });

  it('runs an image\'s own command when the app gives none, and args as its entrypoint\'s arguments', () => {
    const own = taskForInstance(parseAppDefinition({ id: '/nginx', container: { docker: { image: 'nginx' } } }), instance).submission;
    assert.deepEqual([own.cmd, own.args, own.image], [undefined, undefined, 'nginx']);
    const args = taskForInstance(parseAppDefinition({ id: '/redis', args: ['--port', '7000'], container: { docker: { image: 'redis' } } }), instance).submission;
    assert.deepEqual(args.args, ['--port', '7000']);
  });
});

describe('apps: what the pool cannot run yet is refused, by field', () => {
  it('runs basic-3: its container port 8080 is published on the host port the pool allocates', () => {
    assert.deepEqual(gaps(parseAppDefinition(basic3)), {});
    const spec = specOf(parseAppDefinition(basic3));
    assert.deepEqual([spec.ports, spec.containerPorts], [[0], [8080]]);
  });

  it('refuses a UDP port mapping: the Docker driver publishes TCP only', () => {
    assert.match(gaps(parseAppDefinition(bridgedWebapp))['/container/portMappings(1)/protocol']![0]!, /udp: .*TCP ports only/);
  });

  it('runs HTTPS checks as HTTPS probes and a Docker app\'s command check inside its container', () => {
    assert.equal(specOf(app({ healthChecks: [documentedHealthChecks.HTTPS] })).health?.kind, 'https');
    assert.equal(specOf(app({ portDefinitions: [{ name: 'http-api' }], readinessChecks: [{ protocol: 'HTTPS' }] })).readiness?.kind, 'https');
    const inContainer = specOf(app({ container: { docker: { image: 'x' } }, healthChecks: [documentedHealthChecks.COMMAND] }));
    assert.deepEqual([inContainer.image, inContainer.health?.kind], ['x', 'command']);
  });

  it('refuses two health checks and a check on a port the app does not have', () => {
    assert.match(gaps(app({ healthChecks: [{ protocol: 'TCP' }, { protocol: 'HTTP' }] }))['/healthChecks']![0]!, /one health probe per task/);
    assert.match(gaps(app({ healthChecks: [{ protocol: 'TCP', port: 9090 }] }))['/healthChecks(0)/port']![0]!, /9090 is not a fixed host port of the app/);
  });

  it('probes a check\'s fixed port when it is one of the app\'s fixed ports', () => {
    const spec = specOf(app({ requirePorts: true, portDefinitions: [{ port: 8080 }, { port: 9090 }], healthChecks: [{ protocol: 'TCP', port: 9090 }] }));
    assert.equal(spec.health?.portIndex, 1);
  });

  it('counts as ready exactly the statuses a readiness check names', () => {
    const spec = specOf(app({ portDefinitions: [{ name: 'http-api' }], readinessChecks: [{ httpStatusCodesForReady: [200, 503] }] }));
    assert.deepEqual(spec.readiness?.statuses, [200, 503]);
  });

  it('refuses bridge networking without an image: a task without one runs on its agent\'s network', () => {
    assert.match(gaps(app({ networks: [{ mode: 'container/bridge' }] }))['/networks(0)/mode']![0]!, /needs a Docker image/);
  });

  it('reports what the pool\'s own task validation refuses', () => {
    const problems = gaps(app({ user: 'not a user' }));
    assert.match(problems['/']![0]!, /^the pool refuses its tasks: .*user/);
  });

  it('finds nothing to refuse in the documented apps it can run', () => {
    assert.deepEqual(poolGaps(parseAppDefinition(exportedWebapp)), []);
    assert.deepEqual(poolGaps(app({ healthChecks: [documentedHealthChecks.MESOS_HTTP] })), []);
  });
});

describe('apps: task owners', () => {
  it('owns an instance\'s tasks as app:<id>:<instance>, listed by app or by group', () => {
    const owner = instanceOwner('/prod/web', 'i-7');
    assert.equal(owner, 'app:/prod/web:i-7');
    assert.deepEqual(parseOwner(owner), { kind: 'app', parts: ['/prod/web', 'i-7'] });
    assert.ok(owner.startsWith(appOwnerPrefix('/prod/web')));
    assert.ok(!instanceOwner('/prod/web2', 'i-1').startsWith(appOwnerPrefix('/prod/web')), 'another app with a longer name is not listed');
    assert.ok(owner.startsWith(groupOwnerPrefix('/prod')));
    assert.ok(!instanceOwner('/production/web', 'i-1').startsWith(groupOwnerPrefix('/prod')), 'nor a group whose name only starts the same');
    assert.ok(owner.startsWith(groupOwnerPrefix('/')));
  });

  it('refuses an instance id the owner format cannot hold', () => {
    assert.throws(() => instanceOwner('/prod/web', 'a:b'), Invalid);
    assert.throws(() => instanceOwner(`/${'a'.repeat(150)}`, 'x'.repeat(60)), /longer than 200 characters/);
  });
});
