// Apps on a container network (`networks: [{mode: "container", name}]`, Marathon's IP per task): read
// into the canonical form with Marathon's rules for its port mappings (no hostPort asked: none outside
// the agent), rendered back the same on /v2, and run as tasks on the pool's network of that name with
// their container ports mapped; a task's address shows in Marathon's task JSON.
import assert from 'node:assert/strict';
import { parseAppDefinition, poolGaps, taskForInstance, type AppDefinition } from '../../src/apps/index.ts';
import { parseTaskSpec, type TaskRecord } from '../../src/cluster/index.ts';
import { marathonDefinition, marathonTask } from '../../src/server/routes/marathon/json.ts';

const web = (json: object = {}): Record<string, unknown> => ({
  id: '/prod/web',
  container: { type: 'DOCKER', docker: { image: 'web:1' }, portMappings: [{ containerPort: 8080, name: 'http' }, { containerPort: 9090, hostPort: 0, name: 'admin' }] },
  networks: [{ mode: 'container', name: 'blue' }],
  ...json,
});

function specOf(definition: AppDefinition) {
  const { owner, submission } = taskForInstance(definition, { instanceId: 'i-1' });
  return parseTaskSpec({ ...submission, owner }, owner);
}

describe('apps: container networks', () => {
  it('reads a container network with its name, and port mappings without a hostPort as asking for none', () => {
    const app = parseAppDefinition(web());
    assert.deepEqual(app.networks, [{ mode: 'container', name: 'blue' }]);
    assert.deepEqual(app.portDefinitions, []);
    assert.equal(app.requirePorts, false);
    assert.deepEqual(app.container!.portMappings.map((m) => [m.containerPort, m.hostPort, m.name]), [[8080, null, 'http'], [9090, 0, 'admin']]);
    // Marathon's default mode is container: a network with only a name is one.
    assert.deepEqual(parseAppDefinition(web({ networks: [{ name: 'blue' }] })).networks, [{ mode: 'container', name: 'blue' }]);
    // Without port mappings, Marathon's default one (no host port on a container network).
    const bare = parseAppDefinition(web({ container: { docker: { image: 'web:1' } } }));
    assert.deepEqual(bare.container!.portMappings.map((m) => [m.containerPort, m.hostPort, m.name]), [[0, null, 'default']]);
    // networkNames naming the app's one network, as Marathon exports write them.
    const named = parseAppDefinition(web({ container: { docker: { image: 'web:1' }, portMappings: [{ containerPort: 80, hostPort: 0, networkNames: ['blue'] }] } }));
    assert.equal(named.container!.portMappings[0]!.containerPort, 80);
  });

  it('names only the network when its name is refused, not the port mappings that follow from it', () => {
    assert.throws(
      () => parseAppDefinition(web({ networks: [{ mode: 'container', name: 'my net' }] })),
      (err: { problems: Array<{ path: string; errors: string[] }> }) => {
        assert.deepEqual(err.problems.map((p) => p.path), ['/networks(0)/name']);
        assert.match(err.problems[0]!.errors[0]!, /"my net": a container network's name is letters, digits/);
        return true;
      },
    );
  });

  it('renders it on /v2 as Marathon does, so that it posts back the same', () => {
    const app = parseAppDefinition(web({ container: { type: 'DOCKER', docker: { image: 'web:1' }, portMappings: [{ containerPort: 8080, servicePort: 10080, name: 'http' }, { containerPort: 9090, hostPort: 31000 }] } }));
    const rendered = marathonDefinition(app);
    assert.deepEqual(rendered.networks, [{ mode: 'container', name: 'blue' }]);
    const mappings = (rendered.container as { portMappings: Array<Record<string, unknown>> }).portMappings;
    assert.equal('hostPort' in mappings[0]!, false, 'none asked: none written');
    assert.equal(mappings[1]!.hostPort, 31000);
    assert.equal('portDefinitions' in rendered, false);
    const again = parseAppDefinition(rendered);
    assert.deepEqual({ ...again, source: {} }, { ...app, source: {} });
  });

  it('runs each instance on the pool\'s network of that name, its container ports mapped, the unasked host ports on the loopback', () => {
    const spec = specOf(parseAppDefinition(web()));
    assert.equal(spec.network, 'blue');
    assert.deepEqual(spec.ports, [0, 0]);
    assert.deepEqual(spec.containerPorts, [8080, 9090]);
    assert.deepEqual(spec.loopbackPorts, [true, false]);
    assert.deepEqual(spec.portNames, ['http', 'admin']);
    assert.deepEqual(poolGaps(parseAppDefinition(web())), []);
    // Health checks still name a port by index: the agent probes its host port, on the loopback.
    const checked = specOf(parseAppDefinition(web({ healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0 }] })));
    assert.equal(checked.health?.portIndex, 0);
    // A fixed host port is the app's on every address, as on bridge.
    const fixed = specOf(parseAppDefinition(web({ container: { docker: { image: 'web:1' }, portMappings: [{ containerPort: 80, hostPort: 31080 }] } })));
    assert.deepEqual([fixed.ports, fixed.loopbackPorts], [[31080], undefined]);
  });

  it('needs an image: a task without one runs on its agent\'s network', () => {
    const gaps = poolGaps(parseAppDefinition({ id: '/prod/web', cmd: 'serve', networks: [{ mode: 'container', name: 'blue' }] }));
    assert.deepEqual(gaps.map((g) => g.path), ['/networks(0)/mode']);
    assert.match(gaps[0]!.errors[0]!, /container networking needs a Docker image/);
  });

  it('shows a task\'s address on its container network in Marathon\'s task JSON', () => {
    const app = parseAppDefinition(web());
    const task = { id: 't-1', spec: { env: {} }, state: 'running', agentId: 'a-1', allocation: { host: 'node-1', ports: [31001, 31002] }, createdAt: '2026-01-01T00:00:00.000Z', stagedAt: null, startedAt: null, killRequested: false, health: null, address: '172.18.0.2' } as unknown as TaskRecord;
    assert.deepEqual(marathonTask(task, app).ipAddresses, [{ ipAddress: '172.18.0.2', protocol: 'IPv4' }]);
    assert.equal('ipAddresses' in marathonTask({ ...task, address: null }, app), false);
  });
});
