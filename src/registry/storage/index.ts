// The registry's blob storage: what the protocol layer and the server's composition root import.
export { BlobStore, type BlobFile, type BlobRead, type BlobStoreOptions, type ByteRange, type ExpectedBlob, type RecordBlob, type StoredBlob } from './blob-store.ts';
export type { HeldBlobs } from './held-blobs.ts';
export { type Digest, type DigestAlgorithm, digestOf, digestOfStream, isDigest, parseDigest } from './digest.ts';
export {
  BlobUnknown,
  DigestInvalid,
  InsufficientStorage,
  RangeInvalid,
  RangeNotSatisfiable,
  SizeInvalid,
  UploadIdInvalid,
  UploadUnknown,
  type StorageResource,
} from './errors.ts';
export { type Capacity, checkCapacity, INODES_PER_WRITE, readCapacity, type StatFs, type StorageReserves } from './storage-guard.ts';
export { prepareLayout } from './layout.ts';
export type { UploadInfo } from './uploads.ts';
export type { StorageUsage } from './usage.ts';
