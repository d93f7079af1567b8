// `gantry registry ls [REPO]` and `gantry registry df`: the bundled registry as ops see it.
import type { Command } from 'commander';
import { ApiClient } from '../client.ts';
import { age, formatBytes, formatTable, printJson } from '../table.ts';
import { registerRegistryAccessCommands } from './registry-access.ts';

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
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const usage = await new ApiClient().get<Usage>('/api/v1/registry/usage');
      if (flags.json) return printJson(usage);
      const rows = [
        ['bytes', formatBytes(usage.bytesUsed), formatBytes(usage.freeBytes), formatBytes(usage.totalBytes)],
        ['inodes', String(usage.inodesUsed), String(usage.freeInodes), String(usage.totalInodes)],
      ];
      process.stdout.write(formatTable(['', 'USED BY REGISTRY', 'FREE ON DISK', 'DISK TOTAL'], rows) + '\n');
      process.stdout.write(`${usage.blobs} blobs, ${usage.uploads} uploads in progress\n`);
    });
}

