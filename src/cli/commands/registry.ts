// `gantry registry ls [REPO]`, `gantry registry df` and `gantry registry gc`: the bundled registry as ops see it.
import type { Command } from 'commander';
import { parseBytes } from '../../shared/bytes.ts';
import { ApiClient } from '../client.ts';
import { age, formatBytes, formatTable, printJson } from '../table.ts';
import { registerRegistryAccessCommands } from './registry-access.ts';
import { registerRegistryRetentionCommands } from './registry-retention.ts';

interface Usage {
  bytesUsed: number;
  blobs: number;
  uploads: number;
  inodesUsed: number;
  freeBytes: number;
  totalBytes: number;
  freeInodes: number;
  totalInodes: number;
}

interface TagListing {
  repository: string;
  tags: Array<{ name: string; digest: string; pushedAt: string; pushedBy: string | null }>;
}

export function registerRegistryCommands(program: Command): void {
  const registry = program.command('registry').description('the bundled registry: repositories, tags, storage, users and ACL');
  registerRegistryAccessCommands(registry);
  registerRegistryRetentionCommands(registry);

  registry
    .command('ls')
    .description('list repositories, or the tags of one repository')
    .argument('[repository]', 'a repository name: list its tags')
    .option('--json', 'print JSON')
    .action(async (repository: string | undefined, flags: { json?: boolean }) => {
      const client = new ApiClient();
      if (repository) {
        const listing = await client.get<TagListing>(`/api/v1/registry/tags?${new URLSearchParams({ repository })}`);
        if (flags.json) return printJson(listing.tags);
        const rows = listing.tags.map((t) => [t.name, t.digest.slice(0, 19), age(t.pushedAt), t.pushedBy ?? '-']);
        process.stdout.write(formatTable(['TAG', 'DIGEST', 'PUSHED', 'BY'], rows) + '\n');
        return;
      }
      const names: string[] = [];
      for (let last: string | undefined; ; ) {
        const query = new URLSearchParams({ n: '1000', ...(last === undefined ? {} : { last }) });
        const page = await client.get<{ repositories: string[]; more: boolean }>(`/api/v1/registry/repositories?${query}`);
        names.push(...page.repositories);
        if (!page.more || page.repositories.length === 0) break;
        last = page.repositories[page.repositories.length - 1];
      }
      if (flags.json) return printJson(names);
      process.stdout.write(formatTable(['REPOSITORY'], names.map((n) => [n])) + '\n');
    });

  registry
    .command('df')
    .description('bytes and inodes the registry uses, and what is free on its disk')
    .option('--repos', 'bytes per repository instead, with quotas (shared layers counted once in the total)')
    .option('--json', 'print JSON')
    .action(async (flags: { repos?: boolean; json?: boolean }) => {
      if (flags.repos) return printRepositoryUsage(flags.json === true);
      const usage = await new ApiClient().get<Usage>('/api/v1/registry/usage');
      if (flags.json) return printJson(usage);
      const rows = [
        ['bytes', formatBytes(usage.bytesUsed), formatBytes(usage.freeBytes), formatBytes(usage.totalBytes)],
        ['inodes', String(usage.inodesUsed), String(usage.freeInodes), String(usage.totalInodes)],
      ];
      process.stdout.write(formatTable(['', 'USED BY REGISTRY', 'FREE ON DISK', 'DISK TOTAL'], rows) + '\n');
      process.stdout.write(`${usage.blobs} blobs, ${usage.uploads} uploads in progress\n`);
    });

  const quota = registry.command('quota').description('storage quotas per repository glob: a push over quota is refused');
  quota
    .command('set')
    .description('set the quota of the repositories matching GLOB (the longest matching glob applies)')
    .argument('<glob>', 'e.g. team/** or team/app')
    .argument('<size>', 'e.g. 10GiB, 500MiB')
    .action(async (glob: string, size: string) => {
      const saved = await new ApiClient().put<{ repositoryGlob: string; maxBytes: number }>('/api/v1/registry/quotas', { repository: glob, maxBytes: parseBytes(size, 'the size') });
      process.stdout.write(`quota ${saved.repositoryGlob}: ${formatBytes(saved.maxBytes)}\n`);
    });
  quota
    .command('ls')
    .description('list the quotas')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { quotas } = await new ApiClient().get<{ quotas: Array<{ repositoryGlob: string; maxBytes: number }> }>('/api/v1/registry/quotas');
      if (flags.json) return printJson(quotas);
      process.stdout.write(formatTable(['REPOSITORIES', 'QUOTA'], quotas.map((q) => [q.repositoryGlob, formatBytes(q.maxBytes)])) + '\n');
    });
  quota
    .command('rm')
    .description('remove a quota')
    .argument('<glob>')
    .action(async (glob: string) => {
      await new ApiClient().delete(`/api/v1/registry/quotas?repository=${encodeURIComponent(glob)}`);
      process.stdout.write(`quota ${glob} removed\n`);
    });

  registry
    .command('gc')
    .description('collect garbage now: blobs and upload sessions nothing references, older than the grace window')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--untagged', 'also collect manifests no tag points to (and then their blobs)')
    .option('--grace <duration>', 'leave what was pushed or uploaded within this long (default 1h)')
    .option('-v, --verbose', 'list every manifest, blob and upload')
    .option('--json', 'print JSON')
    .action(async (flags: { dryRun?: boolean; untagged?: boolean; grace?: string; verbose?: boolean; json?: boolean }) => {
      const run = await new ApiClient().post<GcRun>('/api/v1/registry/gc', {
        dryRun: flags.dryRun === true,
        untagged: flags.untagged === true,
        ...(flags.grace !== undefined ? { grace: flags.grace } : {}),
      });
      if (flags.json) return printJson(run);
      if (flags.verbose) {
        for (const m of run.manifests) process.stdout.write(`manifest ${m.repository}@${m.digest} ${formatBytes(m.size)}\n`);
        for (const b of run.blobs) process.stdout.write(`blob ${b.digest} ${formatBytes(b.size)}\n`);
        for (const u of run.uploads) process.stdout.write(`upload ${u.id} ${formatBytes(u.size)}\n`);
      }
      const rows = [
        ['manifests', String(run.manifests.length), '-'],
        ['blobs', String(run.blobs.length), formatBytes(run.blobs.reduce((sum, b) => sum + b.size, 0))],
        ['upload sessions', String(run.uploads.length), formatBytes(run.uploads.reduce((sum, u) => sum + u.size, 0))],
      ];
      process.stdout.write(formatTable([run.dryRun ? 'WOULD DELETE' : 'DELETED', 'COUNT', 'BYTES'], rows) + '\n');
      const took = ((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1);
      process.stdout.write(`${run.dryRun ? 'would free' : 'freed'} ${formatBytes(run.bytesFreed)} and ${run.inodesFreed} inodes in ${took} s${run.dryRun ? ' (dry run: nothing was deleted)' : ''}\n`);
    });
}

interface GcRun {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  manifests: Array<{ repository: string; digest: string; size: number }>;
  blobs: Array<{ digest: string; size: number }>;
  uploads: Array<{ id: string; size: number }>;
  bytesFreed: number;
  inodesFreed: number;
}

async function printRepositoryUsage(json: boolean): Promise<void> {
  type Row = { repository: string; bytes: number; tags: number; quota: { repositoryGlob: string; maxBytes: number } | null };
  const usage = await new ApiClient().get<{ repositories: Row[]; totalBytes: number }>('/api/v1/registry/usage/repositories');
  if (json) return printJson(usage);
  const rows = [...usage.repositories]
    .sort((a, b) => b.bytes - a.bytes)
    .map((r) => [r.repository, String(r.tags), formatBytes(r.bytes), r.quota ? `${formatBytes(r.quota.maxBytes)} (${Math.round((100 * r.bytes) / Math.max(1, r.quota.maxBytes))}%)` : '-']);
  process.stdout.write(formatTable(['REPOSITORY', 'TAGS', 'SIZE', 'QUOTA'], rows) + '\n');
  process.stdout.write(`total ${formatBytes(usage.totalBytes)} (layers shared between repositories counted once)\n`);
}
