// The inode- and byte-aware guard: before the registry accepts an upload or a manifest it checks the
// free bytes and free inodes of its storage against reserves, and refuses (507) without writing
// anything. Filesystems that have no inode limit (btrfs, some overlays) report 0 inodes in total;
// the inode reserve does not apply to them.
import { statfs as fsStatfs } from 'node:fs/promises';
import path from 'node:path';
import { InsufficientStorage } from './errors.ts';
import { isMissing } from './fs-util.ts';

export interface StorageReserves {
  /** Bytes that must stay free after the write. */
  minFreeBytes: number;
  /** Inodes that must stay free after the write. */
  minFreeInodes: number;
}

export interface Capacity {
  /** Bytes available to the registry's (unprivileged) process. */
  freeBytes: number;
  freeInodes: number;
  totalBytes: number;
  /** 0 when the filesystem has no inode limit. */
  totalInodes: number;
}

/** The part of `fs.statfs` the guard reads; tests pass a fake. */
export type StatFs = (path: string) => Promise<{ bsize: number; blocks: number; bavail: number; files: number; ffree: number }>;

/** Inodes one write may take: its file (which becomes the blob) and a new fan-out directory. */
export const INODES_PER_WRITE = 2;

export async function readCapacity(root: string, statfs: StatFs = fsStatfs): Promise<Capacity> {
  // Before the first push the root may not exist yet: ask the filesystem it will be created on.
  let dir = path.resolve(root);
  for (;;) {
    try {
      const s = await statfs(dir);
      return { freeBytes: s.bavail * s.bsize, freeInodes: s.ffree, totalBytes: s.blocks * s.bsize, totalInodes: s.files };
    } catch (err) {
      const parent = path.dirname(dir);
      if (!isMissing(err) || parent === dir) throw err;
      dir = parent;
    }
  }
}

/**
 * Throws InsufficientStorage when a write of `incomingBytes` would leave less than the reserves free;
 * returns the capacity otherwise.
 */
export async function checkCapacity(root: string, reserves: StorageReserves, incomingBytes = 0, statfs: StatFs = fsStatfs): Promise<Capacity> {
  const capacity = await readCapacity(root, statfs);
  if (capacity.totalInodes > 0 && capacity.freeInodes - INODES_PER_WRITE < reserves.minFreeInodes) {
    throw new InsufficientStorage(
      `not enough free inodes on ${root}: ${capacity.freeInodes} left, ${reserves.minFreeInodes} reserved`,
      'inodes',
      capacity.freeInodes,
      reserves.minFreeInodes,
    );
  }
  if (capacity.freeBytes - incomingBytes < reserves.minFreeBytes) {
    const incoming = incomingBytes > 0 ? `, ${formatBytes(incomingBytes)} incoming` : '';
    throw new InsufficientStorage(
      `not enough free space on ${root}: ${formatBytes(capacity.freeBytes)} left, ${formatBytes(reserves.minFreeBytes)} reserved${incoming}`,
      'bytes',
      capacity.freeBytes,
      reserves.minFreeBytes,
    );
  }
  return capacity;
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
