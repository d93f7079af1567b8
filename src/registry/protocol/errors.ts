// The OCI Distribution Specification's error codes and its JSON error body
// `{"errors":[{"code","message","detail"}]}`. Registry handlers throw RegistryError; because it is a
// GantryError (code, status, details), anything that already handles typed errors still works, and the
// registry's own middleware renders it with errorBody().
import { GantryError } from '../../shared/errors.ts';

/** Each code with the HTTP status the registry answers it with and the spec's description. */
export const REGISTRY_ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // Not in the spec's list; CNCF distribution answers them, and clients treat unknown codes as UNKNOWN.
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
} as const satisfies Record<string, { status: number; message: string }>;

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES;

export interface RegistryErrorOptions {
  /** Overrides the code's usual status, e.g. 413 for SIZE_INVALID on an oversized manifest, 507 for DENIED. */
  status?: number;
}

export class RegistryError extends GantryError {
  declare readonly code: RegistryErrorCode;
  /** The spec's `detail`: arbitrary JSON that helps the client resolve the issue. */
  readonly detail: unknown;

  constructor(code: RegistryErrorCode, message?: string, detail?: unknown, options: RegistryErrorOptions = {}) {
    const known = REGISTRY_ERROR_CODES[code];
    super(code, options.status ?? known.status, message ?? known.message, detail);
    this.detail = detail;
  }
}

export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

export interface RegistryErrorBody {
  errors: RegistryErrorEntry[];
}

/** The spec's error body; `detail` is left out when there is none (it is OPTIONAL). */
export function errorBody(errors: RegistryError | readonly RegistryError[]): RegistryErrorBody {
  const list = Array.isArray(errors) ? (errors as readonly RegistryError[]) : [errors as RegistryError];
  return {
    errors: list.map((e) =>
      e.detail === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, detail: e.detail },
    ),
  };
}

/**
 * Translates the platform's generic typed errors into registry errors where the meaning is unambiguous
 * (401 → UNAUTHORIZED, 403 → DENIED, 429 → TOOMANYREQUESTS); a RegistryError passes through. Anything
 * else (not found of what? invalid what?) is null: the handler knows the context and must choose the code.
 */
export function asRegistryError(err: unknown): RegistryError | null {
  if (err instanceof RegistryError) return err;
  if (!(err instanceof GantryError)) return null;
  const detail = err.details;
  switch (err.status) {
    case 401:
      return new RegistryError('UNAUTHORIZED', err.message, detail);
    case 403:
      return new RegistryError('DENIED', err.message, detail);
    case 429:
      return new RegistryError('TOOMANYREQUESTS', err.message, detail);
    default:
      return null;
  }
}
