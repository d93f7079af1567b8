import assert from 'node:assert/strict';
import {
  MAX_NAME_LENGTH,
  assertName,
  isName,
  isReference,
  isTag,
  nameProblem,
  parseReference,
  parseV2Path,
  type V2Route,
} from '../../../src/registry/protocol/names.ts';
import type { RegistryErrorCode } from '../../../src/registry/protocol/errors.ts';
import { throwsRegistryError } from './helpers.ts';

const D = `sha256:${'a'.repeat(64)}`;
const D512 = `sha512:${'0123456789abcdef'.repeat(8)}`;

describe('registry protocol: names', () => {
  describe('repository names', () => {
    const good = [
      'a',
      'ubuntu',
      'library/ubuntu',
      'a/b/c',
      'a__b',
      'a_b',
      'a.b',
      'a-b',
      'a---b',
      'a0/b-1/c.2/d__3',
      '0',
      'gantry/ci/build-cache',
      'x'.repeat(MAX_NAME_LENGTH),
      `${'a'.repeat(127)}/${'b'.repeat(127)}`,
    ];
    for (const name of good) {
      it(`accepts ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}… (${name.length})` : name)}`, () => {
        assert.equal(nameProblem(name), null);
        assert.equal(isName(name), true);
        assert.equal(assertName(name), name);
      });
    }

    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['Ubuntu', /uppercase/],
      ['library/Ubuntu', /uppercase/],
      ['a/', /empty path component/],
      ['/a', /empty path component/],
      ['a//b', /empty path component/],
      ['a___b', /not a repository name/],
      ['a._b', /not a repository name/],
      ['a.-b', /not a repository name/],
      ['-a', /not a repository name/],
      ['a-', /not a repository name/],
      ['a.', /not a repository name/],
      ['_a', /not a repository name/],
      ['..', /not a repository name/],
      ['a/../b', /not a repository name/],
      ['a/./b', /not a repository name/],
      ['a b', /not a repository name/],
      ['a:b', /not a repository name/],
      ['a@b', /not a repository name/],
      ['é', /not a repository name/],
      ['x'.repeat(MAX_NAME_LENGTH + 1), /256 characters long; the limit is 255/],
      [`${'a'.repeat(128)}/${'b'.repeat(127)}`, /256 characters long/],
    ];
    for (const [name, reason] of bad) {
      it(`rejects ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}… (${name.length})` : name)}`, () => {
        assert.match(nameProblem(name) ?? 'accepted', reason);
        assert.equal(isName(name), false);
        const err = throwsRegistryError(() => assertName(name), 'NAME_INVALID', /invalid repository name/, 400);
        assert.match(String((err.detail as { reason: string }).reason), reason);
      });
    }
  });

  describe('tags', () => {
    const good = ['latest', 'v1.2.3', '1', '_', '_private', 'A', 'UPPER-lower_1.0', 'a'.repeat(128), 'sha256-abc.sig'];
    for (const tag of good) {
      it(`accepts tag ${JSON.stringify(tag.length > 40 ? `${tag.length} chars` : tag)}`, () => {
        assert.equal(isTag(tag), true);
        assert.deepEqual(parseReference(tag), { kind: 'tag', tag });
      });
    }
    const bad = ['', '.hidden', '-dash', 'a'.repeat(129), 'a/b', 'a b', 'tag+1', 'tâg', 'a\nb'];
    for (const tag of bad) {
      it(`rejects tag ${JSON.stringify(tag.length > 40 ? `${tag.length} chars` : tag)}`, () => {
        assert.equal(isTag(tag), false);
        assert.equal(isReference(tag), false);
        throwsRegistryError(() => parseReference(tag), 'MANIFEST_INVALID', /invalid reference/, 400);
      });
    }
  });

  describe('references', () => {
    const table: Array<[string, ReturnType<typeof parseReference> | RegistryErrorCode]> = [
      ['latest', { kind: 'tag', tag: 'latest' }],
      [D, { kind: 'digest', digest: D }],
      [D512, { kind: 'digest', digest: D512 }],
      ['sha256:totallywrong', 'DIGEST_INVALID'],
      [`sha256:${'A'.repeat(64)}`, 'DIGEST_INVALID'],
      [`md5:${'a'.repeat(32)}`, 'DIGEST_INVALID'],
      ['tag:with:colons', 'DIGEST_INVALID'],
      ['.bad', 'MANIFEST_INVALID'],
    ];
    for (const [reference, expected] of table) {
      it(`${reference.slice(0, 30)} → ${typeof expected === 'string' ? expected : expected.kind}`, () => {
        if (typeof expected === 'string') {
          assert.equal(isReference(reference), false);
          throwsRegistryError(() => parseReference(reference), expected, undefined, 400);
        } else {
          assert.equal(isReference(reference), true);
          assert.deepEqual(parseReference(reference), expected);
        }
      });
    }
  });

  describe('parseV2Path', () => {
    const routes: Array<[string, V2Route | null]> = [
      ['/v2/', { kind: 'base' }],
      ['/v2', { kind: 'base' }],
      ['/v2/_catalog', { kind: 'catalog' }],
      ['/v2/_catalog?n=10&last=a', { kind: 'catalog' }],
      [`/v2/ubuntu/blobs/${D}`, { kind: 'blob', name: 'ubuntu', digest: D }],
      [`/v2/library/ubuntu/blobs/${D512}`, { kind: 'blob', name: 'library/ubuntu', digest: D512 }],
      [`/v2/a/b/blobs/sha256%3A${'a'.repeat(64)}`, { kind: 'blob', name: 'a/b', digest: D }],
      ['/v2/a/b/c/blobs/uploads/', { kind: 'blobUpload', name: 'a/b/c' }],
      ['/v2/a/b/c/blobs/uploads', { kind: 'blobUpload', name: 'a/b/c' }],
      ['/v2/a/blobs/uploads/?digest=sha256:x', { kind: 'blobUpload', name: 'a' }],
      ['/v2/a/b/blobs/uploads/u-mhx3kq2p-4f0a9z', { kind: 'blobUploadSession', name: 'a/b', uploadId: 'u-mhx3kq2p-4f0a9z' }],
      [
        '/v2/a/blobs/uploads/3f2504e0-4f89-11d3-9a0c-0305e82c3301?digest=x',
        { kind: 'blobUploadSession', name: 'a', uploadId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
      ],
      ['/v2/library/ubuntu/manifests/latest', { kind: 'manifest', name: 'library/ubuntu', reference: 'latest', tag: 'latest' }],
      [`/v2/a/manifests/${D}`, { kind: 'manifest', name: 'a', reference: D, digest: D }],
      ['/v2/a/b/c/tags/list', { kind: 'tags', name: 'a/b/c' }],
      [`/v2/a/b/referrers/${D}`, { kind: 'referrers', name: 'a/b', digest: D }],
      [`/v2/a/b/referrers/${D}?artifactType=application/x`, { kind: 'referrers', name: 'a/b', digest: D }],
      // Keywords inside the name: read from the right.
      ['/v2/blobs/manifests/manifests/tags', { kind: 'manifest', name: 'blobs/manifests', reference: 'tags', tag: 'tags' }],
      ['/v2/tags/list/tags/list', { kind: 'tags', name: 'tags/list' }],
      ['/v2/x/blobs/uploads/tags/list', { kind: 'tags', name: 'x/blobs/uploads' }],
      ['/v2/manifests/blobs/uploads/', { kind: 'blobUpload', name: 'manifests' }],
      [`/v2/a/manifests/b/blobs/${D}`, { kind: 'blob', name: 'a/manifests/b', digest: D }],
      ['/v2/a/blobs/uploads/blobs/uploads/id1', { kind: 'blobUploadSession', name: 'a/blobs/uploads', uploadId: 'id1' }],
      // Unknown shapes: no route.
      ['/', null],
      ['/v1/a/tags/list', null],
      ['/v2x/a/tags/list', null],
      ['/v2/_catalog/', null],
      ['/v2/a', null],
      ['/v2/a/b', null],
      ['/v2/a/tags', null],
      ['/v2/a/tags/other', null],
      ['/v2/a/tags/list/', null],
      ['/v2/a/manifests/latest/', null],
      ['/v2/a/unknown/x', null],
      ['/v2/a/uploads/x', null],
      ['/v2/manifests/x', null],
      ['/v2/blobs/uploads/', null],
    ];
    for (const [path, expected] of routes) {
      it(`${path.length > 70 ? `${path.slice(0, 70)}…` : path} → ${expected?.kind ?? 'null'}`, () => {
        assert.deepEqual(parseV2Path(path), expected);
      });
    }

    const errors: Array<[string, RegistryErrorCode]> = [
      // Traversal in every form is NAME_INVALID, whatever the rest of the path.
      ['/v2/../tags/list', 'NAME_INVALID'],
      ['/v2/a/../b/tags/list', 'NAME_INVALID'],
      ['/v2/a/./b/tags/list', 'NAME_INVALID'],
      ['/v2/..', 'NAME_INVALID'],
      ['/v2/a/manifests/..', 'NAME_INVALID'],
      ['/v2/%2e%2e/tags/list', 'NAME_INVALID'],
      ['/v2/%2E%2E/%2e%2E/etc/tags/list', 'NAME_INVALID'],
      ['/v2/a/%2e%2e/b/tags/list', 'NAME_INVALID'],
      ['/v2/.%2e/tags/list', 'NAME_INVALID'],
      ['/v2/a%2fb/tags/list', 'NAME_INVALID'],
      ['/v2/a%2Fb/tags/list', 'NAME_INVALID'],
      ['/v2/a%5cb/tags/list', 'NAME_INVALID'],
      ['/v2/a%252e%252e/tags/list', 'NAME_INVALID'],
      ['/v2/a%00/tags/list', 'NAME_INVALID'],
      ['/v2/a%zz/tags/list', 'NAME_INVALID'],
      ['/v2/a%/tags/list', 'NAME_INVALID'],
      ['/v2/a%c3%28/tags/list', 'NAME_INVALID'],
      ['/v2/a\\..\\b/tags/list', 'NAME_INVALID'],
      ['/v2//tags/list', 'NAME_INVALID'],
      ['/v2/a//b/tags/list', 'NAME_INVALID'],
      ['/v2/a//manifests/latest', 'NAME_INVALID'],
      ['/v2/a/manifests//x', 'NAME_INVALID'],
      ['/v2//', 'NAME_INVALID'],
      // Bad names in a known shape.
      ['/v2/Library/ubuntu/tags/list', 'NAME_INVALID'],
      ['/v2/a___b/manifests/latest', 'NAME_INVALID'],
      ['/v2/-a/blobs/uploads/', 'NAME_INVALID'],
      ['/v2/%41bc/tags/list', 'NAME_INVALID'],
      [`/v2/${'a'.repeat(256)}/tags/list`, 'NAME_INVALID'],
      // Bad references, digests and upload ids.
      ['/v2/a/manifests/sha256:totallywrong', 'DIGEST_INVALID'],
      ['/v2/a/manifests/.bad', 'MANIFEST_UNKNOWN'],
      ['/v2/a/blobs/latest', 'DIGEST_INVALID'],
      ['/v2/a/referrers/latest', 'DIGEST_INVALID'],
      ['/v2/a/blobs/uploads/bad.id', 'BLOB_UPLOAD_UNKNOWN'],
      [`/v2/a/blobs/uploads/${'x'.repeat(129)}`, 'BLOB_UPLOAD_UNKNOWN'],
    ];
    for (const [path, code] of errors) {
      it(`${path.length > 70 ? `${path.slice(0, 70)}…` : path} → ${code}`, () => {
        throwsRegistryError(() => parseV2Path(path), code);
      });
    }

    it('a traversal error carries the reason, not a decoded path', () => {
      const err = throwsRegistryError(() => parseV2Path('/v2/%2e%2e/%2e%2e/etc/passwd/tags/list'), 'NAME_INVALID', /percent-encoded/, 400);
      assert.deepEqual(err.detail, {
        path: '%2e%2e/%2e%2e/etc/passwd/tags/list',
        reason: 'the path has a percent-encoded ".", "/", "\\", "%" or control character',
      });
    });

    it('decodes harmless escapes per segment (a tag with an escaped letter)', () => {
      assert.deepEqual(parseV2Path('/v2/a/manifests/v%31'), { kind: 'manifest', name: 'a', reference: 'v1', tag: 'v1' });
    });
  });
});
