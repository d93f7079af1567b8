// Shared by the exec driver tests: task specs, temporary sandboxes, output collection, liveness.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { OutputChunk, TaskHandle, TaskLaunch } from '../../../src/cluster/drivers/driver.ts';
import { createExecDriver, type ExecDriver } from '../../../src/cluster/drivers/exec.ts';
import type { TaskSpec } from '../../../src/cluster/types.ts';
import { minimalSpec } from '../../helpers/task-spec.ts';

export function spec(overrides: Partial<TaskSpec>): TaskSpec {
  return minimalSpec(overrides);
}

let counter = 0;

/** A launch for a fresh task id in `root`; `env` defaults to just PATH (what the agent would pass on). */
export function launch(root: string, overrides: Partial<TaskSpec>, env?: Record<string, string>): TaskLaunch {
  const taskId = `t${process.pid}-${++counter}`;
  return {
    taskId,
    spec: spec(overrides),
    allocation: { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [], scalars: {}, ranges: {}, sets: {} },
    sandboxDir: path.join(root, taskId),
    env: env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  };
}

export async function tempRoot(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-exec-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TimedChunk extends OutputChunk {
  at: number;
}

/** Reads a logs() stream to its end, with the time each chunk arrived. */
export function collect(stream: Readable): Promise<TimedChunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: TimedChunk[] = [];
    stream.on('data', (c: OutputChunk) => chunks.push({ ...c, at: Date.now() }));
    stream.on('end', () => resolve(chunks));
    stream.on('error', reject);
  });
}

export function text(chunks: readonly OutputChunk[], stream: 'stdout' | 'stderr'): string {
  return Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data)).toString('utf8');
}

export { isAlive } from '../../helpers/processes.ts';

/** Waits until `file` exists with a number in it (a pid a task wrote). */
export async function readPid(file: string, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const content = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\s*$/.test(content)) return Number(content.trim());
    if (Date.now() > deadline) throw new Error(`no pid in ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const isRoot = process.getuid?.() === 0;

/**
 * A driver for a describe block: a fresh temporary root per test (`sandboxes.dir`), and every handle
 * started through `start` or `track` destroyed after each test.
 */
export function useExecDriver(driver: ExecDriver = createExecDriver()) {
  const handles: TaskHandle[] = [];
  const sandboxes = { dir: '', remove: async (): Promise<void> => undefined };
  beforeEach(async () => Object.assign(sandboxes, await tempRoot()));
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.destroy()));
    await sandboxes.remove();
  });
  const track = (handle: TaskHandle): TaskHandle => {
    handles.push(handle);
    return handle;
  };
  return {
    driver,
    sandboxes,
    track,
    /** Starts a launch and keeps its handle for cleanup. */
    startLaunch: async (l: TaskLaunch): Promise<TaskHandle> => track(await driver.start(l)),
    /** Builds a launch under the test's root (see launch()) and starts it. */
    start: async (...args: Parameters<typeof launch>): Promise<TaskHandle> => track(await driver.start(launch(...args))),
  };
}
