// Where the blob store keeps things under its root. Flat and content-addressed:
//   <root>/blobs/<algorithm>/<first two hex>/<hex>   one file per blob, nothing else per blob
//   <root>/uploads/<uploadId>                         one temporary file per upload in progress
// The two-character fan-out directories are shared by all blobs: all 256 of them are made when the
// store opens (prepareLayout), a fixed cost of 258 inodes, so that a pushed blob costs exactly one
// inode and a 3-layer image exactly five, however empty the store was. Uploads live on the same
// filesystem as blobs, so publishing one is a link or rename, never a copy.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Digest } from './digest.ts';
import { Unavailable } from '../../shared/errors.ts';
import { UploadIdInvalid } from './errors.ts';

/** The digest algorithm whose fan-out is made ahead: the one every client uses (sha512 blobs make theirs on demand). */
const PREPARED_ALGORITHM = 'sha256';

const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function validateUploadId(id: string): string {
  if (typeof id !== 'string' || !UPLOAD_ID.test(id)) throw new UploadIdInvalid(String(id));
  return id;
}

export class StorageLayout {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get blobsDir(): string {
    return path.join(this.root, 'blobs');
  }

  get uploadsDir(): string {
    return path.join(this.root, 'uploads');
  }

  /** The blob's file; `digest` comes from parseDigest, so its parts are known to be hex. */
  blobPath(digest: Digest): string {
    return path.join(this.blobsDir, digest.algorithm, digest.hex.slice(0, 2), digest.hex);
  }

  /** The upload's temporary file; throws UploadIdInvalid for anything but [A-Za-z0-9_-]. */
  uploadPath(id: string): string {
    return path.join(this.uploadsDir, validateUploadId(id));
  }
}

/**
 * Makes blobs/sha256/00 … ff and uploads/ (idempotent, synchronous: it runs once when the registry is
 * assembled, before it serves).
 */
export function prepareLayout(root: string): void {
  const layout = new StorageLayout(root);
  try {
    mkdirSync(layout.uploadsDir, { recursive: true });
    for (let i = 0; i < 256; i++) {
      mkdirSync(path.join(layout.blobsDir, PREPARED_ALGORITHM, i.toString(16).padStart(2, '0')), { recursive: true });
    }
  } catch (err) {
    throw new Unavailable(`cannot prepare the registry storage under ${layout.root}: ${(err as Error).message}`);
  }
}
