// Paging of the tag list and the catalog: `?n=<count>&last=<name>` returns up to n names after `last`,
// and a `Link: </v2/...?n=N&last=X>; rel="next"` header says where the next page starts. With n=0 the
// answer is an empty list and no Link header (distribution-spec v1.1). The pages themselves come from
// RegistryMetadata (byte order, in the database); this file reads the query and writes the Link.
import { clip } from './digest.ts';
import { RegistryError } from './errors.ts';

export interface PageQuery {
  n?: number;
  last?: string;
}

const DIGITS = /^\d+$/;

/** Reads `n` and `last` from a parsed query string (koa's ctx.query shape); a bad n is PAGINATION_NUMBER_INVALID. */
export function parsePageQuery(query: Record<string, string | string[] | undefined>): PageQuery {
  const rawN = single(query, 'n');
  const last = single(query, 'last');
  const out: PageQuery = {};
  if (rawN !== undefined) {
    const n = DIGITS.test(rawN) ? Number(rawN) : Number.NaN;
    assertCount(n, rawN);
    out.n = n;
  }
  if (last !== undefined) out.last = last;
  return out;
}

/** The Link header value for the next page: `</v2/library/ubuntu/tags/list?n=2&last=b>; rel="next"`. */
export function nextLink(path: string, next: { n: number; last: string }): string {
  return `<${path}?n=${next.n}&last=${encodeURIComponent(next.last)}>; rel="next"`;
}

function single(query: Record<string, string | string[] | undefined>, key: string): string | undefined {
  const value = query[key];
  if (Array.isArray(value)) {
    if (key === 'n') throw countError(value.join(','), `"n" is given ${value.length} times`);
    return value[value.length - 1];
  }
  return value;
}

function assertCount(n: number, shown: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw countError(shown, 'it must be a non-negative integer');
}

function countError(shown: string, reason: string): RegistryError {
  return new RegistryError('PAGINATION_NUMBER_INVALID', `invalid n "${clip(shown)}": ${reason}`, { n: clip(shown), reason });
}
