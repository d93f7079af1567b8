import assert from 'node:assert/strict';
import { AppDefinitionInvalid, parseAppDefinition, parseAppYaml, parseDeployFile, parseGroupYaml } from '../../src/apps/index.ts';
import { bridgedWebapp } from './marathon-apps.ts';

/** The error's lines, as `gantry apps deploy` prints them. */
function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppDefinitionInvalid, `expected AppDefinitionInvalid, got ${String(err)}`);
    return err.message.split('\n').slice(1);
  }
  assert.fail('expected a refusal');
}

const webYaml = `# the bridged web app of native-docker.md
id: bridged-webapp
cmd: python3 -m http.server 8080
cpus: 0.5
mem: 64.0
instances: 2
networks:
  - mode: container/bridge
container:
  type: DOCKER
  docker:
    image: python:3
  portMappings:
    - { containerPort: 8080, hostPort: 0, servicePort: 9000, protocol: tcp }
    - { containerPort: 161, hostPort: 0, protocol: udp }
healthChecks:
  - protocol: HTTP
    portIndex: 0
    path: /
    gracePeriodSeconds: 5
    intervalSeconds: 20
    maxConsecutiveFailures: 3
`;

describe('apps: definitions in YAML', () => {
  it('reads an app written in YAML as the same app as its JSON', () => {
    const fromYaml = parseAppYaml(webYaml);
    const fromJson = parseAppDefinition(bridgedWebapp);
    assert.deepEqual({ ...fromYaml, source: null }, { ...fromJson, source: null });
  });

  it('reads Marathon JSON text too (JSON is YAML)', () => {
    assert.equal(parseAppYaml(JSON.stringify(bridgedWebapp, null, 2)).id, '/bridged-webapp');
  });

  it('names the line of each problem, in file order', () => {
    const text = ['id: web', 'cmd: serve', 'instances: -2', 'healthChecks:', '  - protocol: TCP', '    portIndex: 4', 'containr: {}', ''].join('\n');
    assert.deepEqual(errorLines(() => parseAppYaml(text, { file: 'web.yml' })), [
      'web.yml:3: /instances: must be at least 0 (got -2)',
      'web.yml:6: /healthChecks(0)/portIndex: Health check port indices must address an element of the ports array or container port mappings: portIndex 4: the app has 1 (index 0)',
      'web.yml:7: /containr: unknown field "containr" (did you mean "container"?)',
    ]);
  });

  it('keeps the line in the error\'s problems for the CLI and the API', () => {
    try {
      parseAppYaml('id: web\ncmd: serve\nmem: 0\n', { file: 'web.yml' });
      assert.fail('refused');
    } catch (err) {
      assert.ok(err instanceof AppDefinitionInvalid);
      assert.deepEqual(err.problems, [{ path: '/mem', errors: ['must be more than 0 (got 0)'], line: 3 }]);
    }
  });

  it('names the line of a YAML syntax error', () => {
    const lines = errorLines(() => parseAppYaml('id: web\ncmd: serve\nenv:\n  A: 1\n   B: 2\n', { file: 'web.yml' }));
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, /^web\.yml:4: \/: invalid YAML: \w/, 'the yaml library places it at the mapping that B breaks');
    assert.deepEqual(errorLines(() => parseAppYaml('id: web\ncmd: [serve\nmem: 3\n', { file: 'web.yml' })), [
      'web.yml:3: /: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('says how to deploy several apps from one file when it holds several documents', () => {
    const lines = errorLines(() => parseAppYaml('id: a\ncmd: x\n---\nid: b\ncmd: y\n', { file: 'apps.yml' }));
    assert.match(lines[0]!, /^apps\.yml:3: \/: invalid YAML: the file holds more than one YAML document \(---\): .*a group \("apps": \[\.\.\.\]\)/);
  });

  it('reads anchors and merge keys, with x- fields left alone, for settings shared between apps', () => {
    const text = `
id: /shop
x-small: &small
  cpus: 0.25
  mem: 128
apps:
  - { <<: *small, id: web, cmd: serve }
  - { <<: *small, id: worker, cmd: work, instances: 3 }
`;
    const group = parseGroupYaml(text);
    assert.deepEqual(group.apps.map((a) => [a.id, a.cpus, a.mem, a.instances]), [['/shop/web', 0.25, 128, 1], ['/shop/worker', 0.25, 128, 3]]);
  });

  it('tells a group file from an app file', () => {
    const asGroup = parseDeployFile('id: /shop\napps:\n  - id: web\n    cmd: serve\n');
    assert.equal(asGroup.kind, 'group');
    const asApp = parseDeployFile(webYaml);
    assert.equal(asApp.kind, 'app');
  });

  it('names the line of a problem deep in a group file', () => {
    const text = ['id: /shop', 'apps:', '  - id: db', '    cmd: postgres', '  - id: web', '    cmd: serve', '    dependencies: [cache]', ''].join('\n');
    assert.deepEqual(errorLines(() => parseDeployFile(text, { file: 'shop.yml' })), [
      'shop.yml:7: /apps(1)/dependencies(0): unknown app or group /shop/cache ("cache" read in /shop): not in this definition and not deployed',
    ]);
  });
});
