// Packing an image build's context (a CI build step's) into the tar stream the engine's build API
// reads. The workspace was written by an untrusted user and the agent reads it as root, so the tar
// holds nothing the user could not read themselves:
// - the context and the Dockerfile stay inside the workspace, the Dockerfile inside the context, both
//   checked after resolving symbolic links;
// - no symbolic link is followed: one is packed as a link (the engine resolves it inside the build, as
//   Docker does). Each directory is opened O_NOFOLLOW and checked (/proc/self/fd) to be the one meant,
//   and its entries are reached through that descriptor, so a directory swapped for a link during the
//   walk (docker cp's symlink-exchange race) is refused, not read through;
// - a file is opened O_NOFOLLOW|O_NONBLOCK (a FIFO put in its place never blocks the agent) and kept
//   only as a regular file that is no hard link to a file the workspace's user does not own;
//   sockets, FIFOs and devices are skipped.
// .dockerignore follows Docker's rules (moby/patternmatcher and the CLI's tar walk): dockerignore.ts.
// Entries are 0:0-owned, as the docker CLI sends them: the engine keys its layer cache on owners, and
// each run's workspace has a uid of its own (agent/private-uids.ts); mode and mtime are kept.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { BuildContextError } from './build-context-error.ts';
import { parseDockerignore, type Dockerignore } from './dockerignore.ts';

export { BuildContextError };

export interface BuildContextRequest {
  /** The root no path may leave (the CI run's workspace), absolute. */
  root: string;
  /** The context directory, relative to root ('.' when absent). */
  context?: string;
  /** The Dockerfile, relative to the context ('Dockerfile' when absent). */
  dockerfile?: string;
}

export interface PackedContext {
  /** The tar stream for buildImage; destroyed with the error when packing fails. */
  stream: Readable;
  /** The Dockerfile's path in the tar (symbolic links resolved), buildImage's `dockerfile` option. */
  dockerfile: string;
  /** Settles when packing ended: the regular files packed and their bytes, or why it stopped. */
  done: Promise<{ files: number; bytes: number }>;
}

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
const MAX_DOCKERIGNORE_BYTES = 64 * 1024;
const READ_CHUNK = 64 * 1024;
/** Entries looked up, and files opened, ahead of the one at hand (the disk answers several at once). */
const AHEAD = 16;

/** Checks the request, reads .dockerignore and walks the context, then streams what it found. */
export async function packBuildContext(request: BuildContextRequest): Promise<PackedContext> {
  const walk = await resolveRequest(request);
  walk.ignore = await readDockerignore(walk);
  const entries: Planned[] = [];
  await planDirectory(walk, '', new Array<boolean>(walk.ignore?.size ?? 0).fill(false), entries);
  if (!entries.some((entry) => entry.rel === walk.dockerfile && entry.type === 'file')) {
    throw new BuildContextError(`no Dockerfile at ${walk.name(walk.dockerfile)}`);
  }

  const pack = tar.pack();
  const stream = Readable.from(pack, { objectMode: false });
  // Errors reach the caller through `done` (and buildImage's own listener): one emitted before
  // buildImage listens must not be an uncaught exception of the agent.
  pack.on('error', () => {});
  stream.on('error', () => {});
  const done = writeEntries(walk, entries, pack).then(
    (summary) => {
      pack.finalize();
      return summary;
    },
    (err: unknown) => {
      stream.destroy(err as Error);
      throw err;
    },
  );
  done.catch(() => {}); // the caller awaits it once buildImage answered: never an unhandled rejection meanwhile
  return { stream, dockerfile: walk.dockerfile, done };
}

interface Walk {
  /** The context directory, symbolic links resolved. */
  dir: string;
  /** The uid owning the workspace: its user's. */
  owner: number;
  /** The Dockerfile relative to the context (posix, links resolved). */
  dockerfile: string;
  ignore: Dockerignore | null;
  /** Whether /proc/self/fd tells where a descriptor is (unknown until the first directory). */
  proc: boolean | undefined;
  /** A path of the context as the user knows it: relative to the workspace. */
  name(rel: string): string;
}

interface Planned {
  rel: string;
  parent: string;
  base: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  mtime: Date;
  nlink: number;
  uid: number;
  linkname?: string;
}

async function resolveRequest(request: BuildContextRequest): Promise<Walk> {
  if (!path.isAbsolute(request.root)) throw new Error(`the workspace ${request.root} is not an absolute path`);
  const context = request.context ?? '.';
  const dockerfile = request.dockerfile ?? 'Dockerfile';
  const contextName = insideWorkspace(context, `the build context ${context}`);
  if (path.posix.isAbsolute(dockerfile)) insideWorkspace(dockerfile, `the Dockerfile ${dockerfile}`);
  const dockerfileName = insideWorkspace(path.posix.join(contextName, dockerfile), `the Dockerfile ${dockerfile}`);

  const root = await resolved(request.root, `no workspace at ${request.root}`);
  const dir = await resolved(path.join(root, contextName), `no build context at ${contextName}`);
  if (!isInside(root, dir)) throw new BuildContextError(`the build context ${contextName} leaves the workspace`);
  if (!(await lstat(dir)).isDirectory()) throw new BuildContextError(`the build context ${contextName} is not a directory`);
  const file = await resolved(path.join(root, dockerfileName), `no Dockerfile at ${dockerfileName}`);
  if (!isInside(dir, file)) throw new BuildContextError(`the Dockerfile ${dockerfile} is outside the build context ${contextName}`);
  if (!(await lstat(file)).isFile()) throw new BuildContextError(`the Dockerfile ${dockerfile} is not a regular file`);

  return {
    dir,
    owner: (await lstat(root)).uid,
    dockerfile: path.relative(dir, file).split(path.sep).join('/'),
    ignore: null,
    proc: undefined,
    name: (rel) => path.posix.join(contextName, rel),
  };
}

/** `relative`, normalized, when it names a path inside the workspace (no leading '/', no escaping '..'). */
function insideWorkspace(relative: string, what: string): string {
  if (relative.includes('\0')) throw new BuildContextError(`${what} holds a NUL character`);
  const normal = path.posix.normalize(relative);
  if (path.posix.isAbsolute(relative) || normal === '..' || normal.startsWith('../')) {
    throw new BuildContextError(`${what} leaves the workspace: write a relative path without ".."`);
  }
  return normal.replace(/\/+$/, '') || '.';
}

async function resolved(where: string, missing: string): Promise<string> {
  try {
    return await realpath(where);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') throw new BuildContextError(missing);
    throw err;
  }
}

function isInside(dir: string, where: string): boolean {
  const rel = path.relative(dir, where);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function changed(walk: Walk, rel: string): BuildContextError {
  return new BuildContextError(`${walk.name(rel)} changed while the build context was packed`);
}

/** A hard link the user made to someone else's file would have the agent read it for them. */
function refuseForeignLink(walk: Walk, rel: string, stats: { nlink: number; uid: number }): void {
  if (stats.nlink > 1 && stats.uid !== walk.owner) {
    throw new BuildContextError(`${walk.name(rel)} is a hard link to a file the workspace's user does not own`);
  }
}

interface OpenDirectory {
  /** Where to reach its entries: /proc/self/fd/N, or its path where there is no /proc. */
  path: string;
  close(): Promise<void>;
}

/** Opens a directory of the context without following links, checked to be where the walk meant. */
async function openDirectory(walk: Walk, rel: string): Promise<OpenDirectory> {
  const where = path.join(walk.dir, rel);
  let handle: FileHandle;
  try {
    handle = await open(where, DIRECTORY_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') throw changed(walk, rel);
    throw err;
  }
  const close = () => handle.close();
  if (walk.proc === false) return { path: where, close };
  const via = `/proc/self/fd/${handle.fd}`;
  try {
    const actual = await readlink(via);
    walk.proc = true;
    if (actual !== where) throw changed(walk, rel);
    return { path: via, close };
  } catch (err) {
    if (walk.proc === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      walk.proc = false; // no /proc (not Linux): paths, O_NOFOLLOW on the last component only
      return { path: where, close };
    }
    await close();
    throw err;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The name as a string; a name that is not UTF-8 has no string that would reach it again. */
function decodeName(walk: Walk, parent: string, bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BuildContextError(`the directory ${walk.name(parent)} holds a name that is not UTF-8 (${JSON.stringify(bytes.toString('latin1'))}): rename it`);
  }
}

/** An entry of an open directory, or null for one to skip (gone since the listing; socket, FIFO, device). */
async function describe(walk: Walk, dir: OpenDirectory, parent: string, bytes: Buffer): Promise<Planned | null> {
  const base = decodeName(walk, parent, bytes);
  let stats;
  try {
    stats = await lstat(`${dir.path}/${base}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const type = stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : null;
  if (type === null) return null;
  const rel = parent === '' ? base : `${parent}/${base}`;
  const entry: Planned = { rel, parent, base, type, mode: stats.mode, mtime: stats.mtime, nlink: stats.nlink, uid: stats.uid };
  if (type === 'symlink') entry.linkname = decodeName(walk, rel, await readlink(`${dir.path}/${base}`, { encoding: 'buffer' }));
  return entry;
}

/** Lists a directory in byte order, then keeps what .dockerignore lets through, depth first as Docker does. */
async function planDirectory(walk: Walk, rel: string, parentMatches: boolean[], out: Planned[]): Promise<void> {
  const dir = await openDirectory(walk, rel);
  const children: Planned[] = [];
  try {
    const names = await readdir(dir.path, { encoding: 'buffer' });
    names.sort(Buffer.compare);
    for (let first = 0; first < names.length; first += AHEAD) {
      // Settled, not raced: nothing may still reach through the descriptor once it is closed.
      const batch = await Promise.allSettled(names.slice(first, first + AHEAD).map((bytes) => describe(walk, dir, rel, bytes)));
      for (const result of batch) {
        if (result.status === 'rejected') throw result.reason;
        if (result.value !== null) children.push(result.value);
      }
    }
  } finally {
    await dir.close();
  }

  for (const child of children) {
    // Docker sends the Dockerfile and .dockerignore even when ignored (the engine drops them then).
    const forced = child.rel === walk.dockerfile || child.rel === '.dockerignore';
    const verdict = walk.ignore ? await walk.ignore.test(child.rel, parentMatches) : { ignored: false, matches: parentMatches };
    const ignored = verdict.ignored && !forced;
    if (child.type !== 'directory') {
      if (ignored) continue;
      if (child.type === 'file') refuseForeignLink(walk, child.rel, child);
      out.push(child);
    } else if (!ignored) {
      out.push(child);
      await planDirectory(walk, child.rel, verdict.matches, out);
    } else if (walk.ignore!.mayInclude(child.rel) || walk.dockerfile.startsWith(`${child.rel}/`)) {
      await planDirectory(walk, child.rel, verdict.matches, out); // its own entry stays out, as with Docker
    }
  }
}

async function readDockerignore(walk: Walk): Promise<Dockerignore | null> {
  const dir = await openDirectory(walk, '');
  let handle: FileHandle;
  try {
    handle = await open(`${dir.path}/.dockerignore`, FILE_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new BuildContextError(`${walk.name('.dockerignore')} is a symbolic link: write the patterns in the file itself`);
    throw err;
  } finally {
    await dir.close();
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new BuildContextError(`${walk.name('.dockerignore')} is not a regular file`);
    refuseForeignLink(walk, '.dockerignore', stats);
    const buffer = Buffer.alloc(MAX_DOCKERIGNORE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_DOCKERIGNORE_BYTES) throw new BuildContextError(`${walk.name('.dockerignore')} is larger than ${MAX_DOCKERIGNORE_BYTES / 1024} KiB`);
    return parseDockerignore(buffer.subarray(0, length).toString('utf8'), walk.name('.dockerignore'));
  } finally {
    await handle.close();
  }
}

type TarPack = ReturnType<typeof tar.pack>;

async function writeEntries(walk: Walk, entries: Planned[], pack: TarPack): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  let dir: OpenDirectory | null = null;
  let dirRel = '';
  const ahead = new Map<number, Promise<OpenFile>>();
  try {
    for (const [i, entry] of entries.entries()) {
      if (entry.type !== 'file') {
        // The whole st_mode: tar-stream keeps its bits (& 07777) but would turn a mode of 0 into 0644.
        const header = { name: entry.rel, type: entry.type, mode: entry.mode, uid: 0, gid: 0, mtime: entry.mtime, ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}) };
        await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
        continue;
      }
      if (dir === null || dirRel !== entry.parent) {
        // Every file opened through the previous directory was taken: it was opened ahead only
        // within the run of entries that directory holds, and the run is over.
        const previous: OpenDirectory | null = dir;
        dir = null;
        await previous?.close();
        dir = await openDirectory(walk, entry.parent);
        dirRel = entry.parent;
      }
      for (let j = i; j < i + AHEAD && entries[j]?.parent === entry.parent; j++) {
        if (entries[j]!.type !== 'file' || ahead.has(j)) continue;
        const opening = openFile(walk, dir, entries[j]!);
        opening.catch(() => {}); // its error is the pack's when its turn comes
        ahead.set(j, opening);
      }
      const file = await ahead.get(i)!;
      ahead.delete(i);
      bytes += await copyFile(walk, pack, entry, file);
      files++;
    }
  } finally {
    // Failed: the files opened ahead are closed, and none is still being opened through the directory.
    for (const result of await Promise.allSettled(ahead.values())) if (result.status === 'fulfilled') closeQuietly(result.value.handle);
    await (dir as OpenDirectory | null)?.close();
  }
  return { files, bytes };
}

interface OpenFile {
  handle: FileHandle;
  stats: Stats;
  /** Its first bytes, read ahead. */
  head: Buffer;
}

function closeQuietly(handle: FileHandle): void {
  handle.close().catch(() => {});
}

/** Opens a file of an open directory, checked as what it was listed as: a regular file, no foreign hard link. */
async function openFile(walk: Walk, dir: OpenDirectory, entry: Planned): Promise<OpenFile> {
  let handle: FileHandle;
  try {
    handle = await open(`${dir.path}/${entry.base}`, FILE_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT' || code === 'ENXIO') throw changed(walk, entry.rel);
    throw err;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw changed(walk, entry.rel);
    refuseForeignLink(walk, entry.rel, stats);
    const head = Buffer.allocUnsafe(Math.min(READ_CHUNK, stats.size));
    const { bytesRead } = head.length > 0 ? await handle.read(head, 0, head.length, 0) : { bytesRead: 0 };
    return { handle, stats, head: head.subarray(0, bytesRead) };
  } catch (err) {
    closeQuietly(handle);
    throw err;
  }
}

/** Copies an open file into its entry, exactly the size its header says, as fast as the stream is read. */
async function copyFile(walk: Walk, pack: TarPack, entry: Planned, file: OpenFile): Promise<number> {
  const { handle, stats } = file;
  const size = stats.size;
  const header = { name: entry.rel, type: 'file' as const, size, mode: stats.mode, uid: 0, gid: 0, mtime: stats.mtime };
  let settle!: (err?: Error | null) => void;
  const taken = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  taken.catch(() => {}); // awaited below; it may fail (the stream destroyed) while a read is under way
  let sink: ReturnType<TarPack['entry']>;
  try {
    sink = pack.entry(header, settle);
  } catch (err) {
    closeQuietly(handle); // the stream was destroyed meanwhile
    throw err;
  }
  sink.on('error', () => {}); // the same error, through `taken`
  let failure: unknown = null;
  try {
    // Never past the header's size: a file that grows meanwhile is cut there; one that shrinks fails.
    let chunk = file.head;
    for (let position = 0; position < size; ) {
      if (chunk.length === 0) throw new BuildContextError(`${walk.name(entry.rel)} shrank while the build context was packed`);
      position += chunk.length;
      if (!sink.write(chunk)) await Promise.race([new Promise<void>((resolve) => sink.once('drain', () => resolve())), taken]);
      if (position < size) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
        chunk = buffer.subarray(0, (await handle.read(buffer, 0, buffer.length, position)).bytesRead);
      }
    }
    sink.end(null);
  } catch (err) {
    failure = err;
    sink.destroy(err as Error);
  } finally {
    closeQuietly(handle);
  }
  await taken.catch((err: unknown) => {
    throw failure ?? err;
  });
  return size;
}
