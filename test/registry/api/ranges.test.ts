import assert from 'node:assert/strict';
import { parseContentRange, parseRangeHeader, uploadRange } from '../../../src/registry/api/ranges.ts';
import { requiredAction } from '../../../src/registry/api/access.ts';
import { RegistryError } from '../../../src/registry/protocol/errors.ts';
import { parseV2Path } from '../../../src/registry/protocol/names.ts';

describe('registry API: range headers and required actions', () => {
  it('reads a blob GET Range against the blob size', () => {
    const cases: Array<[string | undefined, number, { start: number; end: number } | null]> = [
      [undefined, 100, null],
      ['bytes=0-9', 100, { start: 0, end: 9 }],
      ['bytes=90-', 100, { start: 90, end: 99 }],
      ['bytes=-10', 100, { start: 90, end: 99 }],
      ['bytes=-500', 100, { start: 0, end: 99 }],
      ['bytes=200-300', 100, { start: 200, end: 300 }], // passed on: the store answers 416
      ['bytes=9-0', 100, null],
      ['bytes=0-1,5-6', 100, null], // several ranges: served whole
      ['items=0-1', 100, null],
    ];
    for (const [header, size, expected] of cases) assert.deepEqual(parseRangeHeader(header, size), expected, String(header));
  });

  it('reads an upload Content-Range and refuses a malformed one with RANGE_INVALID', () => {
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes 100-149'), { start: 100, end: 149 });
    for (const bad of ['', '5', '10-2', 'a-b', '-1-3']) {
      assert.throws(() => parseContentRange(bad), (err: unknown) => err instanceof RegistryError && err.code === 'RANGE_INVALID', bad);
    }
    assert.equal(uploadRange(0), '0-0');
    assert.equal(uploadRange(150), '0-149');
  });

  it('needs pull for reads, push for writes and cancelling an upload, delete for deletes', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const route = (path: string) => parseV2Path(path)!;
    assert.equal(requiredAction(route('/v2/'), 'GET'), null);
    assert.equal(requiredAction(route('/v2/_catalog'), 'GET'), null);
    assert.equal(requiredAction(route(`/v2/a/blobs/${digest}`), 'HEAD'), 'pull');
    assert.equal(requiredAction(route('/v2/a/blobs/uploads/'), 'POST'), 'push');
    assert.equal(requiredAction(route('/v2/a/blobs/uploads/id1'), 'PATCH'), 'push');
    assert.equal(requiredAction(route('/v2/a/blobs/uploads/id1'), 'DELETE'), 'push');
    assert.equal(requiredAction(route('/v2/a/manifests/v1'), 'PUT'), 'push');
    assert.equal(requiredAction(route('/v2/a/manifests/v1'), 'DELETE'), 'delete');
    assert.equal(requiredAction(route(`/v2/a/blobs/${digest}`), 'DELETE'), 'delete');
  });
});
