// The same work without Gantry, timed in the benchmark's own process, so the overhead figures mean
// something: the server's git work for one push (GitMirror: fetch into a bare mirror, read
// `.gantry.yml`, diff the changed paths), the clone step's own script in an empty directory, a plain
// `git clone`, and spawning each step's script with /bin/sh as the exec driver runs it (stdout and
// stderr to files), one after the other.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cloneScript, stepScript } from '../../src/ci/runs/step-plan.ts';
import { GitMirror } from '../../src/ci/workspace/git-mirror.ts';
import { median } from './measure.ts';
import { git, type BenchRepo } from './repo.ts';

export interface Baseline {
  /** GitMirror.fetch + readFile(.gantry.yml) + changedPaths for a new commit, ms each time. */
  mirrorMs: number[];
  /** The clone step's script (git init, fetch the ref, checkout the commit) in an empty directory. */
  cloneScriptMs: number[];
  /** `git clone --quiet file://...` into an empty directory. */
  gitCloneMs: number[];
  /** One step's script (`true` as a step runs it: set -e, the echoed command, the command). */
  spawnMs: number[];
  /** 20 such spawns one after the other, per round (ms). */
  twentySpawnsMs: number[];
  /**
   * The clone step's script again, inside a cgroup with the CPU quota Gantry gives the clone task
   * (cpus 0.1: 10 ms per 100 ms period); empty when this process cannot make cgroups (not root).
   */
  cloneScriptLimitedMs: number[];
  /** The step script in a cgroup with the default task quota (cpus 0.1), joined as the exec driver does. */
  spawnLimitedMs: number[];
  /** Where the quota was set, or why it could not be. */
  cgroupNote: string;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Runs `/bin/sh -c script` in `cwd`, output to files, and waits for it to exit. */
async function shell(script: string, cwd: string, outDir: string, env: Record<string, string> = {}, cgroupProcs?: string): Promise<void> {
  const out = await open(path.join(outDir, 'stdout'), 'w');
  const err = await open(path.join(outDir, 'stderr'), 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      // As the exec driver does it: a wrapper shell joins the cgroup, then execs the task's shell.
      const argv = cgroupProcs ? ['-c', `echo $$ > ${cgroupProcs} && exec "$@"`, 'bench', '/bin/sh', '-c', script] : ['-c', script];
      const child = spawn('/bin/sh', argv, { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: outDir, ...env }, stdio: ['ignore', out.fd, err.fd] });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`script exited with ${code}: ${script.slice(0, 200)}`))));
    });
  } finally {
    await out.close();
    await err.close();
  }
}

export async function measureBaseline(repo: BenchRepo, dir: string, rounds: number, steps: number): Promise<Baseline> {
  const result: Baseline = { mirrorMs: [], cloneScriptMs: [], gitCloneMs: [], spawnMs: [], twentySpawnsMs: [], cloneScriptLimitedMs: [], spawnLimitedMs: [], cgroupNote: '' };
  const limited = await cpuQuotaCgroup(0.1);
  result.cgroupNote = limited.note;
  const mirror = new GitMirror(path.join(dir, 'mirrors'), path.join(dir, 'mirror.key'));
  const outDir = path.join(dir, 'out');
  await mkdir(outDir, { recursive: true });
  const branch = 'baseline';
  // The mirror's first fetch copies the whole repository: not counted (the server's was warmed too).
  await mirror.fetch(repo.cloneUrl, 'refs/heads/main');
  for (let i = 0; i < rounds; i++) {
    const { before, after } = await repo.pushCommit(branch);
    const ref = `refs/heads/${branch}`;
    result.mirrorMs.push(
      await time(async () => {
        // As the run planner does it: the fetch, then the file and the diff at once.
        await mirror.fetch(repo.cloneUrl, ref);
        await Promise.all([mirror.readFile(repo.cloneUrl, after, '.gantry.yml'), mirror.changedPaths(repo.cloneUrl, before, after)]);
      }),
    );
    const workspace = path.join(dir, `ws-${i}`);
    await mkdir(workspace);
    result.cloneScriptMs.push(await time(() => shell(cloneScript(repo.cloneUrl, ref, after), workspace, outDir, { GIT_TERMINAL_PROMPT: '0' })));
    const cloned = path.join(dir, `clone-${i}`);
    result.gitCloneMs.push(await time(() => git(dir, ['clone', '--quiet', repo.cloneUrl, cloned])));
    const script = stepScript({ commands: ['true'] });
    const round = await time(async () => {
      for (let s = 0; s < steps; s++) result.spawnMs.push(await time(() => shell(script, workspace, outDir)));
    });
    result.twentySpawnsMs.push(round);
    if (limited.procs) {
      const again = path.join(dir, `ws-limited-${i}`);
      await mkdir(again);
      result.cloneScriptLimitedMs.push(await time(() => shell(cloneScript(repo.cloneUrl, ref, after), again, outDir, { GIT_TERMINAL_PROMPT: '0' }, limited.procs)));
      for (let s = 0; s < steps; s++) result.spawnLimitedMs.push(await time(() => shell(script, again, outDir, {}, limited.procs)));
      await rm(again, { recursive: true, force: true });
    }
    await rm(workspace, { recursive: true, force: true });
    await rm(cloned, { recursive: true, force: true });
  }
  await limited.remove();
  return result;
}

/**
 * A cgroup with a CFS quota of `cpus` (period 100 ms, as Gantry's exec driver sets it), next to this
 * process's own cgroup in the cpu hierarchy (v1 `cpu` or v2 `cpu.max`). Needs root.
 */
async function cpuQuotaCgroup(cpus: number): Promise<{ procs?: string; note: string; remove(): Promise<void> }> {
  const none = (note: string) => ({ note, remove: async () => undefined });
  if (process.getuid?.() !== 0) return none('not root: no cgroup, no quota');
  const period = 100_000;
  const quota = Math.max(1000, Math.round(cpus * period));
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    const v1 = mounts.map((l) => l.split(' - ')).find(([, after]) => after?.startsWith('cgroup ') && after.split(' ')[2]?.split(',').includes('cpu'));
    const name = `bench-ci-${process.pid}`;
    if (v1) {
      const mountPoint = v1[0]!.split(' ')[4]!;
      const ownPath = own.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('cpu'))?.[2] ?? '/';
      const dir = path.join(mountPoint, ownPath, name);
      await mkdir(dir);
      await writeFile(path.join(dir, 'cpu.cfs_period_us'), String(period));
      await writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
      return { procs: path.join(dir, 'cgroup.procs'), note: `cgroup v1 ${dir}: cpu.cfs_quota_us ${quota} per ${period} µs`, remove: () => rmdir(dir).catch(() => undefined) };
    }
    const v2 = mounts.map((l) => l.split(' - ')).find(([, after]) => after?.startsWith('cgroup2 '));
    if (v2) {
      const mountPoint = v2[0]!.split(' ')[4]!;
      const ownPath = own.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
      const dir = path.join(mountPoint, ownPath, name);
      await mkdir(dir);
      await writeFile(path.join(dir, 'cpu.max'), `${quota} ${period}`);
      return { procs: path.join(dir, 'cgroup.procs'), note: `cgroup v2 ${dir}: cpu.max ${quota} ${period}`, remove: () => rmdir(dir).catch(() => undefined) };
    }
    return none('no cpu controller mounted');
  } catch (err) {
    return none(`cannot make a cgroup: ${(err as Error).message}`);
  }
}

export function baselineLine(b: Baseline): string {
  const limited = b.cloneScriptLimitedMs.length ? `; under cpu 0.1: clone script ${median(b.cloneScriptLimitedMs).toFixed(1)} ms, sh -c step ${median(b.spawnLimitedMs).toFixed(2)} ms` : ` (${b.cgroupNote})`;
  return `mirror ${median(b.mirrorMs).toFixed(1)} ms, clone script ${median(b.cloneScriptMs).toFixed(1)} ms, git clone ${median(b.gitCloneMs).toFixed(1)} ms, sh -c step ${median(b.spawnMs).toFixed(2)} ms${limited}`;
}
