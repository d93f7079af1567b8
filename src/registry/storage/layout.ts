// Where the blob store keeps things under its root. Flat and content-addressed:
//   <root>/blobs/<algorithm>/<first two hex>/<hex>   one file per blob, nothing else per blob
//   <root>/uploads/<uploadId>                         one temporary file per upload in progress
// The two-character fan-out directories are shared by all blobs (at most 256 per algorithm). Uploads
// live on the same filesystem as blobs, so publishing one is a link or rename, never a copy.
import path from 'node:path';
import type { Digest } from './digest.ts';
import { UploadIdInvalid } from './errors.ts';

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
