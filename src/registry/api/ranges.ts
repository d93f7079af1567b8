// The two byte-range headers of the protocol: `Range: bytes=start-end` on a blob GET (HTTP semantics,
// answered with 206) and `Content-Range: start-end` on an upload chunk (the position of the chunk).
import type { ByteRange } from '../storage/index.ts';
import { RegistryError } from '../protocol/errors.ts';

/**
 * A blob GET's `Range` header as a range of a blob of `size` bytes, or null to send the whole blob (no
 * header, or one we do not serve, e.g. several ranges: HTTP lets a server ignore Range). A range that
 * starts past the end is passed on, so that the store answers 416.
 */
export function parseRangeHeader(value: string | undefined, size: number): ByteRange | null {
  if (value === undefined) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!match) return null;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return null;
  if (from === '') {
    // A suffix: the last N bytes.
    const length = Number(to);
    if (length === 0) return { start: size, end: size };
    return { start: Math.max(size - length, 0), end: Math.max(size - 1, 0) };
  }
  const start = Number(from);
  const end = to === '' ? Math.max(size - 1, start) : Number(to);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null;
  return { start, end };
}

/** An upload chunk's `Content-Range` (`start-end`, inclusive; `bytes ` or `bytes=` prefixes tolerated). */
export function parseContentRange(value: string): ByteRange {
  const match = /^\s*(?:bytes[ =])?\s*(\d+)-(\d+)\s*$/i.exec(value);
  const start = match ? Number(match[1]) : Number.NaN;
  const end = match ? Number(match[2]) : Number.NaN;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new RegistryError('RANGE_INVALID', `invalid Content-Range "${value.slice(0, 80)}": expected <start>-<end>`, { contentRange: value.slice(0, 80) });
  }
  return { start, end };
}

/** The `Range` header of an upload session holding `size` bytes: `0-<last byte>`, `0-0` when empty. */
export function uploadRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}
