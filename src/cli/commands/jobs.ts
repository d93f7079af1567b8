// `gantry jobs add|ls|show|run|runs|logs|kill|graph|rm`: the batch scheduler from the terminal.
// Job files are Chronos job JSON (or the same fields in YAML), one job a file.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { ApiClient, CliError } from '../client.ts';
import { followLogs } from '../follow-logs.ts';
import { age, formatTable, printJson } from '../table.ts';
import type { RunRecord as BatchRun } from '../../batch/store/batch-store.ts';

interface JobDetails {
  name: string;
  definition: Record<string, unknown>;
  kind: 'scheduled' | 'dependent';
  schedule: string | null;
  parents: string[];
  disabled: boolean;
  nextDueAt: string | null;
  activeRuns: number;
  stats: { successCount: number; errorCount: number; errorsSinceLastSuccess: number; lastSuccessAt: string | null; lastErrorAt: string | null };
}

/** A run as the API shows it. */
type RunRecord = Pick<BatchRun, 'id' | 'trigger' | 'scheduledAt' | 'state' | 'attempt' | 'taskId' | 'startedAt' | 'finishedAt' | 'exitCode' | 'reason'>;

const path = (name: string, rest = '') => `/api/v1/jobs/${encodeURIComponent(name)}${rest}`;

export function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').description('batch jobs: Chronos-compatible schedules and dependencies');

  jobs
    .command('add')
    .description('create or replace a job from a JSON or YAML file (Chronos job JSON); - reads stdin')
    .argument('<file>')
    .action(async (file: string) => {
      const saved = await new ApiClient().post<JobDetails>('/api/v1/jobs', readJobFile(file));
      const when = saved.kind === 'scheduled' ? (saved.nextDueAt ? `next run ${saved.nextDueAt}` : 'no run left on its schedule') : `runs after ${saved.parents.join(', ')}`;
      process.stdout.write(`Saved job ${saved.name}: ${when}\n`);
    });

  jobs
    .command('ls')
    .description('list jobs with their schedule, next run and outcomes')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { jobs: list } = await new ApiClient().get<{ jobs: JobDetails[] }>('/api/v1/jobs');
      if (flags.json) return printJson(list);
      const rows = list.map((j) => [
        j.name,
        j.disabled ? 'disabled' : j.activeRuns > 0 ? 'running' : 'idle',
        j.schedule ?? `after ${j.parents.join(',')}`,
        j.nextDueAt ?? '-',
        `${j.stats.successCount}/${j.stats.errorCount}`,
        lastOutcome(j),
      ]);
      process.stdout.write(formatTable(['NAME', 'STATE', 'SCHEDULE', 'NEXT RUN', 'OK/ERR', 'LAST'], rows) + '\n');
    });

  jobs
    .command('show')
    .description('one job: its definition as given, state and statistics')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const client = new ApiClient();
      const [job, stats] = await Promise.all([client.get<JobDetails>(path(name)), client.get<{ durations: Record<string, number | null> }>(path(name, '/stats'))]);
      if (flags.json) return printJson({ ...job, durations: stats.durations });
      const d = stats.durations;
      const lines = [
        `name:      ${job.name}${job.disabled ? ' (disabled)' : ''}`,
        `schedule:  ${job.schedule ?? `after ${job.parents.join(', ')}`}`,
        `next run:  ${job.nextDueAt ?? '-'}`,
        `runs:      ${job.stats.successCount} succeeded, ${job.stats.errorCount} failed, ${job.activeRuns} active; last: ${lastOutcome(job)}`,
        `durations: p50 ${ms(d.p50Ms)}, p90 ${ms(d.p90Ms)}, p99 ${ms(d.p99Ms)}, max ${ms(d.maxMs)} (${d.count ?? 0} runs)`,
        'definition:',
        JSON.stringify(job.definition, null, 2).replace(/^/gm, '  '),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });

  jobs
    .command('run')
    .description('run a job now (its schedule is left as it is)')
    .argument('<name>')
    .action(async (name: string) => {
      const run = await new ApiClient().post<RunRecord>(path(name, '/run'));
      process.stdout.write(`Started run ${run.id} of ${name}${run.taskId ? ` (task ${run.taskId})` : ''}\n`);
    });

  jobs
    .command('runs')
    .description("a job's runs, newest first")
    .argument('<name>')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { limit: string; json?: boolean }) => {
      const { runs } = await new ApiClient().get<{ runs: RunRecord[] }>(`${path(name, '/runs')}?limit=${encodeURIComponent(flags.limit)}`);
      if (flags.json) return printJson(runs);
      const rows = runs.map((r) => [
        r.id,
        r.trigger,
        r.scheduledAt,
        r.state,
        String(r.attempt + 1),
        r.exitCode === null ? '-' : String(r.exitCode),
        r.startedAt && r.finishedAt ? ms(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : '-',
        r.reason ?? '',
      ]);
      process.stdout.write(formatTable(['RUN', 'TRIGGER', 'SCHEDULED', 'STATE', 'ATTEMPT', 'EXIT', 'TOOK', 'REASON'], rows) + '\n');
    });

  jobs
    .command('logs')
    .description("a run's output (its latest attempt); -f follows it until it ends")
    .argument('<run>')
    .option('-f, --follow', 'follow until the run ends')
    .action(async (runId: string, flags: { follow?: boolean }) => {
      const client = new ApiClient();
      const run = await client.get<RunRecord>(`/api/v1/job-runs/${encodeURIComponent(runId)}`);
      if (!run.taskId) throw new CliError(`run ${runId} has no output: it is ${run.state}${run.reason ? ` (${run.reason})` : ''}`);
      await followLogs(client, run.taskId, { follow: Boolean(flags.follow) });
    });

  jobs
    .command('kill')
    .description('kill every active run of a job (no retry, no children)')
    .argument('<name>')
    .action(async (name: string) => {
      const { killed } = await new ApiClient().post<{ killed: number }>(path(name, '/kill'));
      process.stdout.write(`Killed ${killed} run${killed === 1 ? '' : 's'} of ${name}\n`);
    });

  jobs
    .command('graph')
    .description('the dependency graph in Graphviz DOT')
    .action(async () => {
      const response = await new ApiClient().stream('/api/v1/jobs-graph');
      for await (const part of response) process.stdout.write(part);
    });

  jobs
    .command('rm')
    .description('delete a job; its children are re-attached to its parents or take its schedule')
    .argument('<name>')
    .action(async (name: string) => {
      const result = await new ApiClient().delete<{ children: Array<{ summary: string }> }>(path(name));
      process.stdout.write(`Deleted job ${name}\n`);
      for (const child of result.children) process.stdout.write(`  ${child.summary}\n`);
    });
}

function readJobFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 2);
  }
  try {
    return file.endsWith('.json') || text.trimStart().startsWith('{') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CliError(`${file}: not valid JSON or YAML: ${(err as Error).message}`, 2);
  }
}

function lastOutcome(job: JobDetails): string {
  const { lastSuccessAt, lastErrorAt } = job.stats;
  if (!lastSuccessAt && !lastErrorAt) return 'never ran';
  if ((lastErrorAt ?? '') > (lastSuccessAt ?? '')) return `failed ${age(lastErrorAt)} ago`;
  return `succeeded ${age(lastSuccessAt)} ago`;
}

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`;
}
