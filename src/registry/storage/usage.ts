// What the blob store occupies, in bytes and inodes, for `gantry registry df`. A walk of the tree with
// one stat per file: fine on demand, not on every request.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMissing } from './fs-util.ts';

export interface StorageUsage {
  /** Bytes of all files under the root: blobs and uploads in progress. */
  bytesUsed: number;
  blobs: number;
  blobBytes: number;
  uploads: number;
  uploadBytes: number;
  /** Files and directories under the root (the root itself not counted). */
  inodesUsed: number;
}

export async function measureUsage(root: string): Promise<StorageUsage> {
  const usage: StorageUsage = { bytesUsed: 0, blobs: 0, blobBytes: 0, uploads: 0, uploadBytes: 0, inodesUsed: 0 };
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) continue; // removed meanwhile, or no root yet
      throw err;
    }
    usage.inodesUsed += entries.length;
    const files = entries.filter((entry) => !entry.isDirectory());
    for (const entry of entries) if (entry.isDirectory()) pending.push(path.join(dir, entry.name));
    const sizes = await Promise.all(files.map((entry) => stat(path.join(dir, entry.name)).then((s) => s.size, () => 0)));
    const area = path.relative(root, dir).split(path.sep)[0];
    for (const size of sizes) {
      usage.bytesUsed += size;
      if (area === 'blobs') {
        usage.blobs++;
        usage.blobBytes += size;
      } else if (area === 'uploads') {
        usage.uploads++;
        usage.uploadBytes += size;
      }
    }
  }
  return usage;
}
