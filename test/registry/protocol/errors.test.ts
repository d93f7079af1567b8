import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  REGISTRY_ERROR_CODES,
  RegistryError,
  asRegistryError,
  errorBody,
  type RegistryErrorCode,
} from '../../../src/registry/protocol/errors.ts';
import { digestOf, digestProblem, isDigest, parseDigest } from '../../../src/registry/protocol/digest.ts';
import { Conflict, Forbidden, GantryError, Invalid, NotFound, Unauthorized } from '../../../src/shared/errors.ts';
import { throwsRegistryError } from './helpers.ts';

describe('registry protocol: errors', () => {
  const statuses: Array<[RegistryErrorCode, number]> = [
    ['BLOB_UNKNOWN', 404],
    ['BLOB_UPLOAD_INVALID', 400],
    ['BLOB_UPLOAD_UNKNOWN', 404],
    ['DIGEST_INVALID', 400],
    ['MANIFEST_BLOB_UNKNOWN', 400],
    ['MANIFEST_INVALID', 400],
    ['MANIFEST_UNKNOWN', 404],
    ['NAME_INVALID', 400],
    ['NAME_UNKNOWN', 404],
    ['SIZE_INVALID', 400],
    ['UNAUTHORIZED', 401],
    ['DENIED', 403],
    ['UNSUPPORTED', 405],
    ['TOOMANYREQUESTS', 429],
    ['RANGE_INVALID', 416],
    ['PAGINATION_NUMBER_INVALID', 400],
  ];
  it('the table covers every code', () => {
    assert.deepEqual(Object.keys(REGISTRY_ERROR_CODES).sort(), statuses.map(([c]) => c).sort());
  });
  for (const [code, status] of statuses) {
    it(`${code} → ${status}, a GantryError with the spec's default message`, () => {
      const err = new RegistryError(code);
      assert.equal(err.status, status);
      assert.equal(err.code, code);
      assert.equal(err.message, REGISTRY_ERROR_CODES[code].message);
      assert.equal(err.detail, undefined);
      assert.ok(err instanceof GantryError);
      assert.equal(err.name, 'RegistryError');
      assert.match(code, /^[A-Z_]+$/, 'the spec: only uppercase letters and underscores');
    });
  }

  it('a status can be overridden (507 DENIED when storage is full, 413 SIZE_INVALID)', () => {
    const err = new RegistryError('DENIED', 'out of inodes', { resource: 'inodes', free: 12 }, { status: 507 });
    assert.equal(err.status, 507);
    assert.deepEqual(err.details, { resource: 'inodes', free: 12 });
  });

  const bodies: Array<[string, RegistryError | RegistryError[], string]> = [
    [
      'one error with a detail',
      new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest: 'sha256:abc' }),
      '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":{"digest":"sha256:abc"}}]}',
    ],
    ['no detail: the field is left out', new RegistryError('NAME_UNKNOWN'), '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'],
    ['a string detail', new RegistryError('DENIED', 'no', 'push to a/b'), '{"errors":[{"code":"DENIED","message":"no","detail":"push to a/b"}]}'],
    ['a null detail is kept', new RegistryError('UNSUPPORTED', 'x', null), '{"errors":[{"code":"UNSUPPORTED","message":"x","detail":null}]}'],
    [
      'several errors, in order',
      [new RegistryError('UNAUTHORIZED', 'login'), new RegistryError('DENIED', 'nope', [{ Type: 'repository', Name: 'a', Action: 'push' }])],
      '{"errors":[{"code":"UNAUTHORIZED","message":"login"},{"code":"DENIED","message":"nope","detail":[{"Type":"repository","Name":"a","Action":"push"}]}]}',
    ],
    ['no errors', [], '{"errors":[]}'],
  ];
  for (const [name, errors, json] of bodies) {
    it(`errorBody: ${name}`, () => {
      assert.equal(JSON.stringify(errorBody(errors)), json);
    });
  }

  it('errorBody leaves out an absent detail (not even an undefined key)', () => {
    const [entry] = errorBody(new RegistryError('NAME_UNKNOWN')).errors;
    assert.deepEqual(Object.keys(entry!), ['code', 'message']);
  });


  const mapped: Array<[string, unknown, RegistryErrorCode | null]> = [
    ['a RegistryError passes through', new RegistryError('BLOB_UNKNOWN'), 'BLOB_UNKNOWN'],
    ['Unauthorized → UNAUTHORIZED', new Unauthorized(), 'UNAUTHORIZED'],
    ['Forbidden → DENIED', new Forbidden('no push'), 'DENIED'],
    ['429 → TOOMANYREQUESTS', new GantryError('slow_down', 429, 'slow down'), 'TOOMANYREQUESTS'],
    ['NotFound is ambiguous → null', new NotFound('x'), null],
    ['Invalid is ambiguous → null', new Invalid('x'), null],
    ['Conflict → null', new Conflict('x'), null],
    ['a plain Error → null', new Error('boom'), null],
  ];
  for (const [name, err, code] of mapped) {
    it(`asRegistryError: ${name}`, () => {
      const out = asRegistryError(err);
      assert.equal(out?.code ?? null, code);
      if (out && err instanceof Error) assert.equal(out.message, err.message);
    });
  }
});

describe('registry protocol: digests', () => {
  const hex64 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const good = [`sha256:${hex64}`, `sha512:${'ab'.repeat(64)}`];
  const bad: Array<[string, RegExp]> = [
    ['', /not a digest/],
    ['sha256', /not a digest/],
    [hex64, /not a digest/],
    ['sha256:', /not a digest/],
    [':abc', /not a digest/],
    ['SHA256:abc', /not a digest/],
    [`sha256:${hex64.toUpperCase()}`, /64 lowercase hex/],
    [`sha256:${hex64.slice(1)}`, /64 lowercase hex/],
    [`sha256:${hex64}0`, /64 lowercase hex/],
    [`sha512:${hex64}`, /128 lowercase hex/],
    [`md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    [`blake3:${hex64}`, /unsupported digest algorithm/],
    [`sha256+b64u:${hex64}`, /unsupported digest algorithm/],
    ['sha256:../../etc', /not a digest/],
    ['constructor:abc', /unsupported digest algorithm/],
  ];
  for (const digest of good) {
    it(`accepts ${digest.slice(0, 20)}…`, () => {
      assert.equal(digestProblem(digest), null);
      assert.equal(isDigest(digest), true);
      assert.equal(parseDigest(digest).encoded, digest.split(':')[1]);
    });
  }
  for (const [digest, reason] of bad) {
    it(`rejects ${JSON.stringify(digest.slice(0, 30))}`, () => {
      assert.match(digestProblem(digest) ?? 'accepted', reason);
      assert.equal(isDigest(digest), false);
      throwsRegistryError(() => parseDigest(digest), 'DIGEST_INVALID', reason, 400);
    });
  }
  it('digestOf computes sha256 and sha512', () => {
    assert.equal(digestOf(Buffer.alloc(0)), `sha256:${hex64}`);
    const data = Buffer.from('{}');
    assert.equal(digestOf(data, 'sha512'), `sha512:${createHash('sha512').update(data).digest('hex')}`);
  });
});
