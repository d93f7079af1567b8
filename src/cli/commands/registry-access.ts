// `gantry registry user add|rm|ls` and `gantry registry acl set|rm|ls`: the bundled registry's accounts
// and per-repository rights. Passwords are read from stdin only (as `docker login --password-stdin`
// does), never from a flag that would land in shell history and `ps`.
import type { Command } from 'commander';
import { ApiClient, CliError } from '../client.ts';
import { age, formatTable, printJson } from '../table.ts';

interface Account {
  name: string;
  kind: 'user' | 'robot';
  groups: string[];
  createdAt: string;
  token?: string;
}

interface AclRule {
  repositoryGlob: string;
  subject: string;
  actions: string[];
  createdAt: string;
}

const ACTIONS = ['pull', 'push', 'delete'];

export function registerRegistryAccessCommands(registry: Command): void {
  const user = registry.command('user').description('registry users and robot accounts');

  user
    .command('add')
    .description('add a user (password on stdin) or a robot (prints its token once)')
    .argument('<name>', 'lower-case letters, digits, . _ -')
    .option('--password-stdin', "read the user's password from stdin")
    .option('--robot', 'a robot account for CI or machines: a token is generated')
    .option('--group <group>', 'a group the account belongs to (repeat for several)', collect, [])
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { passwordStdin?: boolean; robot?: boolean; group: string[]; json?: boolean }) => {
      let body: Record<string, unknown>;
      if (flags.robot) {
        if (flags.passwordStdin) throw new CliError('a robot gets a generated token; drop --password-stdin', 2);
        body = { kind: 'robot', name, groups: flags.group };
      } else {
        if (!flags.passwordStdin) {
          throw new CliError(`give the password on stdin: printf '%s' "$PASSWORD" | gantry registry user add ${name} --password-stdin`, 2);
        }
        body = { kind: 'user', name, password: await readPassword(), groups: flags.group };
      }
      const added = await new ApiClient().post<Account>('/api/v1/registry/users', body);
      if (flags.json) return printJson(added);
      process.stdout.write(`Added registry ${added.kind} ${added.name}${added.groups.length ? ` (groups: ${added.groups.join(', ')})` : ''}\n`);
      if (added.token) process.stdout.write(`Robot token (shown once, stored hashed): ${added.token}\n`);
    });

  user
    .command('rm')
    .description('remove a user or robot (its cached logins end within 10 s, its tokens when they expire)')
    .argument('<name>')
    .action(async (name: string) => {
      await new ApiClient().delete(`/api/v1/registry/users/${encodeURIComponent(name)}`);
      process.stdout.write(`Removed registry account ${name}\n`);
    });

  user
    .command('ls')
    .description('list users and robots')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { users } = await new ApiClient().get<{ users: Account[] }>('/api/v1/registry/users');
      if (flags.json) return printJson(users);
      const rows = users.map((u) => [u.name, u.kind, u.groups.join(',') || '-', age(u.createdAt)]);
      process.stdout.write(formatTable(['NAME', 'KIND', 'GROUPS', 'CREATED'], rows) + '\n');
    });

  const acl = registry.command('acl').description('who may pull, push or delete in which repositories');

  acl
    .command('set')
    .description('grant SUBJECT exactly ACTIONS on repositories matching GLOB (the longest matching glob wins)')
    .argument('<glob>', 'repository glob: team/app, team/*, prod/** (* stays within a path segment, ** crosses /)')
    .argument('<subject>', 'a user or robot name, group:NAME, authenticated or anonymous')
    .argument('<actions>', 'comma-separated pull,push,delete, or "none" to deny')
    .action(async (glob: string, subject: string, actions: string) => {
      const list = parseActions(actions);
      const rule = await new ApiClient().put<AclRule>('/api/v1/registry/acl', { repository: glob, subject, actions: list });
      process.stdout.write(`${rule.subject} may ${rule.actions.length ? rule.actions.join(', ') : 'do nothing'} on ${rule.repositoryGlob}\n`);
    });

  acl
    .command('rm')
    .description("remove SUBJECT's rule on GLOB (the next matching rule, or the default, applies again)")
    .argument('<glob>')
    .argument('<subject>')
    .action(async (glob: string, subject: string) => {
      await new ApiClient().delete(`/api/v1/registry/acl?${new URLSearchParams({ repository: glob, subject })}`);
      process.stdout.write(`Removed the rule for ${subject} on ${glob}\n`);
    });

  acl
    .command('ls')
    .description('list the rules (without any, anonymous may pull and authenticated users pull and push)')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { rules } = await new ApiClient().get<{ rules: AclRule[] }>('/api/v1/registry/acl');
      if (flags.json) return printJson(rules);
      const rows = rules.map((r) => [r.repositoryGlob, r.subject, r.actions.join(',') || 'none']);
      process.stdout.write(formatTable(['REPOSITORIES', 'SUBJECT', 'ACTIONS'], rows) + '\n');
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseActions(text: string): string[] {
  if (text === 'none') return [];
  const actions = text.split(',').map((a) => a.trim());
  for (const action of actions) {
    if (!ACTIONS.includes(action)) throw new CliError(`unknown action "${action}": use pull, push, delete (comma-separated) or none`, 2);
  }
  return [...new Set(actions)];
}

/** The whole of stdin, less one trailing newline (as `docker login --password-stdin` reads it). */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (end with Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') throw new CliError('no password on stdin', 2);
  return password;
}
