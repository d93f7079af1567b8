import assert from 'node:assert/strict';
import { nextLink, parsePageQuery } from '../../../src/registry/protocol/pagination.ts';
import { throwsRegistryError } from './helpers.ts';

describe('registry protocol: pagination', () => {
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

});
