// Every feature of the schema, accepted and normalized: defaults, filters, env and secrets, steps.
import assert from 'node:assert/strict';
import type { Pipeline } from '../../../src/ci/pipeline/index.ts';
import { lines, ONE_STEP, parse } from './helpers.ts';

type Row = [feature: string, yaml: string, check: (p: Pipeline) => void];

const step = (p: Pipeline, index = 0) => p.steps[index]!;

const rows: Row[] = [
  ['defaults of a minimal file', lines(...ONE_STEP), (p) => {
    assert.deepEqual(
      { name: p.name, repository: p.repository, on: p.on, env: p.env, secrets: p.secrets, concurrency: p.concurrency, timeoutMs: p.timeoutMs },
      { name: 'gantry', repository: null, on: { branches: null, tags: null, paths: null }, env: {}, secrets: {}, concurrency: null, timeoutMs: null },
    );
    assert.deepEqual(step(p), {
      name: 'build', commands: ['make'], build: null, deploy: null, approval: false, image: null, env: {}, secrets: {}, when: [], dependsOn: [], timeoutMs: null, retry: 0,
      failure: 'fail', resources: {}, constraints: [],
    });
  }],
  ['name is written', lines('name: web', ...ONE_STEP), (p) => assert.equal(p.name, 'web')],
  ['branches as one glob', lines('on:', '  push:', '    branches: main', ...ONE_STEP), (p) => assert.deepEqual(p.on.branches, { include: ['main'], exclude: [] })],
  ['branches as a list', lines('on:', '  push:', '    branches: [main, "release/*"]', ...ONE_STEP), (p) => assert.deepEqual(p.on.branches, { include: ['main', 'release/*'], exclude: [] })],
  ['branches include/exclude', lines('on:', '  push:', '    branches: {include: ["**"], exclude: wip/*}', ...ONE_STEP), (p) => assert.deepEqual(p.on.branches, { include: ['**'], exclude: ['wip/*'] })],
  ['exclude alone includes everything else', lines('on:', '  push:', '    paths:', '      exclude: [docs/**]', ...ONE_STEP), (p) => assert.deepEqual(p.on.paths, { include: ['**'], exclude: ['docs/**'] })],
  ['push: with nothing under it', lines('on:', '  push:', ...ONE_STEP), (p) => assert.deepEqual(p.on, { branches: null, tags: null, paths: null })],
  ['tags', lines('on:', '  push:', '    tags: ["v*"]', ...ONE_STEP), (p) => assert.deepEqual(p.on.tags, { include: ['v*'], exclude: [] })],
  ['env: strings, and numbers and booleans as strings', lines('env:', '  A: x', '  PORT: 8080', '  CI: true', ...ONE_STEP), (p) => assert.deepEqual(p.env, { A: 'x', PORT: '8080', CI: 'true' })],
  ['secrets', lines('secrets:', '  TOKEN: {from_secret: api_token}', ...ONE_STEP), (p) => assert.deepEqual(p.secrets, { TOKEN: 'api_token' })],
  ['from_secret in the pipeline env goes to secrets', lines('env:', '  A: x', '  B: {from_secret: b_secret}', ...ONE_STEP), (p) => {
    assert.deepEqual(p.env, { A: 'x' });
    assert.deepEqual(p.secrets, { B: 'b_secret' });
  }],
  ['step env with from_secret', lines('steps:', '  - name: s', '    commands: [x]', '    env: {A: "1", T: {from_secret: tok}}'), (p) => {
    assert.deepEqual(step(p).env, { A: '1' });
    assert.deepEqual(step(p).secrets, { T: 'tok' });
  }],
  ['commands as one string', lines('steps:', '  - name: s', '    commands: make test'), (p) => assert.deepEqual(step(p).commands, ['make test'])],
  ['image', lines('steps:', '  - name: s', '    image: node:20', '    commands: [x]'), (p) => assert.equal(step(p).image, 'node:20')],
  ['timeout, retry, failure: ignore', lines('steps:', '  - name: s', '    commands: [x]', '    timeout: 1m30s', '    retry: 2', '    failure: ignore'), (p) => {
    assert.deepEqual([step(p).timeoutMs, step(p).retry, step(p).failure], [90_000, 2, 'ignore']);
  }],
  ['resources', lines('steps:', '  - name: s', '    commands: [x]', '    resources: {cpus: 0.5, mem: 512, disk: 0}'), (p) => assert.deepEqual(step(p).resources, { cpus: 0.5, mem: 512, disk: 0 })],
  ['constraints in both forms, passed through', lines('steps:', '  - name: s', '    commands: [x]', '    constraints: ["hostname:UNIQUE", [rack, GROUP_BY, "2"], "os:LIKE:debian:12"]'), (p) => {
    assert.deepEqual(step(p).constraints, ['hostname:UNIQUE', ['rack', 'GROUP_BY', '2'], 'os:LIKE:debian:12']);
  }],
  ['when: one condition, scalars become lists', lines('steps:', '  - name: s', '    commands: [x]', '    when:', '      branch: main', '      event: push', '      path: src/**', '      status: failure'), (p) => {
    assert.deepEqual(step(p).when, [{ branch: { include: ['main'], exclude: [] }, event: ['push'], path: { include: ['src/**'], exclude: [] }, status: ['failure'] }]);
  }],
  ['when: a list of conditions', lines('steps:', '  - name: s', '    commands: [x]', '    when:', '      - event: [tag, manual]', '      - branch: main'), (p) => {
    assert.deepEqual(step(p).when.map((c) => [c.event, c.branch?.include ?? null]), [[['tag', 'manual'], null], [null, ['main']]]);
  }],
  ['concurrency defaults', lines('concurrency: {}', ...ONE_STEP), (p) => assert.deepEqual(p.concurrency, { group: '${repository}/${pipeline}', limit: 1, cancelPrevious: false })],
  ['concurrency written', lines('concurrency:', '  group: deploy-${branch}', '  limit: 2', '  cancel_previous: true', ...ONE_STEP), (p) => {
    assert.deepEqual(p.concurrency, { group: 'deploy-${branch}', limit: 2, cancelPrevious: true });
  }],
  ['run timeout', lines('timeout: 1h', ...ONE_STEP), (p) => assert.equal(p.timeoutMs, 3_600_000)],
  ['repository when required', lines('repository: acme/web', ...ONE_STEP), (p) => assert.equal(p.repository, 'acme/web')],
  ['anchors, merge keys and x- fields', lines('x-defaults: &defaults', '  image: node:20', '  retry: 1', 'steps:', '  - name: a', '    <<: *defaults', '    commands: [x]'), (p) => {
    assert.deepEqual([step(p).image, step(p).retry], ['node:20', 1]);
  }],
  ['a build step with its defaults: the root context, its Dockerfile, the commit as tag', lines('steps:', '  - name: image', '    build: {image: team/web}'), (p) => {
    assert.deepEqual([step(p).commands, step(p).build], [[], { context: '.', dockerfile: 'Dockerfile', image: 'team/web', tags: ['${commit}'], args: {}, target: null, from: null, files: [], entrypoint: null, cmd: null, env: {}, workdir: null }]);
  }],
  ['a build step written out: one tag as a string, args as strings', lines('steps:', '  - name: image', '    build:', '      context: web', '      dockerfile: docker/Dockerfile.prod', '      image: team/web', '      tags: ${branch}-${run}', '      args: {NODE: 20, DEBUG: false}', '      target: runtime'), (p) => {
    assert.deepEqual(step(p).build, {
      context: 'web', dockerfile: 'docker/Dockerfile.prod', image: 'team/web', tags: ['${branch}-${run}'], args: { NODE: '20', DEBUG: 'false' }, target: 'runtime',
      from: null, files: [], entrypoint: null, cmd: null, env: {}, workdir: null,
    });
  }],
  ['a build from a base image, without a Dockerfile', lines('steps:', '  - name: image', '    build:', '      from: team/base:1', '      files: [{src: dist/, dest: /app}]', '      entrypoint: [/app/server]', '      env: {PORT: 8080}', '      workdir: /app', '      image: team/web'), (p) => {
    const build = step(p).build!;
    assert.deepEqual([build.from, build.files, build.entrypoint, build.cmd, build.env, build.workdir], ['team/base:1', [{ src: 'dist/', dest: '/app' }], ['/app/server'], null, { PORT: '8080' }, '/app']);
  }],
  ['a deploy of what an earlier step built, waiting for approval; the app id made absolute', lines('steps:', '  - name: image', '    build: {image: team/web}', '  - name: test', '    commands: [make]', '  - name: ship', '    approval: true', '    deploy: {app: prod/web, image: "${steps.image.image}"}'), (p) => {
    assert.deepEqual([step(p, 2).deploy, step(p, 2).approval, step(p, 2).commands], [{ app: '/prod/web', image: '${steps.image.image}' }, true, []]);
  }],
  ['depends_on as one string', lines('steps:', '  - name: a', '    commands: [x]', '  - name: b', '    commands: [x]', '  - name: c', '    depends_on: a', '    commands: [x]'), (p) => assert.deepEqual(step(p, 2).dependsOn, ['a'])],
];

describe('ci pipeline: accepted files', () => {
  for (const [feature, yaml, check] of rows) {
    it(feature, () => check(parse(yaml, { requireRepository: yaml.includes('repository:') })));
  }

  it('names a pipeline after its file when name is absent', () => {
    assert.equal(parse(lines(...ONE_STEP)).name, 'gantry');
  });

  it('produces a JSON-able value (runs store it)', () => {
    const pipeline = parse(lines('on:', '  push:', '    branches: main', ...ONE_STEP));
    assert.deepEqual(JSON.parse(JSON.stringify(pipeline)), pipeline);
  });
});
