// The server's own bare mirrors of the repositories it builds, with the real `git` CLI: enough to read
// `.gantry.yml` at the pushed commit and to list the paths a push changed (the payload's lists stop at
// 20 commits), before any step runs. Steps clone on their agent; this never leaves the server, except
// that a clone step on the server's own host borrows its repository's mirror's objects (cloneScript in
// src/ci/runs/step-plan.ts).
//
// That step runs as an unprivileged task user, and the data directory is closed to it: `<data>/ci` and
// `<data>/ci/mirrors` are traversable but not listable (0711) when the server embeds an agent
// (src/shared/data-dir-modes.ts), and a mirror is named by an HMAC of its clone URL under a random key
// only the server reads (`<data>/secrets/ci-mirror.key`, 0600). A task reaches the mirror whose path
// it was handed, and cannot guess another's (a sha256 of the URL, as mirrors were named before, anyone
// could compute). The mirror itself must be readable by that user: it is made with
// `core.sharedRepository=0644`, so that git gives every file it writes there 0444 or 0644 and every
// directory 0755 (with setgid) whatever the server's umask, which it inherits from whoever started it
// (a umask of 077, as hardened systems and some service units set, made mirrors 0700 and their objects
// 0400, and the step fetched from the origin instead).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';
import { sharedLauncher } from '../../shared/launcher/launcher.ts';
import { readOrCreateSecretFile } from '../../shared/secret-files.ts';
import { spreadNewSubdirectories } from '../../shared/spread-directories.ts';

/** Where the mirrors are, in the data directory (a clone step on the server's host passes through). */
export const MIRRORS_DIR = ['ci', 'mirrors'] as const;
/** The key the mirrors' names are made with, in the data directory's secrets. */
export const MIRROR_KEY_FILE = ['secrets', 'ci-mirror.key'] as const;

/** Hex digits of the HMAC in a mirror's name: 128 bits, and never the 24 of the older sha256 names. */
const NAME_LENGTH = 32;
/** Hex digits of sha256(URL) in the name a mirror had before its name was keyed. */
const LEGACY_NAME_LENGTH = 24;
/** Every file git writes in a mirror readable by all, whatever the umask (see above). */
const SHARED_REPOSITORY = '0644';
const KEY = /^[0-9a-f]{64}$/;
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

/** The text with the credentials of any URL in it (`//user:token@host`) hidden: messages go to users and logs. */
export function withoutCredentials(text: string): string {
  return text.replace(/\/\/[^/@\s]+@/g, '//***@');
}

export class GitMirror {
  /** Settles once the mirrors' root exists, flagged so that each mirror gets its own block group. */
  private rootReady: Promise<void> | undefined;
  private key: Promise<Buffer> | undefined;

  /** `root`: the mirrors' directory; `keyFile`: where the key of their names is kept (made when missing). */
  constructor(
    private readonly root: string,
    private readonly keyFile: string,
  ) {}

  /** Reads (at the first start: makes) the key of the mirrors' names, so that a broken key file stops the start. */
  async open(): Promise<void> {
    await this.nameKey();
  }

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

  /** The commit's committer time (seconds since the epoch), or null when the mirror lacks it. */
  async commitTime(url: string, commit: string): Promise<number | null> {
    if (!COMMIT.test(commit)) return null;
    const dir = await this.mirrorOf(url);
    const out = await this.git(dir, ['show', '-s', '--format=%ct', commit]).catch(() => '');
    return /^\d+\s*$/.test(out) ? Number(out) : null;
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
  async changedPaths(url: string, before: string | null, after: string, from: 'direct' | 'merge-base' = 'direct'): Promise<string[] | null> {
    if (!before || /^0+$/.test(before) || !COMMIT.test(before)) return null;
    const dir = await this.mirrorOf(url);
    try {
      // No `cat-file -e` first: one git process less on the way from a push to its first step.
      // `merge-base` (a pull request): what `after` changed since it left `before`'s history.
      const out = await this.git(dir, ['diff', '--name-only', '-z', from === 'merge-base' ? `${before}...${after}` : before, ...(from === 'merge-base' ? [] : [after])]);
      return out.split('\0').filter(Boolean);
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '');
      if (/bad object|unknown revision|invalid object|bad revision/i.test(stderr) && stderr.includes(before)) return null;
      if (/no merge base/i.test(stderr)) return null;
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
    const wanted = new Set(refs.filter((ref) => PLAIN_REF.test(ref) && !ref.includes('..')));
    if (wanted.size === 0) return 0;
    const dir = await this.existingMirror(url);
    if (!dir) return 0;
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

  /**
   * Where the mirror of `url` is (or will be): a bare repository under the mirrors' root, named by the
   * HMAC-SHA256 of the URL under the server's key (see above).
   */
  async directoryOf(url: string): Promise<string> {
    const name = createHmac('sha256', await this.nameKey()).update(url).digest('hex').slice(0, NAME_LENGTH);
    return path.join(this.root, `${name}.git`);
  }

  /** The mirror of `url`, made when there is none. */
  private async mirrorOf(url: string): Promise<string> {
    const found = await this.existingMirror(url);
    if (found) return found;
    const dir = await this.directoryOf(url);
    await this.prepareRoot();
    await mkdir(dir, { recursive: true });
    await this.git(dir, ['init', '--quiet', '--bare', `--shared=${SHARED_REPOSITORY}`]);
    return dir;
  }

  /**
   * The mirror of `url` when there is one. A mirror made before names were keyed (`<sha256(URL)[0:24]>.git`)
   * is moved to its name now, its files opened to other users as a new mirror's are, rather than a
   * whole repository fetched again after an upgrade.
   */
  private async existingMirror(url: string): Promise<string | null> {
    const dir = await this.directoryOf(url);
    if (await isRepository(dir)) return dir;
    const legacy = path.join(this.root, `${createHash('sha256').update(url).digest('hex').slice(0, LEGACY_NAME_LENGTH)}.git`);
    if (!(await isRepository(legacy))) return null;
    try {
      await rename(legacy, dir);
    } catch (err) {
      // Moved meanwhile by another call for the same URL.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (await isRepository(dir))) return dir;
      throw err;
    }
    await this.git(dir, ['config', 'core.sharedRepository', SHARED_REPOSITORY]);
    await openToOthers(dir);
    return dir;
  }

  private nameKey(): Promise<Buffer> {
    this.key ??= readOrCreateSecretFile(this.keyFile, () => randomBytes(32).toString('hex'))
      .then((text) => {
        if (!KEY.test(text)) {
          throw new Error(`${this.keyFile} does not hold the CI mirrors' key (64 hex digits): remove it to have a new one made (the mirrors are then fetched again under new names)`);
        }
        return Buffer.from(text, 'hex');
      })
      .catch((err: unknown) => {
        this.key = undefined; // read again next time
        throw err;
      });
    return this.key;
  }

  /**
   * Files come and go beside the server's data directory (the agent's per-task records, whatever else
   * shares the disk): spread, a mirror's new objects are not created in a block group full of inodes
   * ext4 will not reuse yet (src/shared/spread-directories.ts).
   */
  private prepareRoot(): Promise<void> {
    this.rootReady ??= (async () => {
      // Closed when made (here, without an embedded agent); the server opens it to tasks on its host.
      await mkdir(this.root, { recursive: true, mode: 0o700 });
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

/**
 * Gives other users read access to everything under `dir` (and search access to its directories), as
 * `core.sharedRepository=0644` does for what git writes later: a mirror made under a private umask.
 */
async function openToOthers(dir: string): Promise<void> {
  const info = await lstat(dir);
  if (info.isSymbolicLink()) return;
  const wanted = info.isDirectory() ? 0o055 : 0o044;
  if ((info.mode & wanted) !== wanted) await chmod(dir, (info.mode & 0o7777) | wanted);
  if (info.isDirectory()) for (const name of await readdir(dir)) await openToOthers(path.join(dir, name));
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
