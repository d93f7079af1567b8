// The compiler from a run's steps to tasks, as tables: what each step's task runs, where, with which
// environment (the CI variables, the registry's robot, secrets masked), and which owner submits it.
import assert from 'node:assert/strict';
import { buildTags, cleanupTask, cloneTask, stepOwner, stepTask, STEP_DEFAULTS } from '../../../src/ci/runs/step-tasks.ts';
import type { CiRun } from '../../../src/ci/store/runs.ts';
import { parse } from '../pipeline/helpers.ts';

const pipeline = parse(`name: shop
env: { STAGE: ci, LEVEL: pipeline }
steps:
  - name: build
    commands: [make]
    env: { LEVEL: step }
    resources: { cpus: 2, mem: 2048 }
  - name: image
    image: busybox:1
    commands: [echo hi]
`);

const run: CiRun = {
  id: 'r-1', pipeline: 'shop', repository: 'team/shop', number: 7, event: 'push', ref: 'refs/heads/main', branch: 'main', tag: null,
  commit: 'c0ffee', before: null, cloneUrl: 'https://git.example/team/shop.git', deliveryId: null, state: 'running', reason: null,
  concurrencyGroup: null, definition: pipeline, changedPaths: null, workspaceHost: 'agent-3', createdAt: '2026-12-07T10:00:00.000Z',
  startedAt: '2026-12-07T10:00:00.000Z', finishedAt: null, pullRequest: null,
};
const registry = { url: 'http://127.0.0.1:5000', username: 'gantry-platform', password: 'robot-secret' };

describe('CI: steps compiled to tasks', () => {
  it('owners: ci:RUN:POSITION, 0 the clone step; the cleanup its own', () => {
    assert.equal(stepOwner('r-1', 0), 'ci:r-1:0');
    assert.equal(stepOwner('r-1', 2), 'ci:r-1:2');
    assert.equal(cleanupTask({ ...run, workspaceHost: 'agent-3' }, pipeline).owner, 'ci:r-1:cleanup');
  });

  it('the clone step: into the run\'s workspace, a whole CPU, borrowing the server\'s mirror when it has one', () => {
    const task = cloneTask(run, pipeline, '/data/ci/mirrors/abc.git');
    assert.equal(task.name, 'shop #7 clone');
    assert.equal(task.group, 'ci:shop');
    assert.equal(task.workspace, 'r-1');
    assert.equal(task.cpus, STEP_DEFAULTS.cpus);
    assert.deepEqual(task.env, { GIT_TERMINAL_PROMPT: '0', GANTRY_GIT_MIRROR: '/data/ci/mirrors/abc.git' });
    assert.match(task.cmd!, /c0ffee/);
    assert.deepEqual(cloneTask(run, pipeline).env, { GIT_TERMINAL_PROMPT: '0' });
  });

  it('a step: its script on the workspace\'s agent; step env over pipeline env, CI variables and secrets over both; secrets and the robot\'s password masked', () => {
    const task = stepTask(run, pipeline, pipeline.steps[0]!, { TOKEN: 's3cret', LEVEL: 'secret' }, registry);
    assert.deepEqual(task.constraints, ['hostname:IS:agent-3']);
    assert.equal(task.workspace, 'r-1');
    assert.equal(task.cpus, 2);
    assert.equal(task.mem, 2048);
    assert.equal(task.env!.STAGE, 'ci');
    assert.equal(task.env!.LEVEL, 'secret', 'a secret wins over the step\'s env, which wins over the pipeline\'s');
    assert.equal(task.env!.CI_STEP_NAME, 'build');
    assert.equal(task.env!.CI_COMMIT_SHA, 'c0ffee');
    assert.equal(task.env!.GANTRY_REGISTRY, '127.0.0.1:5000');
    assert.deepEqual(task.redact, ['s3cret', 'secret', 'robot-secret']);
    assert.match(task.cmd!, /make/);
  });

  it('a step with an image runs in it; one without secrets nor registry masks nothing', () => {
    const task = stepTask({ ...run, workspaceHost: null }, pipeline, pipeline.steps[1]!, {});
    assert.equal(task.image, 'busybox:1');
    assert.deepEqual(task.constraints, []);
    assert.equal(task.redact, undefined);
    assert.equal(task.cpus, STEP_DEFAULTS.cpus);
    assert.equal(task.mem, STEP_DEFAULTS.mem);
  });

  it('a build step: a build task on the workspace\'s agent, its tags filled in for the run, nothing of the pipeline\'s environment', () => {
    const built = parse(`steps:\n  - name: image\n    build:\n      image: team/shop\n      context: web\n      tags: ['\${short_commit}', '\${branch}', '\${tag}', 'run-\${run}']\n      args: {NODE: 20}\n      target: runtime\n`);
    const task = stepTask({ ...run, commit: 'c0ffee1234567890', branch: 'feature/Cart' }, built, built.steps[0]!, { TOKEN: 's3cret' }, registry);
    assert.deepEqual(task.build, {
      context: 'web', dockerfile: 'Dockerfile', repository: 'team/shop', tags: ['c0ffee12', 'feature-Cart', 'run-7'], args: { NODE: '20' }, target: 'runtime',
      labels: { 'org.opencontainers.image.revision': 'c0ffee1234567890', 'org.opencontainers.image.source': 'https://git.example/team/shop.git' },
    });
    const withToken = stepTask({ ...run, cloneUrl: 'https://x-access-token:ghs_abc@git.example/team/shop.git' }, built, built.steps[0]!, {});
    assert.equal(withToken.build!.labels!['org.opencontainers.image.source'], 'https://git.example/team/shop.git', 'no credentials in an image');
    assert.equal(task.workspace, 'r-1');
    assert.deepEqual(task.constraints, ['hostname:IS:agent-3']);
    assert.deepEqual([task.cmd, task.image, task.env, task.redact], [undefined, undefined, undefined, undefined]);
    const tagOnly = parse(`steps:\n  - name: image\n    build: {image: team/shop, tags: ['\${tag}']}\n`);
    assert.throws(() => stepTask(run, tagOnly, tagOnly.steps[0]!, {}), /none of its tags \(\$\{tag\}\) has a value in this run/);
  });

  it('a build from a base: an assembly on any agent, every time in the image the commit\'s', () => {
    const assembled = parse(`steps:\n  - name: image\n    build:\n      from: team/base:1\n      files: [{src: dist/, dest: /app}]\n      entrypoint: [/app/server]\n      image: team/shop\n`);
    const task = stepTask(run, assembled, assembled.steps[0]!, {}, registry, 1_765_000_000);
    assert.equal(task.build, undefined);
    assert.deepEqual(task.assemble, {
      from: 'team/base:1', files: [{ src: 'dist/', dest: '/app' }], entrypoint: ['/app/server'], repository: 'team/shop', tags: ['c0ffee'],
      labels: { 'org.opencontainers.image.revision': 'c0ffee', 'org.opencontainers.image.source': 'https://git.example/team/shop.git' }, sourceDateEpoch: 1_765_000_000,
    });
    assert.deepEqual(task.constraints, ['hostname:IS:agent-3'], 'on the workspace\'s agent, with or without Docker');
  });

  it('a build\'s tags: placeholders filled, what a tag may not hold made "-", empty ones left out, each once', () => {
    const values = { commit: 'abcdef0123456789', branch: 'release/2.x', tag: null, number: 12 };
    assert.deepEqual(buildTags(['${commit}', '${short_commit}', '${branch}', '${tag}', 'v${run}', 'latest', 'latest', '-${branch}'], values), ['abcdef0123456789', 'abcdef01', 'release-2.x', 'v12', 'latest']);
    assert.deepEqual(buildTags(['${branch}'], { ...values, branch: null }), []);
  });

  it('a server pipeline\'s user runs every task of the run, clone and cleanup included (its workspace is that user\'s); none by default', () => {
    const granted = parse(`name: images\nrepository: team/shop\nuser: ci-docker\nsteps:\n  - name: build\n    commands: [docker build .]\n`, { requireRepository: true });
    const tasks = [cloneTask(run, granted), stepTask(run, granted, granted.steps[0]!, {}), cleanupTask({ ...run, workspaceHost: 'agent-3' }, granted).submission];
    assert.deepEqual(tasks.map((t) => t.user), ['ci-docker', 'ci-docker', 'ci-docker']);
    const plain = [cloneTask(run, pipeline), stepTask(run, pipeline, pipeline.steps[0]!, {}), cleanupTask({ ...run, workspaceHost: 'agent-3' }, pipeline).submission];
    assert.deepEqual(plain.map((t) => t.user), [undefined, undefined, undefined]);
  });
});
