// Resumable uploads: one temporary file each under <root>/uploads. The running sha256 of each upload
// is kept in memory, so finishing costs no second read; after a restart (no state in memory) the file
// is hashed again when the upload finishes. Operations on one upload are serialised.
import type { Hash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type DigestAlgorithm, digestOfStream, newHash } from './digest.ts';
import { RangeInvalid, UploadUnknown } from './errors.ts';
import { isMissing } from './fs-util.ts';
import { writeHashed } from './hashed-write.ts';
import type { StorageLayout } from './layout.ts';

export interface UploadInfo {
  id: string;
  size: number;
  modifiedAt: Date;
}

/** An upload whose bytes are complete and on disk (fsynced), ready to be verified and published. */
export interface SealedUpload {
  file: string;
  size: number;
  /** `algorithm:hex` of the whole file. */
  digest: string;
}

interface RunningHash {
  /** sha256 of the file's first `size` bytes; null when unknown (after a restart). */
  hash: Hash | null;
  size: number;
}

export const newUploadId = (): string => randomBytes(16).toString('base64url');

export class UploadArea {
  private readonly running = new Map<string, RunningHash>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly layout: StorageLayout,
    private readonly newId: () => string = newUploadId,
  ) {}

  async start(): Promise<string> {
    await mkdir(this.layout.uploadsDir, { recursive: true });
    const id = this.newId();
    await (await open(this.layout.uploadPath(id), 'wx')).close();
    this.running.set(id, { hash: newHash('sha256'), size: 0 });
    return id;
  }

  /** Appends the stream; with `offset`, it must equal the current size (else RangeInvalid). */
  async append(id: string, source: Readable, offset?: number): Promise<number> {
    const file = this.layout.uploadPath(id);
    return this.serialised(id, async () => {
      const handle = await openUpload(id, file);
      try {
        return await this.appendTo(id, handle, source, offset);
      } finally {
        await handle.close();
      }
    });
  }

  async size(id: string): Promise<number> {
    try {
      return (await stat(this.layout.uploadPath(id))).size;
    } catch (err) {
      throw isMissing(err) ? new UploadUnknown(id) : err;
    }
  }

  /**
   * Appends the last chunk, if any, makes the file durable and hands it to `use` (verify and publish)
   * while no other operation on the upload can run. `use` owns the file afterwards.
   */
  async complete<T>(id: string, algorithm: DigestAlgorithm, last: Readable | undefined, use: (sealed: SealedUpload) => Promise<T>): Promise<T> {
    const file = this.layout.uploadPath(id);
    return this.serialised(id, async () => {
      const handle = await openUpload(id, file);
      let size: number;
      try {
        size = last ? await this.appendTo(id, handle, last) : (await handle.stat()).size;
        await handle.sync();
      } finally {
        await handle.close();
      }
      const state = this.running.get(id);
      this.running.delete(id); // a digest() ends a Hash; a retry after a failure hashes the file again
      const digest =
        algorithm === 'sha256' && state?.hash && state.size === size
          ? `sha256:${state.hash.digest('hex')}`
          : (await digestOfStream(createReadStream(file), algorithm)).digest;
      return use({ file, size, digest });
    });
  }

  /** Deletes the upload's file; false when there was none. */
  async cancel(id: string): Promise<boolean> {
    const file = this.layout.uploadPath(id);
    return this.serialised(id, async () => {
      this.running.delete(id);
      try {
        await unlink(file);
        return true;
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    });
  }

  /** Every upload file, including the temporary files of puts in progress or left by a crash. */
  async list(): Promise<UploadInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.layout.uploadsDir);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const infos = await Promise.all(
      names.map(async (id) => {
        try {
          const s = await stat(this.layout.uploadPath(id));
          return { id, size: s.size, modifiedAt: s.mtime };
        } catch {
          return null; // finished or cancelled meanwhile, or not an upload name
        }
      }),
    );
    return infos.filter((info): info is UploadInfo => info !== null).sort((a, b) => a.modifiedAt.getTime() - b.modifiedAt.getTime());
  }

  private async appendTo(id: string, handle: FileHandle, source: Readable, offset?: number): Promise<number> {
    const start = (await handle.stat()).size;
    if (offset !== undefined && offset !== start) throw new RangeInvalid(offset, start);
    const state = this.runningHash(id, start);
    const progress = { written: 0 };
    try {
      await writeHashed(handle, start, source, state.hash, progress);
    } catch (err) {
      // Keep what was written and hashed, drop any tail a failed write may have left: the client can
      // ask for the upload's size and resume from there.
      await handle.truncate(start + progress.written).catch(() => {
        state.hash = null;
      });
      throw err;
    } finally {
      state.size = start + progress.written;
    }
    return state.size;
  }

  /** The running hash for an upload whose file holds `size` bytes; a hash that disagrees is dropped. */
  private runningHash(id: string, size: number): RunningHash {
    let state = this.running.get(id);
    if (!state || state.size !== size) {
      state = { hash: size === 0 ? newHash('sha256') : null, size };
      this.running.set(id, state);
    }
    return state;
  }

  private serialised<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return next;
  }
}

async function openUpload(id: string, file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r+');
  } catch (err) {
    throw isMissing(err) ? new UploadUnknown(id) : err;
  }
}
