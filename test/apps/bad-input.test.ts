import assert from 'node:assert/strict';
import { AppDefinitionInvalid, parseAppDefinition } from '../../src/apps/index.ts';
import { Invalid } from '../../src/shared/errors.ts';
import { refused } from './refused.ts';

const ok = { id: '/prod/web', cmd: 'serve' };
const refusedApp = (json: unknown): Record<string, string[]> => refused(() => parseAppDefinition(json));

// [what, definition, the path named, what its error says]
const BAD: Array<[string, object, string, RegExp]> = [
  ['an upper-case id', { ...ok, id: '/prod/Web' }, '/id', /"Web" is not a valid id segment/],
  ['an underscore in an id', { ...ok, id: 'my_app' }, '/id', /"my_app" is not a valid id segment/],
  ['an id segment starting with a hyphen', { ...ok, id: '/-web' }, '/id', /"-web" is not a valid id segment/],
  ['an id segment ending with a dot', { ...ok, id: '/web.' }, '/id', /"web\." is not a valid id segment/],
  ['an id ending in a reserved word', { ...ok, id: '/prod/tasks' }, '/id', /reserved keywords: restart, tasks, versions/],
  ['the root as an app id', { ...ok, id: '/' }, '/id', /cannot be the root group/],
  ['an id going up to the root', { ...ok, id: '/prod/..' }, '/id', /reserved keywords/],
  ['no id', { cmd: 'serve' }, '/id', /required field is missing/],
  ['an id too long for a task owner', { ...ok, id: `/${'a'.repeat(150)}` }, '/id', /at most 150 characters/],
  ['an unknown field', { ...ok, instance: 2 }, '/instance', /unknown field "instance" \(did you mean "instances"\?\)/],
  ['an unknown nested field', { ...ok, container: { docker: { imgae: 'x', image: 'y' } } }, '/container/docker/imgae', /did you mean "image"/],
  ['negative instances', { ...ok, instances: -1 }, '/instances', /must be at least 0 \(got -1\)/],
  ['fractional instances', { ...ok, instances: 1.5 }, '/instances', /.+/],
  ['no memory', { ...ok, mem: 0 }, '/mem', /must be more than 0/],
  ['cmd and args together', { ...ok, args: ['serve', '--port', '80'] }, '/args', /"cmd".*or "args".*not both/],
  ['neither cmd, args nor an image', { id: '/x' }, '/cmd', /needs "cmd".*"args".*image/],
  ['a health check portIndex past the ports', { ...ok, healthChecks: [{ protocol: 'TCP', portIndex: 1 }] }, '/healthChecks(0)/portIndex', /port indices must address.*portIndex 1.*the app has 1 \(index 0\)/],
  ['a health check on an app without ports', { ...ok, portDefinitions: [], healthChecks: [{ protocol: 'HTTP' }] }, '/healthChecks(0)', /the app has no ports/],
  ['a negative portIndex', { ...ok, healthChecks: [{ portIndex: -1 }] }, '/healthChecks(0)/portIndex', /at least 0/],
  ['a COMMAND check without a command', { ...ok, healthChecks: [{ protocol: 'COMMAND' }] }, '/healthChecks(0)/command', /needs "command"/],
  ['a command on an HTTP check', { ...ok, healthChecks: [{ protocol: 'HTTP', command: { value: 'true' } }] }, '/healthChecks(0)/command', /only a COMMAND health check/],
  ['two Mesos health checks', { ...ok, portDefinitions: [{}, {}], healthChecks: [{ protocol: 'MESOS_HTTP' }, { protocol: 'MESOS_TCP', portIndex: 1 }] }, '/healthChecks', /at most one Mesos health check/],
  ['an unknown health check protocol', { ...ok, healthChecks: [{ protocol: 'GRPC' }] }, '/healthChecks(0)/protocol', /must be one of HTTP, HTTPS, TCP, COMMAND/],
  ['a readiness check on a port that has no such name', { ...ok, readinessChecks: [{ portName: 'http' }] }, '/readinessChecks(0)/portName', /No port definition reference for portName http \(the app's ports are named "default"\)/],
  ['a readiness timeout not under its interval', { ...ok, portDefinitions: [{ name: 'http-api' }], readinessChecks: [{ intervalSeconds: 5, timeoutSeconds: 5 }] }, '/readinessChecks(0)/timeoutSeconds', /less than intervalSeconds/],
  ['two readiness checks', { ...ok, portDefinitions: [{ name: 'http-api' }], readinessChecks: [{}, {}] }, '/readinessChecks', /at most one readiness check/],
  ['minimumHealthCapacity over 1', { ...ok, upgradeStrategy: { minimumHealthCapacity: 1.5 } }, '/upgradeStrategy/minimumHealthCapacity', /at most 1 \(got 1\.5\)/],
  ['maximumOverCapacity under 0', { ...ok, upgradeStrategy: { maximumOverCapacity: -0.1 } }, '/upgradeStrategy/maximumOverCapacity', /at least 0 \(got -0\.1\)/],
  ['backoffFactor under 1', { ...ok, backoffFactor: 0.5 }, '/backoffFactor', /at least 1/],
  ['an unknown killSelection', { ...ok, killSelection: 'RANDOM' }, '/killSelection', /YOUNGEST_FIRST, OLDEST_FIRST/],
  ['inactiveAfterSeconds over expungeAfterSeconds', { ...ok, unreachableStrategy: { inactiveAfterSeconds: 600, expungeAfterSeconds: 60 } }, '/unreachableStrategy/inactiveAfterSeconds', /less or equal to expungeAfterSeconds/],
  ['an unreachableStrategy word other than disabled', { ...ok, unreachableStrategy: 'never' }, '/unreachableStrategy', /.+/],
  ['an unknown constraint operator', { ...ok, constraints: [['hostname', 'NEAR']] }, '/constraints(0)', /unknown operator "NEAR"/],
  ['UNIQUE with a value', { ...ok, constraints: [['hostname', 'UNIQUE', 'x']] }, '/constraints(0)', /UNIQUE takes no value/],
  ['an environment variable name a shell cannot read', { ...ok, env: { 'MY-VAR': '1' } }, '/env/MY-VAR', /not a variable name/],
  ['a number as an environment value', { ...ok, env: { PORT: 8080 } }, '/env/PORT', /expected a string/],
  ['a duplicate port name', { ...ok, portDefinitions: [{ name: 'http' }, { name: 'http' }] }, '/portDefinitions(1)/name', /Port names must be unique/],
  ['a duplicate fixed port', { ...ok, portDefinitions: [{ port: 8080 }, { port: 8080 }] }, '/portDefinitions(1)/port', /Ports must be unique/],
  ['ports and portDefinitions that disagree', { ...ok, ports: [80], portDefinitions: [{ port: 81 }] }, '/ports', /cannot specify both ports and port definitions/],
  ['portMappings with host networking', { ...ok, container: { docker: { image: 'x' }, portMappings: [{ containerPort: 80 }] } }, '/container/portMappings', /not allowed with host networking/],
  ['portDefinitions with bridge networking', { ...ok, networks: [{ mode: 'container/bridge' }], container: { docker: { image: 'x' } }, portDefinitions: [{ port: 80 }] }, '/portDefinitions', /only allowed with host networking/],
  ['two networks', { ...ok, networks: [{ mode: 'host' }, { mode: 'container/bridge' }] }, '/networks', /one network/],
  ['docker.network beside networks', { ...ok, networks: [{ mode: 'host' }], container: { docker: { image: 'x', network: 'HOST' } } }, '/container/docker/network', /must not specify both/],
  ['a DOCKER container without an image', { ...ok, container: { type: 'DOCKER' } }, '/container/docker', /needs "docker"/],
  ['GPUs in a Docker container', { ...ok, gpus: 1, container: { docker: { image: 'x' } } }, '/gpus', /Mesos containerizer/],
  ['a single-instance app with two instances', { ...ok, instances: 2, labels: { MARATHON_SINGLE_INSTANCE_APP: 'true' }, upgradeStrategy: { minimumHealthCapacity: 0, maximumOverCapacity: 0 } }, '/instances', /Single instance app/],
  // Marathon reads a dependency of an app posted on its own against the root group, not the app's group.
  ['a dependency on itself', { ...ok, dependencies: ['prod/web'] }, '/dependencies(0)', /cannot depend on itself/],
  ['a kill grace period over the pool\'s hour', { ...ok, taskKillGracePeriodSeconds: 7200 }, '/taskKillGracePeriodSeconds', /at most 3600/],
  // Fields Gantry refuses, each with its reason.
  ['a privileged container', { ...ok, container: { docker: { image: 'x', privileged: true } } }, '/container/docker/privileged', /tasks run unprivileged/],
  ['docker parameters', { ...ok, container: { docker: { image: 'x', parameters: [{ key: 'cap-add', value: 'SYS_ADMIN' }] } } }, '/container/docker/parameters', /not passed to the engine/],
  ['a host volume', { ...ok, container: { docker: { image: 'x' }, volumes: [{ containerPath: '/data', hostPath: '/', mode: 'RW' }] } }, '/container/volumes(0)', /any path of its agent/],
  ['a persistent volume', { ...ok, container: { type: 'MESOS', volumes: [{ containerPath: 'data', persistent: { size: 100 }, mode: 'RW' }] } }, '/container/volumes(0)', /persistent volumes are not supported/],
  ['a secret in env', { ...ok, env: { PASSWORD: { secret: 'pw' } } }, '/env/PASSWORD', /secret reference is not supported/],
  ['secrets', { ...ok, secrets: { pw: { source: '/db/password' } } }, '/secrets', /no secret store for apps/],
  ['files to fetch', { ...ok, fetch: [{ uri: 'https://example.com/app.zip' }] }, '/fetch', /not downloaded into the sandbox/],
  ['a resource role', { ...ok, acceptedResourceRoles: ['slave_public'] }, '/acceptedResourceRoles', /constraint on an agent attribute/],
  ['a container network without a name', { ...ok, networks: [{ mode: 'container' }] }, '/networks(0)/name', /container network.*needs its "name"/],
  ['a network without a mode or name (Marathon\'s default is container)', { ...ok, networks: [{}] }, '/networks(0)/name', /the default when a network has no mode\) needs its "name"/],
  ['a container network name Docker refuses', { ...ok, networks: [{ mode: 'container', name: 'my net' }] }, '/networks(0)/name', /"my net": a container network's name is letters, digits, _ \. -/],
  ['one of Docker\'s own networks as a container network', { ...ok, networks: [{ mode: 'container', name: 'bridge' }] }, '/networks(0)/name', /one of Docker's own networks/],
  ['a name on a host network', { ...ok, networks: [{ mode: 'host', name: 'blue' }] }, '/networks(0)/name', /only a container network has a name/],
  ['networkNames naming another network', { ...ok, networks: [{ mode: 'container', name: 'blue' }], container: { docker: { image: 'x' }, portMappings: [{ containerPort: 80, networkNames: ['red'] }] } }, '/container/portMappings(0)/networkNames', /may only name it \("blue"\)/],
  ['docker network USER', { ...ok, container: { docker: { image: 'x', network: 'USER' } } }, '/container/docker/network', /"mode": "container", "name"/],
  ['docker network NONE', { ...ok, container: { docker: { image: 'x', network: 'NONE' } } }, '/container/docker/network', /NONE/],
  ['ipAddress', { ...ok, ipAddress: { networkName: 'dcos' } }, '/ipAddress', /replaced by "networks"/],
  ['residency', { ...ok, residency: { taskLostBehavior: 'WAIT_FOREVER' } }, '/residency', /persistent volumes/],
  ['a custom executor', { ...ok, executor: '/opt/my-executor' }, '/executor', /custom Mesos executors/],
  ['a tty', { ...ok, tty: true }, '/tty', /pseudo-terminal/],
  ['an IPv6 health check', { ...ok, healthChecks: [{ protocol: 'MESOS_HTTP', ipProtocol: 'IPv6' }] }, '/healthChecks(0)/ipProtocol', /IPv4/],
  ['Mesos checks', { ...ok, check: { http: { portIndex: 0 } } }, '/check', /use healthChecks or readinessChecks/],
];

describe('apps: bad definitions are refused, naming the field', () => {
  for (const [what, json, path, message] of BAD) {
    it(`refuses ${what}`, () => {
      const problems = refusedApp(json);
      assert.ok(problems[path], `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
      assert.ok(
        problems[path].some((error) => message.test(error)),
        `${path}: ${JSON.stringify(problems[path])} does not match ${message}`,
      );
    });
  }

  it('lists every problem of a definition in one answer, fields with problems hiding no other', () => {
    const problems = refusedApp({ id: 'Bad', cmd: 'a', args: ['b'], instances: -1, comand: 'x', upgradeStrategy: { minimumHealthCapacity: 2 }, healthChecks: [{ portIndex: 3 }] });
    assert.deepEqual(Object.keys(problems).sort(), ['/args', '/comand', '/healthChecks(0)/portIndex', '/id', '/instances', '/upgradeStrategy/minimumHealthCapacity']);
  });

  it('does not judge a health check\'s port while the ports themselves have problems', () => {
    const problems = refusedApp({ ...ok, portDefinitions: [{ protocol: 'sctp' }, {}], healthChecks: [{ portIndex: 1 }] });
    assert.deepEqual(Object.keys(problems), ['/portDefinitions(0)/protocol']);
  });

  it('refuses what is not an object', () => {
    assert.match(refusedApp([ok])['/']![0]!, /an app definition is a JSON object \(got a list\)/);
    assert.match(refusedApp('web')['/']![0]!, /got string/);
  });

  it('throws one Invalid (a 400 on /api/v1) that renders Marathon\'s 422 body for /v2', () => {
    try {
      parseAppDefinition({ id: '/prod/Web', cmd: 'x', instances: -2 });
      assert.fail('refused');
    } catch (err) {
      assert.ok(err instanceof Invalid);
      assert.equal((err as Invalid).status, 400);
      assert.equal((err as Invalid).code, 'invalid');
      assert.match(err.message, /^invalid app "\/prod\/Web": \/instances: must be at least 0 \(got -2\); \/id: "Web" is not a valid id segment/);
      assert.deepEqual((err as AppDefinitionInvalid).marathonBody(), {
        message: 'Object is not valid',
        details: [
          { path: '/instances', errors: ['must be at least 0 (got -2)'] },
          { path: '/id', errors: [(err as AppDefinitionInvalid).problems.find((p) => p.path === '/id')!.errors[0]!] },
        ],
      });
      assert.deepEqual((err as Invalid).details, { problems: (err as AppDefinitionInvalid).problems });
    }
  });
});
