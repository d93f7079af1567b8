// Paging of the tag list and the catalog: `?n=<count>&last=<name>` returns up to n names after `last`,
// and a `Link: </v2/...?n=N&last=X>; rel="next"` header says where the next page starts. With n=0 the
// answer is an empty list and no Link header (distribution-spec v1.1).
import { clip } from './digest.ts';
import { RegistryError } from './errors.ts';

export interface PageQuery {
  n?: number;
  last?: string;
}

export interface PageOptions extends PageQuery {
  /** The most names one page may hold whatever n asks (the registry's own cap); a Link says there is more. */
  max?: number;
  /** The order `sortedNames` is in; lexicalCompare by default. */
  compare?: (a: string, b: string) => number;
}

export interface Page {
  items: string[];
  /** Where the next page starts, when there is more. */
  next?: { n: number; last: string };
}

/** The spec's "lexical order (i.e. case-insensitive alphanumeric order)", made total by a case-sensitive tie-break. */
export function lexicalCompare(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A sorted copy, in the order paginate() expects by default. */
export function sortNames(names: Iterable<string>): string[] {
  return [...names].sort(lexicalCompare);
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

/** One page of `sortedNames` (sorted by options.compare, lexicalCompare by default). */
export function paginate(sortedNames: readonly string[], options: PageOptions = {}): Page {
  const { n, last, max } = options;
  const compare = options.compare ?? lexicalCompare;
  if (n !== undefined) assertCount(n, String(n));
  if (max !== undefined && !(Number.isSafeInteger(max) && max > 0)) throw new RangeError(`page max must be a positive integer (got ${max})`);
  if (n === 0) return { items: [] };

  let start = 0;
  if (last !== undefined) {
    while (start < sortedNames.length && compare(sortedNames[start]!, last) <= 0) start += 1;
  }
  const limit = Math.min(n ?? Number.POSITIVE_INFINITY, max ?? Number.POSITIVE_INFINITY);
  const end = Math.min(sortedNames.length, start + limit);
  const items = sortedNames.slice(start, end);
  if (end >= sortedNames.length || items.length === 0) return { items };
  return { items, next: { n: n ?? limit, last: items[items.length - 1]! } };
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
