// Container garbage collection against the real engine: an exited container is kept for the delay after
// its end was reported and removed after it; a reported container is not recovered again; orphans
// (Gantry's labels, no task the agent knows, or a sandbox that is gone) are removed; what the agent
// knows and other live agents' containers are not.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDockerDriver } from '../../../src/cluster/drivers/docker.ts';
import { collectContainers, containersDiskUsage, pruneDanglingImages } from '../../../src/cluster/drivers/docker-gc.ts';
import type { DockerTaskHandle } from '../../../src/cluster/drivers/docker-task-handle.ts';
import { dockerLaunch, useDockerDriver } from './docker-helpers.ts';

describe('docker driver: container garbage collection', function () {
  this.timeout(30_000);
  const { driver, ctx, launch, start } = useDockerDriver('gantry-test/busybox:docker-gc');
  const exists = (handle: DockerTaskHandle): Promise<boolean> =>
    handle.container.inspect().then(
      () => true,
      (err: { statusCode?: number }) => (err.statusCode === 404 ? false : Promise.reject(err)),
    );

  it('keeps an exited container for the delay after destroy(), then removes it; recover() leaves it alone', async () => {
    const keeping = createDockerDriver({ keepExitedMs: 1500 });
    const handle = (await keeping.start(launch({ cmd: 'echo kept; exit 2' }))) as DockerTaskHandle;
    assert.equal((await handle.wait()).exitCode, 2);
    await handle.destroy();
    assert.equal(await exists(handle), true, 'kept after its end was reported');
    assert.deepEqual(await createDockerDriver().recover(ctx.dir), [], 'a reported container is not recovered (its end would be reported twice)');
    assert.deepEqual(await keeping.collectGarbage(ctx.dir, new Set()), [], 'not before the delay');
    await new Promise((r) => setTimeout(r, 1600));
    const removed = await keeping.collectGarbage(ctx.dir, new Set());
    assert.deepEqual(removed, [`container ${handle.container.id.slice(0, 12)} of task ${handle.taskId} (expired)`]);
    assert.equal(await exists(handle), false);
  });

  it('with a delay of 0, destroy() removes the container at once', async () => {
    const handle = (await createDockerDriver({ keepExitedMs: 0 }).start(launch({ cmd: 'sleep 30' }))) as DockerTaskHandle;
    await handle.destroy();
    await handle.destroy();
    assert.equal((await handle.wait()).killed, true);
    assert.equal(await exists(handle), false);
  });

  it('removes orphans: containers no known task owns, and containers whose sandbox is gone; not the known ones nor a live agent\u2019s', async () => {
    const orphan = (await start(launch({ cmd: 'sleep 30' }))) as DockerTaskHandle; // as if its agent forgot it
    const known = (await start(launch({ cmd: 'sleep 30' }))) as DockerTaskHandle;
    const otherRoot = await mkdtemp(path.join(os.tmpdir(), 'gantry-docker-other-'));
    const goneRoot = await mkdtemp(path.join(os.tmpdir(), 'gantry-docker-gone-'));
    const otherAgents = (await driver.start(dockerLaunch(otherRoot, ctx.image, { cmd: 'sleep 30' }))) as DockerTaskHandle;
    const sandboxGone = (await driver.start(dockerLaunch(goneRoot, ctx.image, { cmd: 'sleep 30' }))) as DockerTaskHandle;
    try {
      await rm(goneRoot, { recursive: true, force: true });
      // The sandbox-gone rule waits a minute after creation (a launch makes the sandbox first): look from later.
      const removed = await collectContainers(driver.docker, { sandboxRoot: ctx.dir, known: new Set([known.taskId]), keepExitedMs: 600_000, now: Date.now() + 120_000 });
      assert.deepEqual(
        removed.map((r) => `${r.taskId} ${r.why}`).sort(),
        [`${orphan.taskId} orphan`, `${sandboxGone.taskId} sandbox gone`].sort(),
      );
      assert.equal(await exists(orphan), false);
      assert.equal(await exists(sandboxGone), false);
      assert.equal(await exists(known), true);
      assert.equal(await exists(otherAgents), true);
    } finally {
      await otherAgents.container.remove({ force: true }).catch(() => undefined);
      await sandboxGone.container.remove({ force: true }).catch(() => undefined);
      await rm(otherRoot, { recursive: true, force: true });
    }
  });

  it('prunes dangling images past their age, and only those', async () => {
    const repo = 'gantry-test/dangling';
    const container = await driver.docker.createContainer({ Image: ctx.image, Cmd: ['true'] });
    try {
      const first = await container.commit({ repo, tag: 'v1' });
      const second = await container.commit({ repo, tag: 'v1', changes: 'ENV AGAIN=1' }); // takes the tag: the first dangles
      assert.notEqual(first.Id, second.Id);
      assert.deepEqual(await pruneDanglingImages(driver.docker, 3_600_000), { count: 0, bytes: 0 }, 'younger than the age: kept');
      await new Promise((r) => setTimeout(r, 1100)); // the engine compares creation times to the second
      const pruned = await pruneDanglingImages(driver.docker, 0);
      assert.ok(pruned.count >= 1);
      await assert.rejects(driver.docker.getImage(first.Id).inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
      assert.ok(await driver.docker.getImage(second.Id).inspect(), 'the tagged image stays');
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
      await driver.docker.getImage(`${repo}:v1`).remove({ force: true }).catch(() => undefined);
    }
  });

  it('reports the disk its containers use (their writable layers)', async () => {
    const handle = (await start(launch({ cmd: 'head -c 3000000 /dev/zero > /big; sleep 30' }))) as DockerTaskHandle;
    await new Promise((r) => setTimeout(r, 500));
    const bytes = await containersDiskUsage(driver.docker, ctx.dir);
    assert.ok(bytes >= 3_000_000, `${bytes} bytes`);
    assert.equal(await containersDiskUsage(driver.docker, path.join(ctx.dir, 'elsewhere')), 0);
    await handle.kill(0);
  });
});
