// The repository the benchmark pushes: a bare repository on local disk served over file://, built and
// updated with the real git CLI (a work tree commits and pushes to it, as a developer would).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

export async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: GIT_ENV, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export interface BenchRepo {
  /** owner/name, as the payloads and the pipelines name it. */
  fullName: string;
  bare: string;
  cloneUrl: string;
  work: string;
  /** The first commit on main. */
  main: string;
  /** Commits a change to a counter file on `branch` and pushes it; returns [before, after]. */
  pushCommit(branch: string): Promise<{ before: string | null; after: string }>;
  /** Points `count` branches `prefix0..` at the main commit, in one ref transaction. */
  createBranches(prefix: string, count: number): Promise<void>;
}

/**
 * A small repository (a README, `.gantry.yml`, 40 source files of a few KiB) so that the mirror fetch
 * and the clone step move real objects, not an empty tree.
 */
export async function createRepo(root: string, fullName: string, gantryYml: string): Promise<BenchRepo> {
  const bare = path.join(root, `${fullName.replace('/', '-')}.git`);
  const work = path.join(root, 'work');
  await mkdir(bare, { recursive: true });
  await git(bare, ['init', '--quiet', '--bare', '--initial-branch=main']);
  await mkdir(path.join(work, 'src'), { recursive: true });
  await git(work, ['init', '--quiet', '--initial-branch=main']);
  await writeFile(path.join(work, 'README.md'), `# ${fullName}\n\nThe repository bench/ci pushes.\n`);
  await writeFile(path.join(work, '.gantry.yml'), gantryYml);
  for (let i = 0; i < 40; i++) {
    const lines = Array.from({ length: 80 }, (_, l) => `export const value${l} = ${i * 1000 + l}; // file ${i} line ${l}`);
    await writeFile(path.join(work, 'src', `module-${i}.ts`), lines.join('\n') + '\n');
  }
  await writeFile(path.join(work, 'counter.txt'), '0\n');
  await git(work, ['add', '-A']);
  await git(work, ['commit', '--quiet', '-m', 'initial commit']);
  const cloneUrl = `file://${bare}`;
  await git(work, ['remote', 'add', 'origin', cloneUrl]);
  await git(work, ['push', '--quiet', 'origin', 'main']);
  const main = await git(work, ['rev-parse', 'HEAD']);
  const heads = new Map<string, string>();
  let counter = 0;

  return {
    fullName,
    bare,
    cloneUrl,
    work,
    main,
    async pushCommit(branch) {
      const before = heads.get(branch) ?? null;
      await git(work, ['checkout', '--quiet', '-B', branch, before ?? main]);
      counter += 1;
      await writeFile(path.join(work, 'counter.txt'), `${counter}\n`);
      await git(work, ['commit', '--quiet', '-am', `change ${counter}`]);
      const after = await git(work, ['rev-parse', 'HEAD']);
      await git(work, ['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`]);
      heads.set(branch, after);
      return { before, after };
    },
    async createBranches(prefix, count) {
      const lines = Array.from({ length: count }, (_, i) => `create refs/heads/${prefix}${i} ${main}\n`).join('');
      await new Promise<void>((resolve, reject) => {
        const child = execFile('git', ['update-ref', '--stdin'], { cwd: bare, env: GIT_ENV }, (err) => (err ? reject(err) : resolve()));
        child.stdin!.end(lines);
      });
    },
  };
}
