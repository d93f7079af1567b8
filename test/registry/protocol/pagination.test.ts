import assert from 'node:assert/strict';
import { lexicalCompare, nextLink, paginate, parsePageQuery, sortNames, type Page, type PageOptions } from '../../../src/registry/protocol/pagination.ts';
import { throwsRegistryError } from './helpers.ts';

const TAGS = ['a', 'b', 'c', 'd', 'e'];

describe('registry protocol: pagination', () => {
  const table: Array<[string, readonly string[], PageOptions, Page]> = [
    ['everything when nothing is asked', TAGS, {}, { items: TAGS }],
    ['n=2: the first two and where to go on', TAGS, { n: 2 }, { items: ['a', 'b'], next: { n: 2, last: 'b' } }],
    ['n=2, last=b', TAGS, { n: 2, last: 'b' }, { items: ['c', 'd'], next: { n: 2, last: 'd' } }],
    ['n=2, last=d: the final page has no next', TAGS, { n: 2, last: 'd' }, { items: ['e'] }],
    ['n equal to what remains: no next', TAGS, { n: 5 }, { items: TAGS }],
    ['n larger than the list', TAGS, { n: 100 }, { items: TAGS }],
    ['n=0: an empty list and no next (the spec)', TAGS, { n: 0 }, { items: [] }],
    ['n=0 with last', TAGS, { n: 0, last: 'a' }, { items: [] }],
    ['last alone: everything after it', TAGS, { last: 'c' }, { items: ['d', 'e'] }],
    ['last is the final name', TAGS, { last: 'e' }, { items: [] }],
    ['last past the end', TAGS, { n: 3, last: 'z' }, { items: [] }],
    ['last not in the list: starts after where it would be', ['a', 'c', 'e'], { n: 1, last: 'b' }, { items: ['c'], next: { n: 1, last: 'c' } }],
    ['last before the start', TAGS, { n: 1, last: '0' }, { items: ['a'], next: { n: 1, last: 'a' } }],
    ['an empty list', [], { n: 5 }, { items: [] }],
    ['max caps a page without n, and says where to go on', TAGS, { max: 2 }, { items: ['a', 'b'], next: { n: 2, last: 'b' } }],
    ['max caps a larger n; the link keeps the asked n', TAGS, { n: 4, max: 3 }, { items: ['a', 'b', 'c'], next: { n: 4, last: 'c' } }],
    ['a smaller n than max', TAGS, { n: 1, max: 3, last: 'c' }, { items: ['d'], next: { n: 1, last: 'd' } }],
    ['case-insensitive lexical order (the spec)', ['alpha', 'Beta', 'gamma'], { n: 1, last: 'alpha' }, { items: ['Beta'], next: { n: 1, last: 'Beta' } }],
    ['a custom order (byte order, as SQL binary collation)', ['Beta', 'alpha', 'gamma'], { n: 5, last: 'Beta', compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0) }, { items: ['alpha', 'gamma'] }],
    ['repository names with slashes', ['a/b', 'a/c', 'b'], { n: 1, last: 'a/b' }, { items: ['a/c'], next: { n: 1, last: 'a/c' } }],
  ];
  for (const [name, names, options, expected] of table) {
    it(name, () => assert.deepEqual(paginate(names, options), expected));
  }

  it('walking the pages with the link visits every name once', () => {
    const names = sortNames(Array.from({ length: 23 }, (_, i) => `t${i}`));
    const seen: string[] = [];
    let options: PageOptions = { n: 5 };
    for (let pages = 0; pages < 10; pages += 1) {
      const page = paginate(names, options);
      seen.push(...page.items);
      if (!page.next) break;
      options = page.next;
    }
    assert.deepEqual(seen, names);
  });

  const badN = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY];
  for (const n of badN) {
    it(`paginate rejects n=${n}`, () => {
      throwsRegistryError(() => paginate(TAGS, { n }), 'PAGINATION_NUMBER_INVALID', /non-negative integer/, 400);
    });
  }
  it('paginate rejects a bad max (a programming error)', () => {
    assert.throws(() => paginate(TAGS, { max: 0 }), RangeError);
  });

  const queries: Array<[Record<string, string | string[] | undefined>, ReturnType<typeof parsePageQuery> | RegExp]> = [
    [{}, {}],
    [{ n: '10' }, { n: 10 }],
    [{ n: '0' }, { n: 0 }],
    [{ n: '007' }, { n: 7 }],
    [{ last: 'v1.0' }, { last: 'v1.0' }],
    [{ n: '2', last: 'b', other: 'x' }, { n: 2, last: 'b' }],
    [{ last: ['a', 'b'] }, { last: 'b' }],
    [{ n: '-1' }, /invalid n "-1"/],
    [{ n: '1.5' }, /invalid n "1.5"/],
    [{ n: 'ten' }, /invalid n "ten"/],
    [{ n: '' }, /invalid n ""/],
    [{ n: ' 5' }, /invalid n " 5"/],
    [{ n: '1e3' }, /invalid n "1e3"/],
    [{ n: '0x10' }, /invalid n "0x10"/],
    [{ n: '99999999999999999999' }, /invalid n/],
    [{ n: ['1', '2'] }, /"n" is given 2 times/],
  ];
  for (const [query, expected] of queries) {
    it(`parsePageQuery(${JSON.stringify(query)})`, () => {
      if (expected instanceof RegExp) throwsRegistryError(() => parsePageQuery(query), 'PAGINATION_NUMBER_INVALID', expected, 400);
      else assert.deepEqual(parsePageQuery(query), expected);
    });
  }

  const links: Array<[string, { n: number; last: string }, string]> = [
    ['/v2/library/ubuntu/tags/list', { n: 2, last: 'b' }, '</v2/library/ubuntu/tags/list?n=2&last=b>; rel="next"'],
    ['/v2/_catalog', { n: 100, last: 'a/b/c' }, '</v2/_catalog?n=100&last=a%2Fb%2Fc>; rel="next"'],
    ['/v2/a/tags/list', { n: 1, last: 'v1.0_rc-1' }, '</v2/a/tags/list?n=1&last=v1.0_rc-1>; rel="next"'],
  ];
  for (const [path, next, header] of links) {
    it(`nextLink → ${header}`, () => assert.equal(nextLink(path, next), header));
  }

  const order: Array<[string, string, number]> = [
    ['a', 'b', -1],
    ['B', 'a', 1],
    ['a', 'A', 1],
    ['A', 'a', -1],
    ['same', 'same', 0],
    ['v1.10', 'v1.9', -1],
  ];
  for (const [a, b, sign] of order) {
    it(`lexicalCompare(${a}, ${b}) is ${sign}`, () => assert.equal(Math.sign(lexicalCompare(a, b)), sign));
  }
  it('sortNames sorts case-insensitively and does not touch its input', () => {
    const input = ['b', 'C', 'a', 'B'];
    assert.deepEqual(sortNames(input), ['a', 'B', 'b', 'C']);
    assert.deepEqual(input, ['b', 'C', 'a', 'B']);
  });
});
