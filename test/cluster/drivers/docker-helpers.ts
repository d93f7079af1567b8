// Shared by the docker driver tests: a busybox image of the suite's own (removed afterwards),
// launches under a temporary sandbox root, and cleanup of every container a test made.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDockerDriver, type DockerDriver } from '../../../src/cluster/drivers/docker.ts';
import type { TaskHandle, TaskLaunch } from '../../../src/cluster/drivers/driver.ts';
import type { TaskSpec } from '../../../src/cluster/types.ts';
import { ensureBusyboxImage, removeImages, requireDocker } from '../../helpers/docker.ts';
import { minimalSpec } from '../../helpers/task-spec.ts';

let counter = 0;

/** A launch for a fresh task id in `root`, with `env` as the agent would pass it. */
export function dockerLaunch(root: string, image: string, spec: Partial<TaskSpec>, env: Record<string, string> = {}, ports: number[] = []): TaskLaunch {
  const taskId = `t-dtest${process.pid}-${++counter}`;
  return {
    taskId,
    spec: minimalSpec({ image, ...spec }),
    allocation: { cpus: 0, mem: 0, disk: 0, gpus: 0, ports, scalars: {}, ranges: {}, sets: {} },
    sandboxDir: path.join(root, taskId),
    env: { GANTRY_TASK_ID: taskId, ...env },
    agentId: 'a-docker-test',
  };
}

/**
 * For a describe block: requires Docker, makes the suite's busybox image (`tag`), a temporary sandbox
 * root per test, and removes after each test every container labelled with a sandbox under it, and the
 * image after the suite.
 */
export function useDockerDriver(tag: string) {
  const driver: DockerDriver = createDockerDriver();
  const handles: TaskHandle[] = [];
  const ctx = { dir: '', image: tag };
  before(async function () {
    await requireDocker(this);
    await ensureBusyboxImage(tag);
  });
  after(async () => {
    await removeImages(tag).catch((err) => console.error('cleanup:', err));
  });
  beforeEach(async () => {
    ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-docker-'));
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.destroy()));
    // Whatever a test left (e.g. a recovered driver's containers): every container of this root.
    const left = await driver.docker.listContainers({ all: true, filters: { label: ['gantry.sandbox'] } });
    for (const info of left) {
      if (path.dirname(info.Labels['gantry.sandbox'] ?? '') === ctx.dir) await driver.docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined);
    }
    await rm(ctx.dir, { recursive: true, force: true });
  });
  const track = <T extends TaskHandle>(handle: T): T => {
    handles.push(handle);
    return handle;
  };
  return {
    driver,
    ctx,
    track,
    launch: (spec: Partial<TaskSpec>, env?: Record<string, string>, ports?: number[]) => dockerLaunch(ctx.dir, ctx.image, spec, env, ports),
    start: async (l: TaskLaunch): Promise<TaskHandle> => track(await driver.start(l)),
  };
}
