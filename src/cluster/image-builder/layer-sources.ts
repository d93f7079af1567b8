// What goes into the image builder's layer, read from a CI workspace that an untrusted user wrote while
// the agent (root) reads it. So nothing outside the workspace is ever read:
// - a source is a relative path without `..`; after resolving symbolic links it must still be inside
//   the workspace (a source that is itself a link inside the workspace is followed, as COPY does);
// - below a source, no link is followed: a symbolic link is stored as a link. Each directory is opened
//   O_NOFOLLOW and checked (/proc/self/fd) to be the very path meant, its entries listed through that
//   descriptor; each file is opened O_NOFOLLOW|O_NONBLOCK and checked the same way when it is read, so
//   a directory swapped for a link meanwhile is refused, not read through, and a FIFO never blocks;
// - a hard link to a file the workspace's user does not own is refused; sockets, FIFOs, devices are
//   skipped.
// The entries come out with their parents, in byte order of their path in the image, ready for a tar.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';
import type { FileCopy } from './build-request.ts';

export type LayerEntry =
  | { path: string; type: 'directory' }
  | { path: string; type: 'file'; source: string }
  | { path: string; type: 'symlink'; linkname: string };

export interface LayerSources {
  /** In byte order of `path` (the path in the image, without a leading '/'), parents first. */
  entries: LayerEntry[];
  /** The workspace, links resolved. */
  root: string;
  /** The uid owning the workspace: its user's. */
  owner: number;
  /** Whether /proc/self/fd tells where a descriptor is (false where there is no /proc). */
  proc: boolean;
}

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Resolves and walks every copy; throws Invalid for a source that leaves the workspace or does not exist. */
export async function collectLayerEntries(root: string, copies: readonly FileCopy[]): Promise<LayerSources> {
  if (!path.isAbsolute(root)) throw new Error(`the workspace ${root} is not an absolute path`);
  const realRoot = await realpath(root);
  const sources: LayerSources = { entries: [], root: realRoot, owner: (await lstat(realRoot)).uid, proc: await hasProcFd() };
  const byPath = new Map<string, LayerEntry>();
  for (const copy of copies) {
    const src = checkSource(copy.src);
    const dest = checkDestination(copy.dest);
    const resolved = await resolveSource(sources, src);
    const stats = await lstat(resolved);
    if (stats.isDirectory()) {
      if (dest.path !== '') add(byPath, { path: dest.path, type: 'directory' });
      await walkDirectory(sources, resolved, dest.path, byPath);
    } else if (stats.isFile()) {
      const target = dest.directory ? joinImagePath(dest.path, path.basename(resolved)) : dest.path;
      if (target === '') throw new Invalid(`files: the file ${copy.src} cannot be the image's root directory: write a dest such as /${path.basename(resolved)}`);
      add(byPath, { path: target, type: 'file', source: resolved });
    } else {
      throw new Invalid(`files: ${copy.src} is neither a regular file nor a directory`);
    }
  }
  for (const entry of [...byPath.values()]) addParents(byPath, entry.path);
  sources.entries = [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return sources;
}

/** A source as written in the step: relative to the workspace, no `..`, no NUL. Normalized. */
function checkSource(src: string): string {
  if (src.includes('\0')) throw new Invalid(`files: the source ${JSON.stringify(src)} holds a NUL character`);
  if (src === '' || path.posix.isAbsolute(src) || src.split(/[\\/]/).includes('..')) {
    throw new Invalid(`files: the source ${JSON.stringify(src)} must be a path inside the workspace, relative and without ".."`);
  }
  return path.posix.normalize(src);
}

/** A destination: absolute, no `..`. `directory` when it ends with '/' (a file goes in it by its name). */
function checkDestination(dest: string): { path: string; directory: boolean } {
  if (dest.includes('\0') || !dest.startsWith('/') || dest.split('/').includes('..')) {
    throw new Invalid(`files: the destination ${JSON.stringify(dest)} must be an absolute path in the image without ".."`);
  }
  const normal = path.posix.normalize(dest).replace(/^\/+|\/+$/g, '');
  return { path: normal === '.' ? '' : normal, directory: dest.endsWith('/') || normal === '' };
}

function joinImagePath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

async function resolveSource(sources: LayerSources, src: string): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(path.join(sources.root, src));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Invalid(`files: ${src} does not exist in the workspace`);
    if (code === 'ELOOP') throw new Invalid(`files: ${src} is a loop of symbolic links`);
    throw err;
  }
  if (!isInside(sources.root, resolved)) throw new Invalid(`files: ${src} leads outside the workspace (through a symbolic link): refused`);
  return resolved;
}

function isInside(dir: string, where: string): boolean {
  const rel = path.relative(dir, where);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** A path of the workspace as its user knows it, for messages. */
export function workspaceName(sources: LayerSources, where: string): string {
  return path.relative(sources.root, where) || '.';
}

function changed(sources: LayerSources, where: string): Invalid {
  return new Invalid(`files: ${workspaceName(sources, where)} changed while the layer was written`);
}

async function hasProcFd(): Promise<boolean> {
  return lstat('/proc/self/fd').then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

/** Whether the descriptor is the path meant: no component of it was a link when it was opened. */
async function isWhereMeant(sources: LayerSources, handle: FileHandle, where: string): Promise<boolean> {
  return !sources.proc || (await readlink(`/proc/self/fd/${handle.fd}`)) === where;
}

async function walkDirectory(sources: LayerSources, where: string, dest: string, out: Map<string, LayerEntry>): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(where, DIRECTORY_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') throw changed(sources, where);
    throw err;
  }
  const subdirectories: Array<{ where: string; dest: string }> = [];
  try {
    if (!(await isWhereMeant(sources, handle, where))) throw changed(sources, where);
    const via = sources.proc ? `/proc/self/fd/${handle.fd}` : where;
    const names = await readdir(via, { encoding: 'buffer' });
    for (const bytes of names) {
      const name = decodeName(sources, where, bytes);
      let stats: Stats;
      try {
        stats = await lstat(`${via}/${name}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone since the listing
        throw err;
      }
      const child = joinImagePath(dest, name);
      if (stats.isDirectory()) {
        add(out, { path: child, type: 'directory' });
        subdirectories.push({ where: `${where}/${name}`, dest: child });
      } else if (stats.isFile()) {
        add(out, { path: child, type: 'file', source: `${where}/${name}` });
      } else if (stats.isSymbolicLink()) {
        const linkname = decodeName(sources, where, await readlink(`${via}/${name}`, { encoding: 'buffer' }));
        add(out, { path: child, type: 'symlink', linkname });
      }
      // Sockets, FIFOs and devices have no place in a layer.
    }
  } finally {
    await handle.close();
  }
  for (const sub of subdirectories) await walkDirectory(sources, sub.where, sub.dest, out);
}

function decodeName(sources: LayerSources, dir: string, bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new Invalid(`files: ${workspaceName(sources, dir)} holds a name that is not UTF-8 (${JSON.stringify(bytes.toString('latin1'))}): rename it`);
  }
}

/** Two copies may bring the same directory; a later file replaces an earlier one; a file is no directory. */
function add(byPath: Map<string, LayerEntry>, entry: LayerEntry): void {
  const existing = byPath.get(entry.path);
  if (existing && (existing.type === 'directory') !== (entry.type === 'directory')) {
    throw new Invalid(`files: /${entry.path} would be both a directory and a ${existing.type === 'directory' ? entry.type : existing.type} in the image`);
  }
  if (existing?.type !== 'directory') byPath.set(entry.path, entry);
}

function addParents(byPath: Map<string, LayerEntry>, entryPath: string): void {
  for (let slash = entryPath.lastIndexOf('/'); slash > 0; slash = entryPath.lastIndexOf('/', slash - 1)) {
    add(byPath, { path: entryPath.slice(0, slash), type: 'directory' });
  }
}

export interface OpenedSource {
  handle: FileHandle;
  size: number;
  /** Any execute bit: the entry's mode is 0755, else 0644. */
  executable: boolean;
}

/** Opens a file entry for reading, checked to be the regular file the walk found, and no foreign hard link. */
export async function openSourceFile(sources: LayerSources, entry: Extract<LayerEntry, { type: 'file' }>): Promise<OpenedSource> {
  let handle: FileHandle;
  try {
    handle = await open(entry.source, FILE_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT' || code === 'ENXIO' || code === 'ENOTDIR') throw changed(sources, entry.source);
    throw err;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || !(await isWhereMeant(sources, handle, entry.source))) throw changed(sources, entry.source);
    if (stats.nlink > 1 && stats.uid !== sources.owner) {
      throw new Invalid(`files: ${workspaceName(sources, entry.source)} is a hard link to a file the workspace's user does not own: refused`);
    }
    return { handle, size: stats.size, executable: (stats.mode & 0o111) !== 0 };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}
