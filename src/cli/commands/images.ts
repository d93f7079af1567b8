// `gantry images ls` (which agents hold which images) and `gantry images prewarm IMAGE [--agents C]`
// (pull an image onto agents ahead of a deployment, with each agent's progress as it goes).
import type { Command } from 'commander';
import { TERMINAL_STATES, type TaskRecord } from '../../cluster/index.ts';
import { ApiClient, CliError } from '../client.ts';
import { formatTable, printJson } from '../table.ts';

interface PrewarmAnswer {
  image: string;
  tasks: Array<{ agentId: string; hostname: string; task: TaskRecord }>;
  alreadyHeld: Array<{ agentId: string; hostname: string }>;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const POLL_MS = 300;

export function registerImageCommands(program: Command): void {
  const images = program.command('images').description('images on the agents: list them, pre-warm them');

  images
    .command('ls')
    .description('list the images the agents hold (as they last reported) and which agents hold each')
    .argument('[filter]', 'only images whose name contains this')
    .option('--json', 'print JSON')
    .action(async (filter: string | undefined, flags: { json?: boolean }) => {
      const { images: listed } = await new ApiClient().get<{ images: Array<{ image: string; agents: Array<{ agentId: string; hostname: string }> }> }>('/api/v1/images');
      const shown = filter ? listed.filter((i) => i.image.includes(filter)) : listed;
      if (flags.json) return printJson(shown);
      const rows = shown.map((i) => [i.image, String(i.agents.length), i.agents.map((a) => a.hostname).join(', ')]);
      process.stdout.write(formatTable(['IMAGE', 'AGENTS', 'HOSTNAMES'], rows) + '\n');
    });

  images
    .command('prewarm')
    .description('pull an image onto agents ahead of a deployment, showing each agent\'s progress')
    .argument('<image>', 'the image reference, e.g. 127.0.0.1:5000/team/app:v2')
    .option('--agents <constraint>', 'only agents matching field:IS|LIKE|UNLIKE:value, e.g. rack:IS:r1 (repeatable; all must hold)', collect, [])
    .option('--force-pull', 'pull even on agents that hold the image')
    .option('-d, --detach', 'start the pulls and return (the task ids are printed)')
    .option('--json', 'print the answer (with --detach) or the final tasks as JSON')
    .action(async (image: string, flags: { agents: string[]; forcePull?: boolean; detach?: boolean; json?: boolean }) => {
      const client = new ApiClient();
      const answer = await client.post<PrewarmAnswer>('/api/v1/images/prewarm', {
        image,
        ...(flags.agents.length > 0 ? { agents: flags.agents } : {}),
        ...(flags.forcePull ? { forcePull: true } : {}),
      });
      for (const held of answer.alreadyHeld) if (!flags.json) process.stderr.write(`${held.hostname}: already holds ${answer.image}\n`);
      if (flags.detach) {
        if (flags.json) return printJson(answer);
        for (const t of answer.tasks) process.stdout.write(`${t.hostname}\t${t.task.id}\n`);
        return;
      }
      const final = await followPulls(client, answer, !flags.json);
      if (flags.json) printJson(final.map((t) => t.task));
      else {
        const rows = [
          ...answer.alreadyHeld.map((h) => [h.hostname, 'already held', '-', '-']),
          ...final.map((t) => [t.hostname, t.task.state === 'finished' ? 'pulled' : t.task.state, seconds(t.task), t.task.state === 'finished' ? '-' : (t.task.reason ?? '-')]),
        ];
        process.stdout.write(formatTable(['HOSTNAME', 'RESULT', 'TIME', 'REASON'], rows) + '\n');
      }
      const failed = final.filter((t) => t.task.state !== 'finished').length;
      if (failed > 0) throw new CliError(`${failed} of ${final.length} agents did not pull ${answer.image}`, 1);
    });
}

/**
 * Waits for every pull task to end. With `show`, prints each agent's progress as it comes, prefixed by
 * its hostname: why it waits while it is queued, then every new line of its pull's output.
 */
async function followPulls(client: ApiClient, answer: PrewarmAnswer, show: boolean): Promise<PrewarmAnswer['tasks']> {
  const current = answer.tasks.map((t) => ({ ...t, printed: 0, said: '' }));
  const say = (t: (typeof current)[number], line: string): void => {
    if (line === t.said) return;
    t.said = line;
    process.stderr.write(`${t.hostname}: ${line}\n`);
  };
  for (;;) {
    await Promise.all(
      current.map(async (t) => {
        if (TERMINAL_STATES.has(t.task.state)) return;
        t.task = await client.get<TaskRecord>(`/api/v1/tasks/${t.task.id}`);
        if (!show) return;
        if (t.task.state === 'queued') return say(t, `waiting for the agent${t.task.waitingReason ? `: ${t.task.waitingReason}` : ''}`);
        const log = await client.getText(`/api/v1/tasks/${t.task.id}/logs`).catch(() => '');
        const complete = log.slice(0, log.lastIndexOf('\n') + 1);
        for (const line of complete.slice(t.printed).split('\n').filter(Boolean)) say(t, line.replace(/^gantry: pull \S+: /, ''));
        t.printed = Math.max(t.printed, complete.length);
        if (TERMINAL_STATES.has(t.task.state) && t.task.state !== 'finished') say(t, `${t.task.state}: ${t.task.reason ?? ''}`);
      }),
    );
    if (current.every((t) => TERMINAL_STATES.has(t.task.state))) return current;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function seconds(task: TaskRecord): string {
  if (!task.stagedAt || !task.finishedAt) return '-';
  return `${((Date.parse(task.finishedAt) - Date.parse(task.stagedAt)) / 1000).toFixed(1)} s`;
}
