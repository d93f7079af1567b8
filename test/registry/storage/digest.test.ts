import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { digestOf, digestOfStream, isDigest, parseDigest } from '../../../src/registry/storage/digest.ts';
import { DigestInvalid } from '../../../src/registry/storage/errors.ts';
import { Invalid } from '../../../src/shared/errors.ts';

const hex64 = 'a'.repeat(64);
const hex128 = '0123456789abcdef'.repeat(8);

describe('registry storage: digests', () => {
  const good: Array<[string, string, string]> = [
    [`sha256:${hex64}`, 'sha256', hex64],
    ['sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    [`sha512:${hex128}`, 'sha512', hex128],
  ];
  for (const [input, algorithm, hex] of good) {
    it(`accepts ${input.slice(0, 20)}...`, () => {
      assert.deepEqual(parseDigest(input), { algorithm, hex, value: input });
      assert.equal(isDigest(input), true);
    });
  }

  const bad: Array<[string, string, RegExp]> = [
    ['empty', '', /invalid digest/],
    ['no algorithm', hex64, /invalid digest/],
    ['no hex', 'sha256:', /invalid digest/],
    ['short hex', `sha256:${'a'.repeat(63)}`, /64 lowercase hex/],
    ['long hex', `sha256:${'a'.repeat(65)}`, /64 lowercase hex/],
    ['uppercase hex', `sha256:${'A'.repeat(64)}`, /64 lowercase hex/],
    ['non-hex', `sha256:${'g'.repeat(64)}`, /64 lowercase hex/],
    ['sha512 with 64 hex', `sha512:${hex64}`, /128 lowercase hex/],
    ['unknown algorithm', `md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    ['registered-looking but unsupported', `sha384:${'a'.repeat(96)}`, /unsupported/],
    ['uppercase algorithm', `SHA256:${hex64}`, /invalid digest/],
    ['path traversal', 'sha256:../../../../etc/passwd', /invalid digest/],
    ['encoded traversal', `sha256:%2e%2e%2f${hex64.slice(9)}`, /invalid digest/],
    ['absolute path', '/etc/passwd', /invalid digest/],
    ['traversal before', `../sha256:${hex64}`, /invalid digest/],
    ['trailing newline', `sha256:${hex64}\n`, /invalid digest/],
    ['space', ` sha256:${hex64}`, /invalid digest/],
  ];
  for (const [name, input, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseDigest(input), (err: unknown) => {
        assert.ok(err instanceof DigestInvalid, `${String(err)} is a DigestInvalid`);
        assert.ok(err instanceof Invalid, 'and an Invalid (HTTP 400)');
        assert.equal(err.status, 400);
        assert.match(err.message, message);
        return true;
      });
      assert.equal(isDigest(input), false);
    });
  }

  it('computes the digest of bytes and of a stream', async () => {
    const empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    assert.equal(digestOf(''), empty);
    assert.equal(digestOf('hello world'), 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    assert.match(digestOf('x', 'sha512'), /^sha512:[a-f0-9]{128}$/);
    const streamed = await digestOfStream(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    assert.deepEqual(streamed, { digest: digestOf('hello world'), size: 11 });
  });
});
