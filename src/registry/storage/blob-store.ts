// BlobStore: the registry's blob bytes on the filesystem, content-addressed and flat (see layout.ts).
// Every write streams into one temporary file under <root>/uploads while its digest is computed; the
// blob becomes visible only after digest and size are verified and the file is fsynced, by a hard
// link (or rename) to its content address. A crash at any point leaves at most a temporary file, never
// a partial blob. Protocol code talks to this class and never builds a path.
//
// The store also owns the per-digest locks that keep online garbage collection safe (digest-locks.ts):
// whatever publishes a blob holds its digest until the caller's `record` step (linking it to a
// repository) has returned; a mount, a manifest PUT's check-then-record and a HEAD hold theirs through
// withBlobsHeld, and so does the collector's check-then-delete. Callers never see a lock.
import { link, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type Digest, newHash, parseDigest } from './digest.ts';
import { Invalid } from '../../shared/errors.ts';
import { BlobUnknown, DigestInvalid, RangeNotSatisfiable, SizeInvalid } from './errors.ts';
import { errorCode, fsyncDir, isMissing } from './fs-util.ts';
import { writeHashed } from './hashed-write.ts';
import { DigestLocks } from './digest-locks.ts';
import { heldView, type HeldBlobs } from './held-blobs.ts';
import { StorageLayout } from './layout.ts';
import { checkCapacity, type Capacity, type StatFs, type StorageReserves } from './storage-guard.ts';
import { newUploadId, UploadArea, type UploadInfo } from './uploads.ts';
import { measureUsage, type StorageUsage } from './usage.ts';

/**
 * How much a blob read asks the disk for at a time. Node's default (64 KiB) makes a 1 GiB download 16,384
 * reads, each a thread-pool round trip and a socket write; 1 MiB makes it 1,024. Memory stays bounded:
 * the stream holds one chunk ahead of the socket per download in progress.
 */
const READ_CHUNK_BYTES = 1024 * 1024;

/** The read size for `length` bytes: no 1 MiB buffer for a 4 KiB layer. */
const chunkFor = (length: number): number => Math.max(Math.min(length, READ_CHUNK_BYTES), 16 * 1024);

export interface ExpectedBlob {
  digest: string;
  /** When given, the content must be exactly this long (OCI SIZE_INVALID otherwise). */
  size?: number;
}

export interface StoredBlob {
  digest: string;
  size: number;
  /** False when the blob was already there (the same content pushed before or concurrently). */
  created: boolean;
}

/**
 * What makes a just-stored blob live (linking it to a repository), run while the store still holds its
 * digest: the garbage collector cannot delete the blob between its publication and its record.
 */
export type RecordBlob = (stored: StoredBlob) => Promise<void>;

/** Inclusive byte positions, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobRead {
  stream: Readable;
  /** The blob's full size (for Content-Range). */
  size: number;
  start: number;
  /** Inclusive; -1 for an empty blob read whole. */
  end: number;
}

export interface BlobStoreOptions {
  /** Upload ids (and temporary file names); must match [A-Za-z0-9_-]+. */
  newId?: () => string;
  statfs?: StatFs;
}

/** A blob's file as the collector sees it. */
export interface BlobFile {
  digest: string;
  size: number;
  modifiedAt: Date;
}

export class BlobStore {
  /** Held for whoever publishes, links, mounts, references, reports or deletes a blob (withBlobsHeld). */
  private readonly locks = new DigestLocks();
  /** The temporary files of puts being written now (by upload id: `put-…`). */
  private readonly writing = new Set<string>();
  private readonly layout: StorageLayout;
  private readonly uploads: UploadArea;
  private readonly newId: () => string;

  constructor(
    root: string,
    private readonly options: BlobStoreOptions = {},
  ) {
    this.layout = new StorageLayout(root);
    this.newId = options.newId ?? newUploadId;
    this.uploads = new UploadArea(this.layout, this.newId);
  }

  get root(): string {
    return this.layout.root;
  }

  // ---- holds (digest-locks.ts) ------------------------------------------------------------------------

  /**
   * Runs `work` holding the digests given: until it returns, no other hold on any of them is granted, so
   * the garbage collector cannot delete one and no push, mount or HEAD of one runs meanwhile. `work`
   * reaches these blobs through `held` (the store's own put, finishUpload, mount and delete would wait
   * for the very hold they are in). Digests are validated first (DigestInvalid) and taken in sorted order.
   */
  async withBlobsHeld<T>(digests: Iterable<string>, work: (held: HeldBlobs) => Promise<T>): Promise<T> {
    const keys = new Set([...digests].map((digest) => parseDigest(digest).value));
    return this.locks.withDigests(keys, async () => {
      const view = heldView(keys, { put: (source, expected) => this.writeBlob(source, expected), stat: (digest) => this.stat(digest), delete: (digest) => this.removeFile(digest) });
      try {
        return await work(view.blobs);
      } finally {
        view.end();
      }
    });
  }

  /**
   * Stores a whole blob from a stream, verified against the expected digest (and size), holding the
   * digest from its first byte until `record` has returned.
   */
  put(source: Readable, expected: ExpectedBlob, record?: RecordBlob): Promise<StoredBlob> {
    return this.withBlobsHeld([expected.digest], async (held) => {
      const stored = await held.put(source, expected);
      await record?.(stored);
      return stored;
    });
  }

  /**
   * Holding the digest: runs `record` (links the blob into another repository) when the blob's file is
   * there and answers what it answers; false, without running it, when there is no such blob.
   */
  mount(digest: string, record: () => Promise<boolean>): Promise<boolean> {
    return this.withBlobsHeld([digest], async (held) => (await held.has(digest)) && record());
  }

  /** Removes a blob's file, holding its digest; false when there was none. Fan-out directories stay (they are shared). */
  delete(digest: string): Promise<boolean> {
    return this.withBlobsHeld([digest], (held) => held.delete(digest));
  }

  /** put without a hold: the caller holds the digest (withBlobsHeld). */
  private async writeBlob(source: Readable, expected: ExpectedBlob): Promise<StoredBlob> {
    const digest = parseDigest(expected.digest);
    if (expected.size !== undefined && !(Number.isSafeInteger(expected.size) && expected.size >= 0)) {
      throw new Invalid(`invalid expected size ${expected.size}: expected a whole number of bytes`);
    }
    await mkdir(this.layout.uploadsDir, { recursive: true });
    const id = `put-${this.newId()}`;
    const temp = this.layout.uploadPath(id);
    // Not a crash's leftover while it is being written: the collector must not take it (listUploads).
    this.writing.add(id);
    let handle: FileHandle | null = await open(temp, 'wx').catch((err: unknown) => {
      this.writing.delete(id);
      throw err;
    });
    try {
      const hash = newHash(digest.algorithm);
      const size = await writeHashed(handle, 0, source, hash);
      const actual = `${digest.algorithm}:${hash.digest('hex')}`;
      verify(digest, expected.size, actual, size);
      await handle.sync();
      await handle.close();
      handle = null;
      return { digest: digest.value, size, created: await this.publish(temp, digest) };
    } finally {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true });
      this.writing.delete(id);
    }
  }

  // ---- resumable uploads (OCI chunked and streamed flows) ------------------------------------------

  startUpload(): Promise<string> {
    return this.uploads.start();
  }

  /** Appends to an upload; returns its new size. With `offset`, RangeInvalid unless it is the current size. */
  appendUpload(uploadId: string, source: Readable, options: { offset?: number } = {}): Promise<number> {
    return this.uploads.append(uploadId, source, options.offset);
  }

  uploadSize(uploadId: string): Promise<number> {
    return this.uploads.size(uploadId);
  }

  /**
   * Appends the final chunk, if any, verifies the whole upload against the digest and publishes it,
   * holding the digest until `record` has returned. On a mismatch the upload is cancelled (nothing
   * stored) and DigestInvalid thrown, before `record` could run.
   */
  async finishUpload(uploadId: string, expectedDigest: string, finalChunk?: Readable, record?: RecordBlob): Promise<StoredBlob> {
    const digest = parseDigest(expectedDigest);
    return this.withBlobsHeld([digest.value], async () => {
      const stored = await this.uploads.complete(uploadId, digest.algorithm, finalChunk, async (sealed) => {
        try {
          verify(digest, undefined, sealed.digest, sealed.size);
        } catch (err) {
          await rm(sealed.file, { force: true });
          throw err;
        }
        const created = await this.publish(sealed.file, digest);
        return { digest: digest.value, size: sealed.size, created };
      });
      await record?.(stored);
      return stored;
    });
  }

  cancelUpload(uploadId: string): Promise<boolean> {
    return this.uploads.cancel(uploadId);
  }

  /** Every blob file (for the garbage collector), in no particular order. */
  async *listBlobs(): AsyncGenerator<BlobFile> {
    let algorithms: string[];
    try {
      algorithms = await readdir(this.layout.blobsDir);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const algorithm of algorithms) {
      const fanOut = await readdir(path.join(this.layout.blobsDir, algorithm)).catch(() => [] as string[]);
      for (const prefix of fanOut) {
        const dir = path.join(this.layout.blobsDir, algorithm, prefix);
        for (const hex of await readdir(dir).catch(() => [] as string[])) {
          const info = await stat(path.join(dir, hex)).catch(() => null);
          if (info?.isFile()) yield { digest: `${algorithm}:${hex}`, size: info.size, modifiedAt: info.mtime };
        }
      }
    }
  }

  /**
   * Uploads in progress, oldest first, including temporary files a crash left behind (for GC); not the
   * files of puts being written now. A collection whose window reaches the present (`--grace 0`) took
   * one and the put failed with ENOENT (a 500) as it published it.
   */
  async listUploads(): Promise<UploadInfo[]> {
    return (await this.uploads.list()).filter((upload) => !this.writing.has(upload.id));
  }

  // ---- reading ----------------------------------------------------------------------------------------

  /** Whether the blob is there now, without a hold: a decision that must stay true asks inside withBlobsHeld. */
  async stat(digest: string): Promise<{ size: number } | null> {
    try {
      return { size: (await stat(this.layout.blobPath(parseDigest(digest)))).size };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== null;
  }

  /**
   * A small blob's bytes in one buffer (a manifest), read with as few system calls as possible.
   * BlobUnknown when absent; SizeInvalid when it is longer than `maxBytes` (nothing is read then).
   */
  async read(digest: string, maxBytes: number): Promise<Buffer> {
    const handle = await this.openFile(digest);
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) throw new SizeInvalid(maxBytes, size);
      const bytes = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      // Blobs are never rewritten in place; a short read means the file changed under us.
      if (filled !== size) throw new SizeInvalid(size, filled);
      return bytes;
    } finally {
      await handle.close();
    }
  }

  /** The blob's file, open for reading; BlobUnknown when absent. */
  private async openFile(digest: string): Promise<FileHandle> {
    try {
      return await open(this.layout.blobPath(parseDigest(digest)), 'r');
    } catch (err) {
      throw isMissing(err) ? new BlobUnknown(digest) : err;
    }
  }

  async get(digest: string, range?: ByteRange): Promise<Readable> {
    return (await this.open(digest, range)).stream;
  }

  /**
   * Opens a blob for reading, whole or a range (end past the blob is cut to its last byte, as HTTP
   * does). BlobUnknown when absent, RangeNotSatisfiable when the range starts past the end.
   */
  async open(digest: string, range?: ByteRange): Promise<BlobRead> {
    const handle = await this.openFile(digest);
    try {
      const { size } = await handle.stat();
      if (!range) return { stream: handle.createReadStream({ highWaterMark: chunkFor(size) }), size, start: 0, end: size - 1 };
      const { start } = range;
      const valid = Number.isSafeInteger(start) && Number.isSafeInteger(range.end) && start >= 0 && range.end >= start;
      if (!valid || start >= size) throw new RangeNotSatisfiable(start, range.end, size);
      const end = Math.min(range.end, size - 1);
      return { stream: handle.createReadStream({ start, end, highWaterMark: chunkFor(end - start + 1) }), size, start, end };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** delete without a hold: the caller holds the digest (withBlobsHeld). */
  private async removeFile(digest: string): Promise<boolean> {
    try {
      await unlink(this.layout.blobPath(parseDigest(digest)));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  // ---- capacity ------------------------------------------------------------------------------------

  /** Bytes and inodes the store occupies (walks the tree). */
  usage(): Promise<StorageUsage> {
    return measureUsage(this.layout.root);
  }

  /** InsufficientStorage (507) unless a write of `incomingBytes` leaves the reserves free. */
  checkCapacity(reserves: StorageReserves, incomingBytes = 0): Promise<Capacity> {
    return checkCapacity(this.layout.root, reserves, incomingBytes, this.options.statfs);
  }

  /**
   * Makes a verified, fsynced temporary file the blob. A hard link never replaces an existing file, so
   * a concurrent put of the same content is harmless: the first link wins and the other finds EEXIST.
   * Filesystems without hard links get a rename (same content, so replacing is harmless too).
   */
  private async publish(temp: string, digest: Digest): Promise<boolean> {
    const target = this.layout.blobPath(digest);
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });
    let created: boolean;
    try {
      await link(temp, target);
      created = true;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EEXIST') {
        created = false;
      } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        created = !(await exists(target));
        await rename(temp, target);
      } else {
        throw err;
      }
    }
    await rm(temp, { force: true });
    // The name must be durable before anyone records the blob as stored (the metadata store).
    if (created) await fsyncDir(dir);
    return created;
  }
}

function verify(expected: Digest, expectedSize: number | undefined, actual: string, size: number): void {
  if (expectedSize !== undefined && size !== expectedSize) throw new SizeInvalid(expectedSize, size);
  if (actual !== expected.value) {
    throw new DigestInvalid(`the content's digest is ${actual}, not ${expected.value}`, { expected: expected.value, actual });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}
