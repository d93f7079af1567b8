// `gantry ci ls|run|runs|show|logs|approve|cancel|deliveries|secret`: pipelines and their runs from the terminal.
import type { Command } from 'commander';
import { ApiClient, CliError } from '../client.ts';
import { followLogs } from '../follow-logs.ts';
import { age, formatTable, printJson } from '../table.ts';
import type { Delivery } from '../../ci/store/deliveries.ts';
import type { CiRun, CiStep } from '../../ci/store/runs.ts';

/** A step and a run as the API shows them (GET /api/v1/runs/ID). */
type Step = Omit<CiStep, 'runId'>;
type Run = Pick<CiRun, 'id' | 'repository' | 'pipeline' | 'number' | 'event' | 'ref' | 'commit' | 'state' | 'reason' | 'createdAt' | 'startedAt' | 'finishedAt'> & { steps?: Step[] };

const ACTIVE = new Set(['queued', 'running']);
const STEP_ACTIVE = new Set(['pending', 'running']);

export function registerCiCommands(program: Command): void {
  const ci = program.command('ci').description('CI pipelines and runs');

  ci.command('ls')
    .description("the server's pipelines (and files that did not load)")
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const listing = await new ApiClient().get<{ pipelines: Array<{ name: string; repository: string | null; file: string; steps: string[] }>; errors: Array<{ file: string; message: string }> }>('/api/v1/pipelines');
      if (flags.json) return printJson(listing);
      const rows = listing.pipelines.map((p) => [p.name, p.repository ?? '-', p.steps.join(' → '), p.file]);
      process.stdout.write(formatTable(['PIPELINE', 'REPOSITORY', 'STEPS', 'FILE'], rows) + '\n');
      for (const error of listing.errors) process.stderr.write(`${error.message}\n`);
    });

  ci.command('run')
    .description("run a pipeline by hand at a branch, tag or ref: a server pipeline, or with --repo a repository's (its .gantry.yml too)")
    .argument('<pipeline>')
    .option('--ref <ref>', 'branch name, tag name (refs/tags/...) or full ref', 'main')
    .option('--repo <owner/name>', "the repository whose pipeline it is (needed for a .gantry.yml's)")
    .option('--url <url>', 'clone URL (default: the last one seen for the repository)')
    .option('-f, --follow', 'follow the run until it ends; exit with its outcome')
    .action(async (pipeline: string, flags: { ref: string; repo?: string; url?: string; follow?: boolean }) => {
      const client = new ApiClient();
      const run = await client.post<Run>(`/api/v1/pipelines/${encodeURIComponent(pipeline)}/runs`, { ref: flags.ref, ...(flags.url ? { url: flags.url } : {}), ...(flags.repo ? { repository: flags.repo } : {}) });
      process.stdout.write(`Started ${run.pipeline} #${run.number} (${run.id}) at ${run.ref}\n`);
      if (flags.follow) await followRun(client, run.id, undefined);
    });

  ci.command('runs')
    .description('runs, newest first')
    .argument('[pipeline]')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (pipeline: string | undefined, flags: { limit: string; json?: boolean }) => {
      const query = new URLSearchParams({ limit: flags.limit, ...(pipeline ? { pipeline } : {}) });
      const { runs } = await new ApiClient().get<{ runs: Run[] }>(`/api/v1/runs?${query}`);
      if (flags.json) return printJson(runs);
      // The repository too: two repositories' unnamed .gantry.yml are both the pipeline "gantry".
      const rows = runs.map((r) => [r.id, r.repository, `${r.pipeline} #${r.number}`, r.event, r.ref.replace(/^refs\/(heads|tags)\//, ''), r.commit?.slice(0, 8) ?? '-', r.state, took(r), age(r.createdAt), r.reason ?? '']);
      process.stdout.write(formatTable(['RUN', 'REPOSITORY', 'PIPELINE', 'EVENT', 'REF', 'COMMIT', 'STATE', 'TOOK', 'AGE', 'REASON'], rows) + '\n');
    });

  ci.command('show')
    .description('a run and its steps')
    .argument('<run>')
    .option('--json', 'print JSON')
    .action(async (runId: string, flags: { json?: boolean }) => {
      const run = await new ApiClient().get<Run>(`/api/v1/runs/${encodeURIComponent(runId)}`);
      if (flags.json) return printJson(run);
      process.stdout.write(`${run.repository} ${run.pipeline} #${run.number} ${run.state}${run.reason ? `: ${run.reason}` : ''} (${run.ref} ${run.commit?.slice(0, 8) ?? ''})\n`);
      process.stdout.write(stepTable(run.steps ?? []) + '\n');
      // What the build steps pushed, pinned by digest: what a deploy rolls out and `docker pull` takes.
      for (const step of run.steps ?? []) {
        if (step.image) process.stdout.write(`image ${step.name}: ${step.image}\n`);
        if (step.deploymentId) process.stdout.write(`deployment ${step.name}: ${step.deploymentId}\n`);
        if (step.approvedAt) process.stdout.write(`approved ${step.name}: by ${step.approvedBy} at ${step.approvedAt}\n`);
      }
    });

  ci.command('logs')
    .description("a run's output, or one step's; -f follows it live with the steps' status")
    .argument('<run>')
    .argument('[step]')
    .option('-f, --follow', 'follow until the run ends')
    .action(async (runId: string, step: string | undefined, flags: { follow?: boolean }) => {
      const client = new ApiClient();
      if (flags.follow) return followRun(client, runId, step);
      const run = await client.get<Run>(`/api/v1/runs/${encodeURIComponent(runId)}`);
      const steps = (run.steps ?? []).filter((s) => step === undefined || s.name === step);
      if (step !== undefined && steps.length === 0) throw new CliError(`run ${runId} has no step "${step}"`);
      for (const s of steps) {
        if (step === undefined) process.stdout.write(`--- ${s.name} (${s.state})\n`);
        if (s.taskId) await followLogs(client, s.taskId, { follow: false });
        else if (hasServerLog(s)) process.stdout.write(await client.getText(`/api/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(s.name)}/logs`));
      }
    });

  ci.command('approve')
    .description('let a step that waits for approval run (who and when are recorded)')
    .argument('<run>')
    .argument('<step>')
    .action(async (runId: string, step: string) => {
      const run = await new ApiClient().post<Run>(`/api/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step)}/approve`);
      const approved = run.steps?.find((s) => s.name === step);
      process.stdout.write(`${run.pipeline} #${run.number}: ${step} approved by ${approved?.approvedBy ?? '?'}; it is ${approved?.state ?? '?'}\n`);
    });

  ci.command('cancel')
    .description('cancel a run: running steps are stopped within their grace period')
    .argument('<run>')
    .action(async (runId: string) => {
      const run = await new ApiClient().post<Run>(`/api/v1/runs/${encodeURIComponent(runId)}/cancel`);
      process.stdout.write(`${run.pipeline} #${run.number}: ${run.state}\n`);
    });

  ci.command('deliveries')
    .description('webhook deliveries, newest first: what each started, or why nothing')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (flags: { limit: string; json?: boolean }) => {
      const { deliveries } = await new ApiClient().get<{ deliveries: Array<Omit<Delivery, 'payload'>> }>(`/api/v1/ci/deliveries?${new URLSearchParams({ limit: flags.limit })}`);
      if (flags.json) return printJson(deliveries);
      const rows = deliveries.map((d) => [d.deliveryId, d.event, d.repository ?? '-', d.ref?.replace(/^refs\/(heads|tags)\//, '') ?? '-', d.outcome, age(d.receivedAt), d.detail ?? '']);
      process.stdout.write(formatTable(['DELIVERY', 'EVENT', 'REPOSITORY', 'REF', 'OUTCOME', 'AGE', 'DETAIL'], rows) + '\n');
    });

  const secret = ci.command('secret').description('secrets pipelines name with from_secret');
  secret
    .command('set')
    .description('set a secret; its value is read from stdin')
    .argument('<name>')
    .action(async (name: string) => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const value = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      if (!value) throw new CliError('no value on stdin', 2);
      await new ApiClient().put(`/api/v1/ci/secrets/${encodeURIComponent(name)}`, { value });
      process.stdout.write(`Set secret ${name}\n`);
    });
  secret
    .command('ls')
    .description('secret names (values are never shown)')
    .action(async () => {
      const { secrets } = await new ApiClient().get<{ secrets: Array<{ name: string; updatedAt: string }> }>('/api/v1/ci/secrets');
      process.stdout.write(formatTable(['NAME', 'UPDATED'], secrets.map((s) => [s.name, age(s.updatedAt)])) + '\n');
    });
  secret
    .command('rm')
    .argument('<name>')
    .action(async (name: string) => {
      await new ApiClient().delete(`/api/v1/ci/secrets/${encodeURIComponent(name)}`);
      process.stdout.write(`Removed secret ${name}\n`);
    });
}

/**
 * Follows a run: each step's output as it runs (steps in the order they start), a status line on
 * stderr when a step changes, and the run's outcome as the exit code (0 success, 1 otherwise).
 */
async function followRun(client: ApiClient, runId: string, only: string | undefined): Promise<void> {
  const printed = new Set<string>();
  const reported = new Map<string, string>();
  /** Lines printed so far of the steps that run on the server (deploys), which have no task. */
  const serverLines = new Map<string, number>();
  for (;;) {
    const run = await client.get<Run>(`/api/v1/runs/${encodeURIComponent(runId)}`);
    for (const step of run.steps ?? []) {
      if ((only === undefined || step.name === only) && !step.taskId && hasServerLog(step)) {
        const after = serverLines.get(step.name) ?? 0;
        const text = await client.getText(`/api/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step.name)}/logs?after=${after}`);
        process.stdout.write(text);
        serverLines.set(step.name, after + (text.match(/\n/g)?.length ?? 0));
      }
      if (reported.get(step.name) !== step.state) {
        reported.set(step.name, step.state);
        process.stderr.write(`[${step.name}] ${step.state}${step.reason && !STEP_ACTIVE.has(step.state) ? `: ${step.reason}` : ''}\n`);
      }
      if ((only === undefined || step.name === only) && step.taskId && !printed.has(step.name) && step.state !== 'pending') {
        printed.add(step.name);
        await followLogs(client, step.taskId, { follow: true });
        continue;
      }
    }
    // Over once finishedAt is set: a canceled run's steps still stop within their grace period, and
    // their last output and final states come after the run's state changed.
    if (!ACTIVE.has(run.state) && run.finishedAt !== null) {
      process.stderr.write(`${run.pipeline} #${run.number} ${run.state}${run.reason ? `: ${run.reason}` : ''}\n`);
      if (run.state !== 'success') process.exitCode = 1;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** A step that ran on the server (a deploy) keeps its own lines; one with a task has its task's log. */
function hasServerLog(step: Step): boolean {
  return step.deploymentId !== null || (step.startedAt !== null && step.taskIds.length === 0);
}

function stepTable(steps: Step[]): string {
  const rows = steps.map((s) => [s.name, s.state, String(s.attempt + 1), s.exitCode === null ? '-' : String(s.exitCode), took(s), s.reason ?? '']);
  return formatTable(['STEP', 'STATE', 'ATTEMPT', 'EXIT', 'TOOK', 'REASON'], rows);
}

function took(item: { startedAt: string | null; finishedAt: string | null }): string {
  if (!item.startedAt) return '-';
  const ms = Date.parse(item.finishedAt ?? new Date().toISOString()) - Date.parse(item.startedAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
