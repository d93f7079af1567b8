// Typed errors of the blob store. The OCI protocol layer maps them to its error codes once:
// DigestInvalid → DIGEST_INVALID, SizeInvalid → SIZE_INVALID, BlobUnknown → BLOB_UNKNOWN,
// UploadUnknown → BLOB_UPLOAD_UNKNOWN, RangeInvalid / RangeNotSatisfiable → 416,
// InsufficientStorage → 507 with DENIED.
import { GantryError, Invalid, NotFound } from '../../shared/errors.ts';

/** A digest that is malformed, of an unsupported algorithm, or that does not match the content. */
export class DigestInvalid extends Invalid {
  constructor(message: string, details?: unknown) {
    super(message, details);
  }
}

/** The content's length is not the length the client announced. */
export class SizeInvalid extends Invalid {
  constructor(readonly expected: number, readonly actual: number) {
    super(`the content is ${actual} bytes long, ${expected} were announced`, { expected, actual });
  }
}

/** An upload id that is not safe to use as a file name (user input never leaves the root). */
export class UploadIdInvalid extends Invalid {
  constructor(id: string) {
    super(`invalid upload id "${id.slice(0, 80)}": expected 1 to 128 characters of [A-Za-z0-9_-]`);
  }
}

export class BlobUnknown extends NotFound {
  constructor(readonly digest: string) {
    super(`blob ${digest} is not known`);
  }
}

export class UploadUnknown extends NotFound {
  constructor(readonly uploadId: string) {
    super(`upload "${uploadId}" is not known (finished, cancelled or never started)`);
  }
}

/** A chunk that does not start where the upload ends (out of order or repeated): HTTP 416. */
export class RangeInvalid extends GantryError {
  constructor(readonly offset: number, readonly size: number) {
    super('range_invalid', 416, `the chunk starts at byte ${offset} but the upload holds ${size} bytes`, { offset, size });
  }
}

/** A read range outside the blob: HTTP 416 with `Content-Range: bytes *\/size`. */
export class RangeNotSatisfiable extends GantryError {
  constructor(readonly start: number, readonly end: number, readonly size: number) {
    super('range_not_satisfiable', 416, `range ${start}-${end} is outside the blob's ${size} bytes`, { start, end, size });
  }
}

export type StorageResource = 'bytes' | 'inodes';

/** The storage would fall under its reserve of free bytes or inodes: HTTP 507, nothing written. */
export class InsufficientStorage extends GantryError {
  constructor(
    message: string,
    readonly resource: StorageResource,
    readonly free: number,
    readonly reserved: number,
  ) {
    super('insufficient_storage', 507, message, { resource, free, reserved });
  }
}
