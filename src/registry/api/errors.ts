// One place where the building blocks' typed errors become the OCI spec's error codes, and where every
// error is rendered as `{"errors":[{code,message,detail}]}`. Unexpected errors answer 500 with a generic
// message and are logged.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { ManifestUnknown, MissingReferences, RepositoryUnknown } from '../metadata/errors.ts';
import { asRegistryError, errorBody, RegistryError } from '../protocol/errors.ts';
import {
  BlobUnknown,
  DigestInvalid,
  InsufficientStorage,
  RangeInvalid,
  RangeNotSatisfiable,
  SizeInvalid,
  UploadIdInvalid,
  UploadUnknown,
} from '../storage/index.ts';

/** The registry error for a thrown value, or null when it is unexpected (a bug, a disk failure). */
export function toRegistryError(err: unknown): RegistryError | null {
  const known = asRegistryError(err);
  if (known) return known;
  if (err instanceof DigestInvalid) return new RegistryError('DIGEST_INVALID', err.message, err.details);
  if (err instanceof SizeInvalid) return new RegistryError('SIZE_INVALID', err.message, { expected: err.expected, actual: err.actual });
  if (err instanceof BlobUnknown) return new RegistryError('BLOB_UNKNOWN', err.message, { digest: err.digest });
  if (err instanceof UploadUnknown) return new RegistryError('BLOB_UPLOAD_UNKNOWN', err.message, { uploadId: err.uploadId });
  if (err instanceof UploadIdInvalid) return new RegistryError('BLOB_UPLOAD_UNKNOWN', err.message);
  if (err instanceof RangeInvalid) return new RegistryError('RANGE_INVALID', err.message, { offset: err.offset, size: err.size });
  if (err instanceof RangeNotSatisfiable) {
    return new RegistryError('RANGE_INVALID', err.message, { start: err.start, end: err.end, size: err.size });
  }
  if (err instanceof InsufficientStorage) {
    return new RegistryError(
      'DENIED',
      `insufficient storage: ${err.message}`,
      { resource: err.resource, free: err.free, reserved: err.reserved },
      { status: 507 },
    );
  }
  if (err instanceof MissingReferences) return new RegistryError('MANIFEST_BLOB_UNKNOWN', err.message, { missing: err.missing });
  if (err instanceof ManifestUnknown) return new RegistryError('MANIFEST_UNKNOWN', err.message);
  if (err instanceof RepositoryUnknown) return new RegistryError('NAME_UNKNOWN', err.message, { name: err.repository });
  return null;
}

/** Writes the error answer (status, headers, JSON body) for anything a handler threw. */
export function renderError(ctx: Context, caught: unknown, logger: Logger | undefined, challenge: () => string): void {
  const err = toRegistryError(caught);
  // A 416 says how far the blob or the upload goes.
  if (caught instanceof RangeNotSatisfiable) ctx.set('Content-Range', `bytes */${caught.size}`);
  if (caught instanceof RangeInvalid) ctx.set('Range', `0-${Math.max(caught.size - 1, 0)}`);
  if (err === null) {
    logger?.error({ err: caught, method: ctx.method, path: ctx.path }, 'registry request failed');
    ctx.status = 500;
    ctx.body = { errors: [{ code: 'UNKNOWN', message: 'internal error; see the server log' }] };
    return;
  }
  if (err.status >= 500) logger?.warn({ err: caught, method: ctx.method, path: ctx.path }, 'registry request refused');
  if (err.status === 401) ctx.set('WWW-Authenticate', challenge());
  ctx.status = err.status;
  ctx.body = errorBody(err);
}
