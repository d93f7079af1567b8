// `gantry run [options] -- CMD...`: submits a task, shows why it waits while it is queued, streams
// its output, and exits with its exit code. With `--image IMAGE` the task runs in a container of that
// image (the docker driver); the command is then optional (the image's own command runs).
import type { Command } from 'commander';
import { CONTAINER_NETWORKS, type ContainerNetwork, type TaskRecord, type TaskSubmission } from '../../cluster/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import { ApiClient, CliError } from '../client.ts';
import { followLogs, type FinalStatus } from '../follow-logs.ts';
import { printJson } from '../table.ts';
import { WaitProgress } from '../wait-progress.ts';

interface RunFlags {
  cpus?: string;
  mem?: string;
  disk?: string;
  gpus?: string;
  port: string[];
  resource: string[];
  constraint: string[];
  env: string[];
  name?: string;
  group?: string;
  strategy?: 'binpack' | 'spread' | 'random';
  sh?: string;
  image?: string;
  forcePull?: boolean;
  network?: string;
  killGrace?: string;
  restart?: string;
  restartBackoff?: string;
  restartFactor?: string;
  restartMaxBackoff?: string;
  restartResetAfter?: string;
  detach?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a task on the pool, stream its output and exit with its exit code')
    .argument('[command...]', 'the command and its arguments (after --)')
    .option('--cpus <n>', 'CPU shares (default 0.1)')
    .option('--mem <mib>', 'memory limit in MiB (default 64)')
    .option('--disk <mib>', 'disk in MiB (default 0)')
    .option('--gpus <n>', 'GPUs (default 0)')
    .option('--port <port>', 'a host port: 0 for any free one (repeatable)', collect, [])
    .option('--resource <name=n>', 'a custom resource amount, e.g. bugs=2 (repeatable)', collect, [])
    .option('--constraint <c>', 'a Marathon constraint field:OPERATOR[:value], e.g. hostname:UNIQUE (repeatable)', collect, [])
    .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', collect, [])
    .option('--name <name>', 'a name for listings')
    .option('--group <group>', 'tasks of one group are counted together by constraints (default "default")')
    .option('--strategy <name>', 'placement strategy: binpack, spread or random')
    .option('--sh <cmdline>', 'run a shell command line with /bin/sh -c instead of an argv')
    .option('--image <image>', 'run in a container of this image (docker driver); the command after -- is optional then')
    .option('--force-pull', 'with --image: pull the image even when the agent holds it')
    .option('--network <mode>', 'with --image: bridge (default: ports published from the same port inside), host or none')
    .option('--kill-grace <duration>', 'time between SIGTERM and SIGKILL on kill (default 10s)')
    .option('--restart <policy>', 'restart the task in place when it exits: on-failure[:MAX] or always (default: never)')
    .option('--restart-backoff <duration>', 'with --restart: delay before the first restart (default 1s)')
    .option('--restart-factor <n>', 'with --restart: each further delay is the previous times this (default 2)')
    .option('--restart-max-backoff <duration>', 'with --restart: the longest delay (default 5m)')
    .option('--restart-reset-after <duration>', 'with --restart: a run this long resets the delay (default 1m)')
    .option('-d, --detach', 'print the task id and return without waiting')
    .option('--json', 'with --detach: print the task record as JSON')
    .action(async (command: string[], flags: RunFlags) => {
      const submission = buildSubmission(command, flags);
      const client = new ApiClient();
      const task = await client.post<TaskRecord>('/api/v1/tasks', submission);
      if (flags.detach) {
        if (flags.json) printJson(task);
        else process.stdout.write(`${task.id}\n`);
        return;
      }
      const final = await runAttached(client, task);
      process.exitCode = exitCodeOf(final);
      if (final.state !== 'finished') process.stderr.write(`gantry: task ${task.id} ${final.state}: ${final.reason ?? ''}\n`);
    });
}

export function buildSubmission(command: string[], flags: RunFlags): TaskSubmission {
  if (flags.sh !== undefined && command.length > 0) throw new CliError('give either --sh CMDLINE or a command after --, not both', 2);
  if (flags.sh === undefined && command.length === 0 && flags.image === undefined) {
    throw new CliError('nothing to run: give a command after -- (gantry run -- echo hello), or an --image', 2);
  }
  if (flags.forcePull && flags.image === undefined) throw new CliError('--force-pull needs --image', 2);
  if (flags.network !== undefined && flags.image === undefined) throw new CliError('--network needs --image', 2);
  if (flags.network !== undefined && !(CONTAINER_NETWORKS as readonly string[]).includes(flags.network)) {
    throw new CliError(`--network must be one of ${CONTAINER_NETWORKS.join(', ')} (got "${flags.network}")`, 2);
  }
  const submission: TaskSubmission = {};
  if (flags.sh !== undefined) submission.cmd = flags.sh;
  else if (command.length > 0) submission.args = command;
  if (flags.image !== undefined) submission.image = flags.image;
  if (flags.forcePull) submission.forcePull = true;
  if (flags.network !== undefined) submission.network = flags.network as ContainerNetwork;
  if (flags.cpus !== undefined) submission.cpus = number(flags.cpus, '--cpus');
  if (flags.mem !== undefined) submission.mem = number(flags.mem, '--mem');
  if (flags.disk !== undefined) submission.disk = number(flags.disk, '--disk');
  if (flags.gpus !== undefined) submission.gpus = number(flags.gpus, '--gpus');
  if (flags.port.length) submission.ports = flags.port.map((p) => number(p, '--port'));
  if (flags.resource.length) submission.resources = Object.fromEntries(flags.resource.map((r) => keyValue(r, '--resource', true)).map(([k, v]) => [k, number(v, `--resource ${k}`)]));
  if (flags.constraint.length) submission.constraints = flags.constraint;
  if (flags.env.length) submission.env = Object.fromEntries(flags.env.map((e) => keyValue(e, '--env', false)));
  if (flags.name) submission.name = flags.name;
  if (flags.group) submission.group = flags.group;
  if (flags.strategy) submission.strategy = flags.strategy;
  if (flags.killGrace) submission.killGraceMs = parseDuration(flags.killGrace, '--kill-grace');
  const restart = restartSubmission(flags);
  if (restart) submission.restart = restart;
  return submission;
}

/** `--restart on-failure:5 --restart-backoff 2s ...` as TaskSubmission.restart. */
function restartSubmission(flags: RunFlags): TaskSubmission['restart'] {
  const tuning = [flags.restartBackoff, flags.restartFactor, flags.restartMaxBackoff, flags.restartResetAfter].some((f) => f !== undefined);
  if (flags.restart === undefined) {
    if (tuning) throw new CliError('--restart-backoff, --restart-factor, --restart-max-backoff and --restart-reset-after need --restart', 2);
    return undefined;
  }
  const match = /^(on-failure|always)(?::(\d+))?$/.exec(flags.restart);
  if (!match || (match[1] === 'always' && match[2] !== undefined)) {
    throw new CliError(`--restart must be on-failure, on-failure:MAX or always (got "${flags.restart}")`, 2);
  }
  const restart: NonNullable<TaskSubmission['restart']> = { policy: match[1] as 'on-failure' | 'always' };
  if (match[2] !== undefined) restart.maxRestarts = Number(match[2]);
  if (flags.restartBackoff !== undefined) restart.backoffMs = parseDuration(flags.restartBackoff, '--restart-backoff');
  if (flags.restartFactor !== undefined) restart.factor = number(flags.restartFactor, '--restart-factor');
  if (flags.restartMaxBackoff !== undefined) restart.maxBackoffMs = parseDuration(flags.restartMaxBackoff, '--restart-max-backoff');
  if (flags.restartResetAfter !== undefined) restart.resetAfterMs = parseDuration(flags.restartResetAfter, '--restart-reset-after');
  return restart;
}

async function runAttached(client: ApiClient, task: TaskRecord): Promise<FinalStatus> {
  const progress = new WaitProgress(client, task.id);
  let interrupted = 0;
  const onInterrupt = (): void => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    process.stderr.write(`\ngantry: killing task ${task.id} (Ctrl-C again to detach)\n`);
    void client.post(`/api/v1/tasks/${task.id}/kill`).catch(() => undefined);
  };
  process.on('SIGINT', onInterrupt);
  progress.start();
  try {
    const final = await followLogs(client, task.id, { follow: true, stream: 'both' });
    return final ?? { state: 'unknown', exitCode: null, reason: 'the log stream ended early' };
  } finally {
    progress.stop();
    process.off('SIGINT', onInterrupt);
  }
}

/** The task's exit code; 137 for a task killed without one (as `docker run` does), 1 for other failures. */
export function exitCodeOf(final: FinalStatus): number {
  if (final.exitCode !== null && final.exitCode !== undefined) return final.exitCode === 0 && final.state !== 'finished' ? 1 : final.exitCode;
  if (final.state === 'finished') return 0;
  if (final.state === 'killed') return 137;
  return 1;
}

function number(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new CliError(`${flag} must be a number (got "${text}")`, 2);
  return value;
}

function keyValue(text: string, flag: string, nameOnly: boolean): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`${flag} must be NAME=VALUE (got "${text}")`, 2);
  const key = text.slice(0, eq);
  if (nameOnly && !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(key)) throw new CliError(`${flag}: bad name "${key}"`, 2);
  return [key, text.slice(eq + 1)];
}
