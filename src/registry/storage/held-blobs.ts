// What a holder may do with the blobs whose digests the store holds for it (BlobStore.withBlobsHeld):
// publish one, say whether one is there, delete one. A push's check-publish-record and the garbage
// collector's check-and-delete each run under such a hold, so neither ever sees the other half done.
// The view answers only for the digests held and only until the hold ends: a holder cannot reach past
// its hold by mistake (a digest it forgot to name would not be safe from the collector).
import type { Readable } from 'node:stream';
import type { ExpectedBlob, StoredBlob } from './blob-store.ts';

export interface HeldBlobs {
  /** Stores a whole blob from a stream, verified against the expected digest (and size). */
  put(source: Readable, expected: ExpectedBlob): Promise<StoredBlob>;
  stat(digest: string): Promise<{ size: number } | null>;
  has(digest: string): Promise<boolean>;
  /** Removes the blob's file; false when there was none. */
  delete(digest: string): Promise<boolean>;
}

/** The store's own file operations, which take no hold: a hold hands them out through heldView. */
export type BlobFileOperations = Pick<HeldBlobs, 'put' | 'stat' | 'delete'>;

/** `files` limited to `digests`, until `end()` is called (when the hold is released). */
export function heldView(digests: ReadonlySet<string>, files: BlobFileOperations): { blobs: HeldBlobs; end(): void } {
  let ended = false;
  const held = (digest: string): string => {
    if (ended) throw new Error(`blob ${digest} was held by a hold that has ended; hold it again (BlobStore.withBlobsHeld)`);
    if (!digests.has(digest)) throw new Error(`blob ${digest} is not held; hold it with the others (held: ${[...digests].join(', ')})`);
    return digest;
  };
  const blobs: HeldBlobs = {
    put: async (source, expected) => files.put(source, { ...expected, digest: held(expected.digest) }),
    stat: async (digest) => files.stat(held(digest)),
    has: async (digest) => (await files.stat(held(digest))) !== null,
    delete: async (digest) => files.delete(held(digest)),
  };
  return {
    blobs,
    end: () => {
      ended = true;
    },
  };
}
