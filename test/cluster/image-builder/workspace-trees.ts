// Test helpers for the image builder: workspaces written on disk as a user's build would leave them,
// and layers read back with a real tar parser (after gunzip), as an engine unpacking them would.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';

/** A file's content, a symbolic link, or a file with a mode. A key ending in '/' is a directory. */
export type TreeNode = string | { link: string } | { content: string | Buffer; mode: number };

export function writeTree(root: string, nodes: Record<string, TreeNode>): string {
  for (const [rel, node] of Object.entries(nodes)) {
    const where = path.join(root, rel);
    mkdirSync(rel.endsWith('/') ? where : path.dirname(where), { recursive: true });
    if (rel.endsWith('/')) continue;
    if (typeof node === 'string') writeFileSync(where, node);
    else if ('link' in node) symlinkSync(node.link, where);
    else {
      writeFileSync(where, node.content);
      chmodSync(where, node.mode);
    }
  }
  return root;
}

export interface TarEntry {
  /** As written in the tar (a directory's name ends with '/'). */
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname: string | null;
  content: string;
}

/** Every entry of a tar, parsed. */
export async function readTar(bytes: Buffer): Promise<TarEntry[]> {
  const extract = tar.extract();
  extract.end(bytes);
  const entries: TarEntry[] = [];
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const part of entry) parts.push(part as Buffer);
    const { header } = entry;
    entries.push({
      name: header.name,
      type: header.type,
      mode: header.mode,
      uid: header.uid,
      gid: header.gid,
      uname: header.uname,
      gname: header.gname,
      mtime: header.mtime.getTime() / 1000,
      linkname: header.linkname || null,
      content: Buffer.concat(parts).toString(),
    });
  }
  return entries;
}

export function readLayer(gzipped: Buffer): Promise<TarEntry[]> {
  return readTar(gunzipSync(gzipped));
}

/** A tar in memory of files (key → content), each 0:0, for base images. */
export async function tarOf(files: Record<string, string | { content: string; mode: number }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, file] of Object.entries(files)) {
    const content = typeof file === 'string' ? file : file.content;
    const mode = typeof file === 'string' ? 0o644 : file.mode;
    pack.entry({ name, mode, uid: 0, gid: 0, mtime: new Date(0), size: Buffer.byteLength(content) }, content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
