// `gantry tasks [ID]`, `gantry queue`, `gantry logs TASK [-f]`, `gantry kill TASK`.
import type { Command } from 'commander';
import type { TaskRecord } from '../../cluster/index.ts';
import { ApiClient, CliError } from '../client.ts';
import { followLogs } from '../follow-logs.ts';
import { age, formatTable, printJson } from '../table.ts';

interface QueuedTask {
  id: string;
  name: string;
  owner: string;
  createdAt: string;
  waitingReason: string | null;
}

export function registerTaskCommands(program: Command): void {
  program
    .command('tasks')
    .description('list tasks (newest first), or show one task')
    .argument('[id]', 'a task id: show that task')
    .option('--state <states>', 'only these states, comma-separated (queued,staging,running,finished,failed,killed,lost)')
    .option('--owner <owner>', 'only tasks of this owner')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, flags: { state?: string; owner?: string; limit: string; json?: boolean }) => {
      const client = new ApiClient();
      if (id) {
        const task = await client.get<TaskRecord>(`/api/v1/tasks/${encodeURIComponent(id)}`);
        return flags.json ? printJson(task) : printTask(task);
      }
      const query = new URLSearchParams({ limit: flags.limit });
      if (flags.state) query.set('state', flags.state);
      if (flags.owner) query.set('owner', flags.owner);
      const { tasks } = await client.get<{ tasks: TaskRecord[] }>(`/api/v1/tasks?${query}`);
      if (flags.json) return printJson(tasks);
      const rows = tasks.map((t) => [
        t.id,
        t.spec.name,
        shownState(t),
        t.agentId ?? '-',
        t.exitCode === null ? '-' : String(t.exitCode),
        age(t.createdAt),
        (t.state === 'queued' ? t.waitingReason : t.reason) ?? '',
      ]);
      process.stdout.write(formatTable(['ID', 'NAME', 'STATE', 'AGENT', 'EXIT', 'AGE', 'REASON'], rows) + '\n');
    });

  program
    .command('queue')
    .description('list queued tasks and why each one waits')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { tasks } = await new ApiClient().get<{ tasks: QueuedTask[] }>('/api/v1/queue');
      if (flags.json) return printJson(tasks);
      const rows = tasks.map((t) => [t.id, t.name, age(t.createdAt), t.waitingReason ?? 'placing']);
      process.stdout.write(formatTable(['ID', 'NAME', 'WAITING', 'REASON'], rows) + '\n');
    });

  program
    .command('logs')
    .description("print a task's output; -f follows it until the task ends")
    .argument('<task>', 'task id')
    .option('-f, --follow', 'keep streaming until the task ends')
    .option('--stdout', 'only stdout')
    .option('--stderr', 'only stderr')
    .action(async (taskId: string, flags: { follow?: boolean; stdout?: boolean; stderr?: boolean }) => {
      if (flags.stdout && flags.stderr) throw new CliError('give --stdout or --stderr, not both', 2);
      const stream = flags.stdout ? 'stdout' : flags.stderr ? 'stderr' : 'both';
      await followLogs(new ApiClient(), taskId, { follow: flags.follow === true, stream });
    });

  program
    .command('kill')
    .description('kill a task: SIGTERM to its process group, SIGKILL after its grace period')
    .argument('<task>', 'task id')
    .option('--json', 'print JSON')
    .action(async (taskId: string, flags: { json?: boolean }) => {
      const task = await new ApiClient().post<TaskRecord>(`/api/v1/tasks/${encodeURIComponent(taskId)}/kill`);
      if (flags.json) return printJson(task);
      process.stdout.write(task.state === 'killed' ? `${task.id} killed\n` : `${task.id} is being killed\n`);
    });
}

function printTask(task: TaskRecord): void {
  const command = task.spec.cmd ?? (task.spec.args ?? []).join(' ');
  const lines: Array<[string, string]> = [
    ['ID', task.id],
    ['Name', task.spec.name],
    ['Owner', task.spec.owner],
    ['Group', task.spec.group],
    ['Command', command],
    ['State', shownState(task)],
    ['Agent', task.agentId ?? '-'],
    ['Resources', `cpus ${task.spec.cpus}, mem ${task.spec.mem} MiB, disk ${task.spec.disk} MiB${task.spec.gpus ? `, gpus ${task.spec.gpus}` : ''}`],
    ['Ports', task.allocation?.ports.join(', ') || '-'],
    ['Constraints', task.spec.constraints.map((c) => [c.field, c.operator, c.value].filter((x) => x !== undefined).join(':')).join(', ') || '-'],
    ['Limits', task.limits ?? '-'],
    ['Restart', task.spec.restart ? restartLine(task) : '-'],
    ['Exit code', task.exitCode === null ? '-' : String(task.exitCode)],
    ['Reason', (task.state === 'queued' ? task.waitingReason : task.reason) ?? '-'],
    ['Created', task.createdAt],
    ['Started', task.startedAt ?? '-'],
    ['Finished', task.finishedAt ?? '-'],
  ];
  for (const [label, value] of lines) process.stdout.write(`${(label + ':').padEnd(13)}${value}\n`);
}

/** The state, or `backoff` for a running task its agent will restart later (Kubernetes: CrashLoopBackOff). */
function shownState(task: TaskRecord): string {
  return task.state === 'running' && task.restartAt !== null && Date.parse(task.restartAt) > Date.now() ? 'backoff' : task.state;
}

/** `on-failure, 3 restarts, next 12:00:08` */
function restartLine(task: TaskRecord): string {
  const policy = task.spec.restart!;
  const parts = [policy.policy, `${task.restarts} restart${task.restarts === 1 ? '' : 's'}`];
  if (shownState(task) === 'backoff') parts.push(`next at ${task.restartAt}`);
  return parts.join(', ');
}
