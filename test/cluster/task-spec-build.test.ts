// An image build task (TaskSpec.build, a CI build step) as the pool takes it: defaults filled in, an
// agent with a Docker engine required, and everything that would make it run something refused.
import assert from 'node:assert/strict';
import { parseTaskSpec } from '../../src/cluster/task-spec.ts';

const build = { repository: 'team/web', tags: ['abc123', 'main'] };

describe('task spec: image builds', () => {
  it('takes a build from a workspace, fills in the root context and its Dockerfile, and waits for an agent with Docker', () => {
    const spec = parseTaskSpec({ build, workspace: 'r-1' }, 'ci:r-1:2');
    assert.deepEqual(spec.build, { context: '.', dockerfile: 'Dockerfile', repository: 'team/web', tags: ['abc123', 'main'], args: {} });
    assert.equal(spec.name, 'build team/web');
    assert.deepEqual(spec.constraints, [{ field: 'docker', operator: 'LIKE', value: '.+' }]);
    const full = parseTaskSpec({ build: { ...build, context: 'web', dockerfile: 'docker/Dockerfile', args: { NODE: '20' }, target: 'runtime' }, workspace: 'r-1' }, 'ci:r-1:2');
    assert.deepEqual(full.build, { context: 'web', dockerfile: 'docker/Dockerfile', repository: 'team/web', tags: ['abc123', 'main'], args: { NODE: '20' }, target: 'runtime' });
  });

  it('refuses a build that would run something, or has no workspace, or paths that leave it', () => {
    assert.throws(() => parseTaskSpec({ build, workspace: 'r-1', cmd: 'make' }, 'u'), /a "build" task makes an image and runs nothing; leave out "cmd"/);
    assert.throws(() => parseTaskSpec({ build, workspace: 'r-1', image: 'busybox', ports: [0] }, 'u'), /leave out "image", "ports"/);
    assert.throws(() => parseTaskSpec({ build }, 'u'), /makes its image from a "workspace"/);
    assert.throws(() => parseTaskSpec({ build: { ...build, context: '../x' }, workspace: 'r-1' }, 'u'), /build\.context: a path relative to the workspace, without "\.\."/);
    assert.throws(() => parseTaskSpec({ build: { ...build, dockerfile: '/etc/passwd' }, workspace: 'r-1' }, 'u'), /build\.dockerfile: a path relative/);
  });

  it('refuses repositories and tags the registry would not take', () => {
    assert.throws(() => parseTaskSpec({ build: { ...build, repository: 'Team/Web' }, workspace: 'r-1' }, 'u'), /build\.repository: a repository is lowercase/);
    assert.throws(() => parseTaskSpec({ build: { ...build, tags: [] }, workspace: 'r-1' }, 'u'), /build\.tags/);
    assert.throws(() => parseTaskSpec({ build: { ...build, tags: ['-x'] }, workspace: 'r-1' }, 'u'), /build\.tags\.0: a tag is letters/);
  });

  it('takes an image assembled from files onto a base, on any agent, and refuses paths that leave the workspace', () => {
    const assemble = { from: 'team/base:1', files: [{ src: 'dist/', dest: '/app' }], entrypoint: ['/app/server'], repository: 'team/web', tags: ['abc', 'abc'], sourceDateEpoch: 1_700_000_000 };
    const spec = parseTaskSpec({ assemble, workspace: 'r-1' }, 'ci:r-1:2');
    assert.deepEqual(spec.assemble, { ...assemble, tags: ['abc'] });
    assert.equal(spec.name, 'assemble team/web');
    assert.deepEqual(spec.constraints, [], 'no engine needed');
    assert.throws(() => parseTaskSpec({ assemble: { ...assemble, files: [{ src: '../etc', dest: '/x' }] }, workspace: 'r-1' }, 'u'), /assemble\.files\.0\.src: a path relative to the workspace/);
    assert.throws(() => parseTaskSpec({ assemble: { ...assemble, files: [{ src: 'dist', dest: 'app' }] }, workspace: 'r-1' }, 'u'), /a path in the image is absolute/);
    assert.throws(() => parseTaskSpec({ assemble, build, workspace: 'r-1' }, 'u'), /leave out "assemble"/);
  });
});
