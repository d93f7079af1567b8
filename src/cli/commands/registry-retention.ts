// `gantry registry prune` (an ad-hoc retention policy) and `gantry registry policy set|ls|rm|run`
// (stored ones, also applied before each scheduled collection). Both print what was (or, with
// --dry-run, would be) deleted per repository and the bytes and inodes freed.
import type { Command } from 'commander';
import type { RetentionPolicy } from '../../registry/retention/policy.ts';
import cliProgress from 'cli-progress';
import type { RetentionProgress, RetentionRun } from '../../registry/retention/retention.ts';
import { parseDuration } from '../../shared/duration.ts';
import { ApiClient, CliError } from '../client.ts';
import { formatBytes, formatTable, printJson } from '../table.ts';

const integer = (text: string, flag: string): number => {
  if (!/^\d+$/.test(text)) throw new CliError(`${flag} must be a whole number (got "${text}")`, 2);
  return Number(text);
};

interface PruneFlags {
  repo?: string;
  keepLast?: string;
  olderThan?: string;
  tag?: string;
  untagged?: boolean;
  dryRun?: boolean;
  grace?: string;
  verbose?: boolean;
  json?: boolean;
}

interface PolicyFlags {
  repo: string;
  tag?: string;
  excludeTag?: string;
  keepLast?: string;
  keepLastPulled?: string;
  pushedWithin?: string;
  pulledWithin?: string;
  untagged?: boolean;
  json?: boolean;
}

export function registerRegistryRetentionCommands(registry: Command): void {
  registry
    .command('prune')
    .description('delete tags by age and count (a one-off retention policy), then free their blobs')
    .option('--repo <glob>', 'repositories to prune, e.g. team/** (default: all)')
    .option('--keep-last <n>', 'keep the N most recently pushed tags of each repository')
    .option('--older-than <duration>', 'delete only tags pushed longer ago than this, e.g. 30d is 720h')
    .option('--tag <regex>', 'only tags matching this regular expression (whole tag), e.g. "v.*"')
    .option('--untagged', 'also delete manifests no tag points to')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--grace <duration>', 'blobs pushed within this long are not freed yet (default 1h)')
    .option('-v, --verbose', 'list every deleted tag')
    .option('--json', 'print JSON')
    .action(async (flags: PruneFlags) => {
      if (flags.keepLast === undefined && flags.olderThan === undefined && !flags.untagged) {
        throw new CliError('say what to keep or delete: --keep-last N, --older-than DURATION and/or --untagged', 2);
      }
      if (flags.olderThan !== undefined) parseDuration(flags.olderThan, '--older-than');
      const run = await runWithProgress('/api/v1/registry/prune', {
        ...(flags.repo !== undefined ? { repo: flags.repo } : {}),
        ...(flags.keepLast !== undefined ? { keepLast: integer(flags.keepLast, '--keep-last') } : {}),
        ...(flags.olderThan !== undefined ? { olderThan: flags.olderThan } : {}),
        ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
        untagged: flags.untagged === true,
        dryRun: flags.dryRun === true,
        ...(flags.grace !== undefined ? { grace: flags.grace } : {}),
      });
      printRun(run, flags);
    });

  const policy = registry.command('policy').description('retention policies: kept tags per repository glob, applied before each scheduled collection');

  policy
    .command('set')
    .description('create or replace a retention policy (rules combine with OR: a tag any rule keeps is kept)')
    .argument('<name>', 'the policy\'s name')
    .requiredOption('--repo <glob>', 'repositories it covers, e.g. team/**')
    .option('--tag <regex>', 'only tags matching this (whole tag); others are left alone')
    .option('--exclude-tag <regex>', 'leave tags matching this alone')
    .option('--keep-last <n>', 'keep the N most recently pushed tags')
    .option('--keep-last-pulled <n>', 'keep the N most recently pulled tags')
    .option('--pushed-within <duration>', 'keep tags pushed within this long')
    .option('--pulled-within <duration>', 'keep tags pulled within this long')
    .option('--untagged', 'delete manifests no tag points to')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: PolicyFlags) => {
      const body = {
        repositories: flags.repo,
        tags: { ...(flags.tag !== undefined ? { include: flags.tag } : {}), ...(flags.excludeTag !== undefined ? { exclude: flags.excludeTag } : {}) },
        rules: {
          ...(flags.keepLast !== undefined ? { keepLastPushed: integer(flags.keepLast, '--keep-last') } : {}),
          ...(flags.keepLastPulled !== undefined ? { keepLastPulled: integer(flags.keepLastPulled, '--keep-last-pulled') } : {}),
          ...(flags.pushedWithin !== undefined ? { pushedWithinMs: parseDuration(flags.pushedWithin, '--pushed-within') } : {}),
          ...(flags.pulledWithin !== undefined ? { pulledWithinMs: parseDuration(flags.pulledWithin, '--pulled-within') } : {}),
        },
        untagged: flags.untagged === true,
      };
      const saved = await new ApiClient().put<RetentionPolicy>(`/api/v1/registry/policies/${encodeURIComponent(name)}`, body);
      if (flags.json) printJson(saved);
      else process.stdout.write(`policy ${saved.name} saved: ${describe(saved)}\n`);
    });

  policy
    .command('ls')
    .description('list the retention policies')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { policies } = await new ApiClient().get<{ policies: RetentionPolicy[] }>('/api/v1/registry/policies');
      if (flags.json) return printJson(policies);
      process.stdout.write(formatTable(['NAME', 'REPOSITORIES', 'KEEPS'], policies.map((p) => [p.name, p.repositories, describe(p)])) + '\n');
    });

  policy
    .command('rm')
    .description('remove a retention policy')
    .argument('<name>')
    .action(async (name: string) => {
      await new ApiClient().delete(`/api/v1/registry/policies/${encodeURIComponent(name)}`);
      process.stdout.write(`policy ${name} removed\n`);
    });

  policy
    .command('run')
    .description('apply a retention policy now (then free the blobs it leaves unreferenced)')
    .argument('<name>')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--grace <duration>', 'blobs pushed within this long are not freed yet (default 1h)')
    .option('-v, --verbose', 'list every deleted tag')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { dryRun?: boolean; grace?: string; verbose?: boolean; json?: boolean }) => {
      const run = await runWithProgress(`/api/v1/registry/policies/${encodeURIComponent(name)}/run`, {
        dryRun: flags.dryRun === true,
        ...(flags.grace !== undefined ? { grace: flags.grace } : {}),
      });
      printRun(run, flags);
    });
}

const PHASES: Record<RetentionProgress['phase'], string> = { repositories: 'deciding', manifests: 'deleting manifests', blobs: 'freeing blobs' };

/**
 * Starts a retention run and waits for its result, with a progress bar on a terminal (repositories
 * decided, then manifests deleted; the blobs' count as it grows).
 */
async function runWithProgress(route: string, body: Record<string, unknown>): Promise<RetentionRun> {
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: ' {phase} [{bar}] {value}/{total}', stream: process.stderr, clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  let phase: string | null = null;
  let result: RetentionRun | undefined;
  try {
    await new ApiClient().postLines(route, body, (message) => {
      if (message.error !== undefined) throw new CliError(String(message.message ?? message.error));
      const progress = message.progress as RetentionProgress | undefined;
      if (!progress) {
        result = (message.result ?? message) as RetentionRun;
        return;
      }
      if (!bar) return;
      const total = progress.total ?? progress.done;
      if (phase !== progress.phase) {
        if (phase !== null) bar.stop();
        phase = progress.phase;
        bar.start(total, progress.done, { phase: PHASES[progress.phase] });
      } else {
        bar.setTotal(total);
        bar.update(progress.done);
      }
    });
  } finally {
    bar?.stop();
  }
  if (!result) throw new CliError('the server ended the run without a result');
  return result;
}

/** `tags v.*: last 3 pushed, or pushed within 7d; untagged deleted` */
function describe(policy: RetentionPolicy): string {
  const { rules } = policy;
  const keeps = [
    rules.keepLastPushed !== undefined ? `last ${rules.keepLastPushed} pushed` : null,
    rules.keepLastPulled !== undefined ? `last ${rules.keepLastPulled} pulled` : null,
    rules.pushedWithinMs !== undefined ? `pushed within ${duration(rules.pushedWithinMs)}` : null,
    rules.pulledWithinMs !== undefined ? `pulled within ${duration(rules.pulledWithinMs)}` : null,
  ].filter((k): k is string => k !== null);
  const scope = [policy.tags.include ? `tags ${policy.tags.include}` : 'all tags', policy.tags.exclude ? `except ${policy.tags.exclude}` : null].filter(Boolean).join(' ');
  return `${scope}: ${keeps.length ? keeps.join(', or ') : 'all kept'}${policy.untagged ? '; untagged deleted' : ''}`;
}

function duration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0 && ms >= size) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function printRun(run: RetentionRun, flags: { verbose?: boolean; json?: boolean }): void {
  if (flags.json) return printJson(run);
  if (flags.verbose) {
    for (const d of run.deleted) process.stdout.write(`${run.dryRun ? 'would delete' : 'deleted'} ${d.repository}@${d.digest} ${d.tags.length ? d.tags.join(', ') : '(untagged)'}\n`);
  }
  const byRepository = new Map<string, { manifests: number; tags: number; bytes: number }>();
  for (const d of run.deleted) {
    const row = byRepository.get(d.repository) ?? { manifests: 0, tags: 0, bytes: 0 };
    row.manifests++;
    row.tags += d.tags.length;
    row.bytes += d.size;
    byRepository.set(d.repository, row);
  }
  const rows = [...byRepository].map(([repository, r]) => [repository, String(r.tags), String(r.manifests)]);
  process.stdout.write(formatTable(['REPOSITORY', run.dryRun ? 'TAGS TO DELETE' : 'TAGS DELETED', 'MANIFESTS'], rows) + '\n');
  process.stdout.write(
    `${run.repositories} repositories covered; ${run.dryRun ? 'would free' : 'freed'} ${formatBytes(run.bytesFreed)} and ${run.inodesFreed} inodes (${run.blobs} blobs)${run.dryRun ? ' (dry run: nothing was deleted)' : ''}\n`,
  );
}
