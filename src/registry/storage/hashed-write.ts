// Streams bytes into an open file at a position while hashing them. The hash only ever sees bytes that
// reached the file, and `progress.written` says how many did, so a caller can cut the file back to a
// consistent length when the source or the disk fails half-way.
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** Small network chunks are gathered into writes of about this size (fewer syscalls). */
const WRITE_BYTES = 1 << 20;

export interface WriteProgress {
  written: number;
}

export async function writeHashed(
  file: FileHandle,
  position: number,
  source: Readable,
  hash: Hash | null,
  progress: WriteProgress = { written: 0 },
): Promise<number> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    await writeAll(file, pending, pendingBytes, position + progress.written);
    if (hash) for (const part of pending) hash.update(part);
    progress.written += pendingBytes;
    pending = [];
    pendingBytes = 0;
  };
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (bytes.length === 0) continue;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= WRITE_BYTES) await flush();
  }
  if (pendingBytes > 0) await flush();
  return progress.written;
}

async function writeAll(file: FileHandle, parts: Buffer[], total: number, position: number): Promise<void> {
  const { bytesWritten } = await file.writev(parts, position);
  if (bytesWritten === total) return;
  // A short write (rare on regular files): write the rest from one buffer until done.
  const rest = Buffer.concat(parts, total);
  let done = bytesWritten;
  while (done < total) {
    const { bytesWritten: n } = await file.write(rest, done, total - done, position + done);
    if (n === 0) throw new Error(`could not write to the upload file at byte ${position + done}`);
    done += n;
  }
}
