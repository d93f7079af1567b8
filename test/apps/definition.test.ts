import assert from 'node:assert/strict';
import { APP_DEFAULTS, appPorts, parseAppDefinition, parseGroupDefinition, type AppDefinition } from '../../src/apps/index.ts';
import { basic0, basic3, bridgedWebapp, documentedGroup, documentedHealthChecks, documentedReadinessCheck, exportedWebapp, listedApp } from './marathon-apps.ts';
import { refused } from './refused.ts';

describe('apps: Marathon app JSON from its documentation', () => {
  it('reads basic-3 (Docker, bridge, one port mapping) unchanged, with Marathon\'s defaults', () => {
    const app = parseAppDefinition(basic3);
    assert.equal(app.id, '/basic-3', 'a relative id is read against the root group');
    assert.deepEqual(app.source, basic3, 'the definition is kept as given');
    assert.equal(app.cmd, 'python3 -m http.server 8080');
    assert.deepEqual([app.cpus, app.mem, app.disk, app.gpus, app.instances], [0.5, 32, 0, 0, 1]);
    assert.deepEqual(app.networks, [{ mode: 'container/bridge' }]);
    assert.deepEqual(app.container, {
      type: 'DOCKER',
      docker: { image: 'python:3', forcePullImage: false },
      portMappings: [{ containerPort: 8080, hostPort: 0, servicePort: 0, protocol: 'tcp', name: null, labels: {} }],
    });
    assert.deepEqual(app.portDefinitions, [], 'bridged apps have port mappings, not port definitions');
    assert.equal(app.requirePorts, false);
    assert.deepEqual([app.backoffSeconds, app.backoffFactor, app.maxLaunchDelaySeconds], [1, 1.15, 300]);
    assert.deepEqual(app.upgradeStrategy, { minimumHealthCapacity: 1, maximumOverCapacity: 1 });
    assert.equal(app.killSelection, 'YOUNGEST_FIRST');
    assert.deepEqual(app.unreachableStrategy, { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 });
    assert.equal(app.taskKillGracePeriodSeconds, null);
  });

  it('gives basic-0 (a shell loop, no container) the host network and one port of any number, named "default"', () => {
    const app = parseAppDefinition(basic0);
    assert.equal(app.container, null);
    assert.deepEqual(app.networks, [{ mode: 'host' }]);
    assert.deepEqual(app.portDefinitions, [{ port: 0, protocol: 'tcp', name: 'default', labels: {} }]);
    assert.deepEqual(appPorts(app), [{ name: 'default', protocol: 'tcp', hostPort: 0, containerPort: null }]);
    assert.deepEqual([app.cpus, app.mem], [0.1, 10]);
  });

  it('reads the bridged python http.server with its health check, filling the check\'s defaults', () => {
    const app = parseAppDefinition(bridgedWebapp);
    assert.equal(app.instances, 2);
    assert.equal(app.container?.portMappings.length, 2);
    assert.equal(app.container?.portMappings[1]?.protocol, 'udp');
    assert.deepEqual(app.healthChecks, [
      {
        protocol: 'HTTP',
        path: '/',
        portIndex: 0,
        port: null,
        command: null,
        gracePeriodSeconds: 5,
        intervalSeconds: 20,
        timeoutSeconds: 20,
        maxConsecutiveFailures: 3,
        delaySeconds: 15,
        ignoreHttp1xx: false,
      },
    ]);
  });

  it('reads each health check example of health-checks.md', () => {
    for (const [protocol, check] of Object.entries(documentedHealthChecks)) {
      const app = parseAppDefinition({ id: '/svc', cmd: 'serve', healthChecks: [check] });
      const read = app.healthChecks[0]!;
      assert.equal(read.protocol, protocol);
      if (protocol === 'COMMAND') {
        assert.equal(read.command, 'curl -f -X GET http://$HOST:$PORT0/health');
        assert.equal(read.portIndex, null);
      } else {
        assert.equal(read.portIndex, 0);
      }
      assert.equal(read.path, protocol.endsWith('HTTP') || protocol.endsWith('HTTPS') ? '/api/health' : null);
    }
  });

  it('gives a health check without a port index the app\'s first port, and the Marathon defaults', () => {
    const app = parseAppDefinition({ id: '/svc', cmd: 'serve', healthChecks: [{}] });
    assert.deepEqual(app.healthChecks[0], {
      protocol: 'HTTP',
      path: '/',
      portIndex: 0,
      port: null,
      command: null,
      gracePeriodSeconds: 300,
      intervalSeconds: 60,
      timeoutSeconds: 20,
      maxConsecutiveFailures: 3,
      delaySeconds: 15,
      ignoreHttp1xx: false,
    });
  });

  it('reads the readiness check of readiness-checks.md against a port named http-api, and fills its defaults', () => {
    const ports = { portDefinitions: [{ port: 0, name: 'http-api' }] };
    const app = parseAppDefinition({ id: '/svc', cmd: 'serve', ...ports, readinessChecks: [documentedReadinessCheck] });
    assert.deepEqual(app.readinessChecks, [documentedReadinessCheck]);
    const defaulted = parseAppDefinition({ id: '/svc', cmd: 'serve', ...ports, readinessChecks: [{}] });
    assert.deepEqual(defaulted.readinessChecks, [documentedReadinessCheck]);
  });
});

describe('apps: an app exported from Marathon posts back unchanged', () => {
  it('accepts and drops the read-only fields of GET /v2/apps/ID (tasks, counts, deployments, versions, failures)', () => {
    const app = parseAppDefinition(exportedWebapp);
    for (const field of ['tasks', 'tasksRunning', 'tasksHealthy', 'deployments', 'version', 'versionInfo', 'lastTaskFailure', 'taskStats']) {
      assert.ok(!(field in app.source), `${field} is not kept`);
    }
    const { tasks, tasksStaged, tasksRunning, tasksHealthy, tasksUnhealthy, deployments, version, versionInfo, lastTaskFailure, taskStats, ...definition } = exportedWebapp;
    assert.deepEqual(app.source, definition, 'the rest is kept as exported');
    assert.deepEqual(app, parseAppDefinition(definition), 'the same app as its definition alone');
    assert.equal(app.container?.portMappings[0]?.servicePort, 10000);
    assert.deepEqual(app.healthChecks[0]?.portIndex, 0);
  });

  it('reads the deprecated fields and nulls of an app listed by Marathon 1.0 (ports, null fields, an empty constraint value)', () => {
    const { uris, ...withoutUris } = listedApp;
    const app = parseAppDefinition(withoutUris);
    assert.equal(app.args, null);
    assert.equal(app.container, null);
    assert.deepEqual(
      app.portDefinitions.map((d) => d.port),
      [10013, 10015],
      '`ports` become port definitions (service ports: requirePorts is false)',
    );
    assert.deepEqual(appPorts(app).map((p) => p.hostPort), [0, 0], 'the host ports are any free ones');
    assert.deepEqual(app.constraints, [['hostname', 'UNIQUE']]);
    assert.equal(app.maxLaunchDelaySeconds, 3600, 'a value written is kept, even the old default');
    // The listed app downloads a file: refused, by name, with what to do instead.
    const problems = refused(() => parseAppDefinition(listedApp));
    assert.deepEqual(Object.keys(problems), ['/uris']);
    assert.match(problems['/uris']![0]!, /not downloaded into the sandbox.*image.*cmd/);
  });

  it('reads the deprecated docker.network and docker.portMappings as networks and container.portMappings', () => {
    const app = parseAppDefinition({
      id: '/registry',
      container: { type: 'DOCKER', docker: { image: 'registry', network: 'BRIDGE', portMappings: [{ containerPort: 0, hostPort: 5000, servicePort: 5000 }] } },
      ports: [5000],
    });
    assert.deepEqual(app.networks, [{ mode: 'container/bridge' }]);
    assert.deepEqual(app.container?.portMappings.map((m) => [m.containerPort, m.hostPort]), [[0, 5000]]);
    assert.deepEqual(app.portDefinitions, [], 'Marathon\'s exported service ports are dropped with bridge networking');
  });

  it('refuses Marathon\'s documented group only for what tasks may not have: a privileged container and host volumes', () => {
    const problems = refused(() => parseGroupDefinition(documentedGroup));
    assert.deepEqual(Object.keys(problems).sort(), [
      '/groups(0)/apps(1)/container/docker/privileged',
      '/groups(0)/apps(1)/container/volumes(0)',
      '/groups(0)/apps(1)/container/volumes(1)',
      '/groups(0)/apps(1)/container/volumes(2)',
      '/groups(0)/groups(1)/apps(0)/container/volumes(0)',
    ]);
    assert.match(problems['/groups(0)/apps(1)/container/docker/privileged']![0]!, /tasks run unprivileged/);
    assert.match(problems['/groups(0)/apps(1)/container/volumes(0)']![0]!, /host volumes are not supported/);
  });
});

describe('apps: ids and dependencies', () => {
  const app = (json: object, base?: string): AppDefinition => parseAppDefinition({ cmd: 'serve', ...json }, base ? { base } : {});

  it('resolves relative ids and dependencies against the group they are read in', () => {
    assert.equal(app({ id: 'web' }, '/prod').id, '/prod/web');
    assert.equal(app({ id: './web' }, '/prod').id, '/prod/web');
    assert.equal(app({ id: '../staging/web' }, '/prod').id, '/staging/web');
    assert.equal(app({ id: '/a//b/' }).id, '/a/b', 'empty segments are dropped, as Marathon does');
    assert.deepEqual(app({ id: 'web', dependencies: ['db', '../shared/cache', '/auth'] }, '/prod').dependencies, ['/prod/db', '/shared/cache', '/auth']);
  });

  it('takes the ids Marathon takes: digits, hyphens and dots between letters', () => {
    for (const id of ['/a', '/prod/web-1', '/v1.2/api', '/0/9x', '/my.app/v2.beta-1']) assert.equal(app({ id }).id, id);
  });

  it('accepts the app-level fields that mean "nothing asked" in exported apps', () => {
    const read = app({ id: '/x', executor: '//cmd', fetch: [], uris: [], secrets: {}, acceptedResourceRoles: ['*'], tty: false, role: 'slave_public' });
    assert.equal(read.id, '/x');
    assert.deepEqual(APP_DEFAULTS.upgradeStrategy, read.upgradeStrategy);
  });
});
