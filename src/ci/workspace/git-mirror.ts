// The server's own bare mirrors of the repositories it builds, with the real `git` CLI: enough to read
// `.gantry.yml` at the pushed commit and to list the paths a push changed (the payload's lists stop at
// 20 commits), before any step runs. Steps clone on their agent; this never leaves the server.
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';
import { sharedLauncher } from '../../shared/launcher/launcher.ts';
import { spreadNewSubdirectories } from '../../shared/spread-directories.ts';

/** Transports git may use for a clone URL; `ext::` (runs commands) and others are refused. */
const ALLOWED_URL = /^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)/;
const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** Refs named on one for-each-ref command line: well under the kernel's limit on arguments. */
const FORGET_CHUNK = 500;
/** A branch or tag ref without what a for-each-ref pattern or the update-ref protocol would read. */
const PLAIN_REF = /^refs\/(heads|tags)\/[^\0-\x20\x7f*?[\\^~:]+$/;

export function checkCloneUrl(url: string): string {
  if (!ALLOWED_URL.test(url) || /\s/.test(url)) throw new Invalid(`clone URL "${url.slice(0, 200)}" is not an http(s), ssh, git or file URL`);
  return url;
}

export class GitMirror {
  /** Settles once the mirrors' root exists, flagged so that each mirror gets its own block group. */
  private rootReady: Promise<void> | undefined;

  constructor(private readonly root: string) {}

  /** Fetches `ref` (and so the commit it names) from the URL into the mirror. */
  async fetch(url: string, ref: string): Promise<void> {
    const dir = await this.mirrorOf(checkCloneUrl(url));
    await this.git(dir, ['fetch', '--quiet', '--no-tags', '--force', url, `+${ref}:${ref}`]);
  }

  /** The commit `ref` points to in the mirror (as last fetched). */
  async resolve(url: string, ref: string): Promise<string> {
    const dir = await this.mirrorOf(url);
    return (await this.git(dir, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
  }

  /** A file's content at a commit, or null when the commit has no such file. */
  async readFile(url: string, commit: string, file: string): Promise<string | null> {
    const dir = await this.mirrorOf(url);
    try {
      return await this.git(dir, ['show', `${commit}:${file}`]);
    } catch (err) {
      if (/does not exist|exists on disk, but not in|invalid object name/i.test(String((err as { stderr?: string }).stderr ?? err))) return null;
      throw err;
    }
  }

  /** Paths changed from `before` to `after`; null when unknown (a new branch, or `before` is not here). */
  async changedPaths(url: string, before: string | null, after: string): Promise<string[] | null> {
    if (!before || /^0+$/.test(before) || !COMMIT.test(before)) return null;
    const dir = await this.mirrorOf(url);
    try {
      // No `cat-file -e` first: one git process less on the way from a push to its first step.
      const out = await this.git(dir, ['diff', '--name-only', '-z', before, after]);
      return out.split('\0').filter(Boolean);
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '');
      if (/bad object|unknown revision|invalid object/i.test(stderr) && stderr.includes(before)) return null;
      throw err;
    }
  }

  /**
   * Drops refs the repository no longer has (deleted branches and tags) from the mirror, in one
   * transaction per 500; refs the mirror does not hold are left alone, and so is a mirror not made
   * yet. Returns how many it dropped. Why:
   * every fetch walks all of the mirror's refs twice (marking them complete, then checking
   * connectivity against them), so a mirror that kept every branch ever pushed would make each push's
   * fetch slower: 500 stale branches took one from 17–20 ms to 39–47 ms (bench/README.md, CI).
   */
  async forget(url: string, refs: readonly string[]): Promise<number> {
    const dir = this.directoryOf(url);
    const wanted = new Set(refs.filter((ref) => PLAIN_REF.test(ref) && !ref.includes('..')));
    if (wanted.size === 0 || !(await isRepository(dir))) return 0;
    let forgotten = 0;
    const all = [...wanted];
    for (let i = 0; i < all.length; i += FORGET_CHUNK) {
      const chunk = all.slice(i, i + FORGET_CHUNK);
      // Deleting a ref the mirror lacks would still create and remove a lock file: only those it holds.
      const held = (await this.git(dir, ['for-each-ref', '--format=%(refname)', '--', ...chunk])).split('\n').filter((ref) => wanted.has(ref));
      if (held.length === 0) continue;
      await this.git(dir, ['update-ref', '--stdin'], held.map((ref) => `delete ${ref}\n`).join(''));
      forgotten += held.length;
    }
    return forgotten;
  }

  /** Where the mirror of `url` is (or will be): a bare repository under the mirrors' root. */
  directoryOf(url: string): string {
    return path.join(this.root, `${createHash('sha256').update(url).digest('hex').slice(0, 24)}.git`);
  }

  private async mirrorOf(url: string): Promise<string> {
    const dir = this.directoryOf(url);
    if (!(await isRepository(dir))) {
      await this.prepareRoot();
      await mkdir(dir, { recursive: true });
      await this.git(dir, ['init', '--quiet', '--bare']);
    }
    return dir;
  }

  /**
   * Files come and go beside the server's data directory (the agent's per-task records, whatever else
   * shares the disk): spread, a mirror's new objects are not created in a block group full of inodes
   * ext4 will not reuse yet (src/shared/spread-directories.ts).
   */
  private prepareRoot(): Promise<void> {
    this.rootReady ??= (async () => {
      await mkdir(this.root, { recursive: true });
      await spreadNewSubdirectories(this.root);
    })().catch((err: unknown) => {
      this.rootReady = undefined; // tried again with the next mirror
      throw err;
    });
    return this.rootReady;
  }

  /**
   * Runs git through the launcher helper (src/shared/launcher): git processes for every push, each
   * spawned from the server, blocked its event loop ~3 ms apiece during a burst of deliveries.
   * Fails with the command's stderr, as execFile does.
   */
  private async git(dir: string, args: string[], input?: string): Promise<string> {
    const argv = ['git', '-C', dir, '-c', 'protocol.ext.allow=never', ...args];
    const result = await sharedLauncher().run(argv, {
      ...(input !== undefined ? { input } : {}),
      maxBuffer: 64 * 1024 * 1024,
      timeoutMs: 10 * 60_000,
      // Never prompt for credentials: a private repository without them fails at once.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' },
    });
    if (result.exitCode !== 0 || result.truncated) {
      const stderr = result.stderr.toString('utf8');
      const why = result.truncated ? 'output over 64 MiB' : result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
      throw Object.assign(new Error(`git ${args[0]} failed (${why}): ${stderr.trim().slice(0, 500)}`), { stderr });
    }
    return result.stdout.toString('utf8');
  }
}

/** Whether `dir` holds a (bare) repository already: its HEAD file is there. */
async function isRepository(dir: string): Promise<boolean> {
  try {
    await stat(path.join(dir, 'HEAD'));
    return true;
  } catch {
    return false;
  }
}
