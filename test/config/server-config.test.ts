import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadServerConfig, parseNameList } from '../../src/config/server-config.ts';
import { parseListenAddress } from '../../src/config/listen-address.ts';
import { tempDir } from '../helpers/processes.ts';

describe('server configuration', () => {
  it('has embedded defaults: ./data, 127.0.0.1:7070, registry on 127.0.0.1:5000, SQLite, a local agent', () => {
    const config = loadServerConfig({ env: {}, flags: {} });
    assert.equal(config.dataDir, path.resolve('./data'));
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 7070 });
    assert.deepEqual(config.registryListen, { host: '127.0.0.1', port: 5000 });
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.localAgent, true);
    assert.equal(config.placement.strategy, 'binpack');
  });

  it('layers file < GANTRY_* environment < flags', () => {
    const dir = tempDir('config');
    const file = path.join(dir, 'gantry.yml');
    writeFileSync(file, 'listen: 127.0.0.1:1111\ndataDir: /from-file\nplacement:\n  strategy: spread\nagent:\n  attributes: rack:r1\n');
    const fileOnly = loadServerConfig({ file, env: {}, flags: {} });
    assert.equal(fileOnly.listen.port, 1111);
    assert.equal(fileOnly.placement.strategy, 'spread');
    assert.equal(fileOnly.agent.attributes, 'rack:r1');
    const withEnv = loadServerConfig({ file, env: { GANTRY_LISTEN: '127.0.0.1:2222', GANTRY_DATA_DIR: '/from-env' }, flags: {} });
    assert.equal(withEnv.listen.port, 2222);
    assert.equal(withEnv.dataDir, '/from-env');
    const withFlags = loadServerConfig({ file, env: { GANTRY_LISTEN: '127.0.0.1:2222' }, flags: { listen: '127.0.0.1:3333', agent: { hostname: 'n1' } } });
    assert.equal(withFlags.listen.port, 3333);
    assert.equal(withFlags.agent.hostname, 'n1');
    assert.equal(withFlags.agent.attributes, 'rack:r1', 'nested settings merge rather than replace');
  });

  it('leaves tasks running on stop unless told to drain (file, GANTRY_DRAIN_ON_STOP, --drain-on-stop)', () => {
    assert.equal(loadServerConfig({ env: {}, flags: {} }).drainOnStop, false);
    for (const [value, expected] of [['1', true], ['true', true], ['on', true], ['0', false], ['false', false], ['', false]] as const) {
      assert.equal(loadServerConfig({ env: { GANTRY_DRAIN_ON_STOP: value }, flags: {} }).drainOnStop, expected, `GANTRY_DRAIN_ON_STOP=${value}`);
    }
    assert.equal(loadServerConfig({ env: { GANTRY_DRAIN_ON_STOP: '0' }, flags: { drainOnStop: true } }).drainOnStop, true);
    assert.throws(() => loadServerConfig({ env: { GANTRY_DRAIN_ON_STOP: 'maybe' }, flags: {} }), /GANTRY_DRAIN_ON_STOP: "maybe" is not on or off/);
  });

  it('takes the embedded agent\'s task users from the file, GANTRY_TASK_USERS or --agent-task-users, checking the names', () => {
    assert.deepEqual(loadServerConfig({ env: {}, flags: {} }).agent.taskUsers, [], 'none: gantry-task as root');
    const dir = tempDir('config');
    const file = path.join(dir, 'gantry.yml');
    writeFileSync(file, 'agent:\n  taskUsers: [gantry-task, ci-docker]\n');
    assert.deepEqual(loadServerConfig({ file, env: {}, flags: {} }).agent.taskUsers, ['gantry-task', 'ci-docker']);
    assert.deepEqual(loadServerConfig({ file, env: { GANTRY_TASK_USERS: 'builder, root' }, flags: {} }).agent.taskUsers, ['builder', 'root']);
    assert.deepEqual(loadServerConfig({ file, env: { GANTRY_TASK_USERS: 'builder' }, flags: { agent: { taskUsers: parseNameList('x,y') } } }).agent.taskUsers, ['x', 'y']);
    assert.throws(() => loadServerConfig({ env: { GANTRY_TASK_USERS: 'ok,not ok' }, flags: {} }), /invalid configuration: agent\.taskUsers\.1: a user name is letters/);
  });

  it('reads the config file from GANTRY_CONFIG', () => {
    const dir = tempDir('config');
    const file = path.join(dir, 'gantry.json');
    writeFileSync(file, JSON.stringify({ heartbeatTimeoutMs: 5000 }));
    assert.equal(loadServerConfig({ env: { GANTRY_CONFIG: file }, flags: {} }).heartbeatTimeoutMs, 5000);
  });

  it('takes the registry external URL from the file, GANTRY_REGISTRY_EXTERNAL_URL or a flag, keeping the reserves', () => {
    const file = path.join(tempDir('config'), 'gantry.yml');
    writeFileSync(file, 'registry:\n  minFreeInodes: 50\n  externalUrl: https://file.example\n');
    assert.equal(loadServerConfig({ file, env: {}, flags: {} }).registry.externalUrl, 'https://file.example');
    const fromEnv = loadServerConfig({ file, env: { GANTRY_REGISTRY_EXTERNAL_URL: 'https://env.example:5443' }, flags: {} });
    assert.deepEqual([fromEnv.registry.externalUrl, fromEnv.registry.minFreeInodes], ['https://env.example:5443', 50]);
    const fromFlag = loadServerConfig({ file, env: {}, flags: { registry: { externalUrl: 'http://flag.example' } } });
    assert.equal(fromFlag.registry.externalUrl, 'http://flag.example');
    assert.equal(loadServerConfig({ env: {}, flags: {} }).registry.externalUrl, undefined);
  });

  it('takes webhook secrets from the file and GANTRY_GITHUB_WEBHOOK_SECRET together (rotation)', () => {
    const file = path.join(tempDir('config'), 'gantry.yml');
    writeFileSync(file, 'ci:\n  webhookSecrets: [the-old-secret]\n');
    assert.deepEqual(loadServerConfig({ file, env: { GANTRY_GITHUB_WEBHOOK_SECRET: 'the-new-secret' }, flags: {} }).ci.webhookSecrets, ['the-new-secret', 'the-old-secret']);
    assert.deepEqual(loadServerConfig({ env: {}, flags: {} }).ci.webhookSecrets, []);
    // The server's own pipelines, in its data directory: not the examples of a checkout it was started in.
    const defaults = loadServerConfig({ env: {}, flags: {} });
    assert.equal(defaults.ci.pipelinesDir, path.join(defaults.dataDir, 'pipelines'));
    assert.equal(loadServerConfig({ env: { GANTRY_PIPELINES_DIR: './pipelines' }, flags: {} }).ci.pipelinesDir, path.resolve('pipelines'), 'the examples when asked');
    assert.throws(() => loadServerConfig({ env: { GANTRY_GITHUB_WEBHOOK_SECRET: 'short' }, flags: {} }), /at least 8 characters/);
  });

  it('reports commit statuses only with a GitHub token, to api.github.com unless told otherwise', () => {
    assert.deepEqual(loadServerConfig({ env: {}, flags: {} }).ci.github, { apiUrl: 'https://api.github.com' });
    const github = loadServerConfig({ env: { GANTRY_GITHUB_TOKEN: 'ghp_x', GANTRY_GITHUB_API_URL: 'https://ghe.example.com/api/v3', GANTRY_PUBLIC_URL: 'https://ci.example.com' }, flags: {} }).ci.github;
    assert.deepEqual(github, { apiUrl: 'https://ghe.example.com/api/v3', token: 'ghp_x', publicUrl: 'https://ci.example.com' });
  });

  const bad: Array<[string, () => unknown, RegExp]> = [
    ['a registry external URL that is not http(s)', () => loadServerConfig({ env: { GANTRY_REGISTRY_EXTERNAL_URL: 'ftp://x.example' }, flags: {} }), /registry.externalUrl: must be an http/],
    ['a registry external URL with a query', () => loadServerConfig({ env: { GANTRY_REGISTRY_EXTERNAL_URL: 'https://x.example/?a=1' }, flags: {} }), /registry.externalUrl: must not carry a query/],
    ['a listen address without a port', () => loadServerConfig({ env: {}, flags: { listen: 'localhost' } }), /listen address must be HOST:PORT/],
    ['a port out of range', () => loadServerConfig({ env: { GANTRY_LISTEN: '127.0.0.1:70000' }, flags: {} }), /port must be 0..65535/],
    ['an unknown strategy', () => loadServerConfig({ env: {}, flags: { placement: { strategy: 'fastest' as 'spread' } } }), /placement.strategy/],
    ['an unknown setting in the file', () => {
      const file = path.join(tempDir('config'), 'bad.yml');
      writeFileSync(file, 'listen: 127.0.0.1:1\nlisten_port: 3\n');
      return loadServerConfig({ file, env: {}, flags: {} });
    }, /listen_port/],
    ['a file that does not parse', () => {
      const file = path.join(tempDir('config'), 'bad.yml');
      writeFileSync(file, 'listen: [\n');
      return loadServerConfig({ file, env: {}, flags: {} });
    }, /config file .*bad\.yml/],
    ['a missing file', () => loadServerConfig({ file: '/nonexistent/gantry.yml', env: {}, flags: {} }), /cannot read config file/],
    ['a short admin token', () => loadServerConfig({ env: { GANTRY_ADMIN_TOKEN: 'short' }, flags: {} }), /adminToken/],
  ];
  for (const [what, load, message] of bad) {
    it(`rejects ${what} with a clear message`, () => {
      assert.throws(load, (err: Error) => {
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('parses listen addresses', () => {
    assert.deepEqual(parseListenAddress('[::1]:80', 'x'), { host: '::1', port: 80 });
    assert.deepEqual(parseListenAddress(':8080', 'x'), { host: '0.0.0.0', port: 8080 });
  });
});
