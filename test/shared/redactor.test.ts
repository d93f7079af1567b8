import assert from 'node:assert/strict';
import { MASK, StreamRedactor, coveredRuns, redactText, redactionPatterns } from '../../src/shared/redactor.ts';

/** Streams `pieces` through a redactor and returns everything it gave back, flush included. */
function streamed(values: readonly string[], pieces: readonly Buffer[]): Buffer {
  const redactor = new StreamRedactor(values);
  const longest = Math.max(0, ...redactionPatterns(values).map((p) => p.length));
  const out = pieces.map((piece) => {
    const masked = redactor.push(piece);
    assert.ok(redactor.held <= Math.max(0, longest - 1), `held ${redactor.held} bytes, longest secret ${longest}`);
    return masked;
  });
  out.push(redactor.flush());
  assert.equal(redactor.held, 0);
  return Buffer.concat(out);
}

/** The obvious, slow definition: mark every byte some occurrence covers, then one mask per marked run. */
function reference(values: readonly string[], input: Buffer): Buffer {
  const covered = new Array<boolean>(input.length).fill(false);
  for (const pattern of redactionPatterns(values)) {
    for (let i = 0; i + pattern.length <= input.length; i++) {
      if (input.subarray(i, i + pattern.length).equals(pattern)) for (let j = i; j < i + pattern.length; j++) covered[j] = true;
    }
  }
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i++) {
    if (!covered[i]) out.push(input.subarray(i, i + 1));
    else if (i === 0 || !covered[i - 1]) out.push(Buffer.from(MASK));
  }
  return Buffer.concat(out);
}

/** Every way of cutting `input` in two, and in pieces of every size from 1 byte. */
function cuts(input: Buffer): Buffer[][] {
  const all: Buffer[][] = [];
  for (let at = 0; at <= input.length; at++) all.push([input.subarray(0, at), input.subarray(at)]);
  for (let size = 1; size <= input.length; size++) {
    const pieces: Buffer[] = [];
    for (let at = 0; at < input.length; at += size) pieces.push(input.subarray(at, at + size));
    all.push(pieces);
  }
  return all;
}

describe('redactor: masking secrets in output', () => {
  const key = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7\n-----END KEY-----\n';

  describe('patterns', () => {
    it('a single-line value is masked as it is and trimmed', () => {
      assert.deepEqual(redactionPatterns(['s3cret\n']).map(String), ['s3cret\n', 's3cret']);
    });
    it('a multi-line value adds each line of 4+ characters, trimmed', () => {
      assert.deepEqual(redactionPatterns(['ab\r\n  line-two  \nxyz\nwxyz']).map(String), ['ab\r\n  line-two  \nxyz\nwxyz', 'line-two', 'wxyz']);
    });
    it('empty and whitespace-only values are ignored, duplicates kept once', () => {
      assert.deepEqual(redactionPatterns(['', '   ', '\n', 'same', 'same']).map(String), ['same']);
    });
    it('covered runs merge overlapping and touching occurrences', () => {
      const patterns = redactionPatterns(['abcd', 'cdef', 'gh']);
      assert.deepEqual(coveredRuns(Buffer.from('xabcdefghy abcd'), patterns), [[1, 9], [11, 15]]);
    });
  });

  const table: Array<{ name: string; values: string[]; input: string; expected: string }> = [
    { name: 'no secrets at all', values: [], input: 'plain text', expected: 'plain text' },
    { name: 'empty input', values: ['s3cret'], input: '', expected: '' },
    { name: 'a secret in the middle', values: ['s3cret'], input: 'token=s3cret;', expected: `token=${MASK};` },
    { name: 'a secret at the very end', values: ['s3cret'], input: 'token=s3cret', expected: `token=${MASK}` },
    { name: 'a secret at the very start', values: ['s3cret'], input: 's3cret!', expected: `${MASK}!` },
    { name: 'the input is only the secret', values: ['s3cret'], input: 's3cret', expected: MASK },
    { name: 'a secret twice', values: ['s3cret'], input: 's3cret and s3cret', expected: `${MASK} and ${MASK}` },
    { name: 'a secret repeated back to back is one mask', values: ['ab'], input: 'xababy', expected: `x${MASK}y` },
    { name: 'self-overlapping occurrences', values: ['aa'], input: 'baaab', expected: `b${MASK}b` },
    { name: 'overlapping secrets are masked as one run', values: ['abcd', 'cdef'], input: '<abcdef>', expected: `<${MASK}>` },
    { name: 'a secret inside another', values: ['password', 'ssw'], input: 'password ssw', expected: `${MASK} ${MASK}` },
    { name: 'a prefix of a secret at the end is not a secret', values: ['s3cret'], input: 'this is s3cr', expected: 'this is s3cr' },
    { name: 'a near miss', values: ['s3cret'], input: 's3cres3cret', expected: `s3cre${MASK}` },
    { name: 'a multi-line secret printed whole', values: [key], input: `key:\n${key}done\n`, expected: `key:\n${MASK}done\n` },
    {
      name: 'one line of a multi-line secret',
      values: [key],
      input: 'error near "MIIEvQIBADANBgkqhkiG9w0BAQEF"\n',
      expected: `error near "${MASK}"\n`,
    },
    {
      name: 'a multi-line secret printed with CRLF',
      values: [key],
      input: key.replace(/\n/g, '\r\n'),
      expected: `${MASK}\r\n${MASK}\r\n${MASK}\r\n${MASK}\r\n`,
    },
    { name: 'a secret that ends with a newline, printed without it', values: ['tok-123\n'], input: 'tok-123', expected: MASK },
    { name: 'unicode secrets', values: ['pässwörd'], input: 'pw: pässwörd ✓', expected: `pw: ${MASK} ✓` },
    { name: 'short lines of a multi-line value stay', values: ['{\n  "k": "secret-v"\n}'], input: '{\n}\n"k": "secret-v"', expected: `{\n}\n${MASK}` },
  ];

  for (const row of table) {
    it(`${row.name}, cut anywhere`, () => {
      const input = Buffer.from(row.input, 'utf8');
      assert.equal(redactText(row.input, row.values), row.expected, 'in one piece');
      for (const pieces of cuts(input)) {
        assert.equal(streamed(row.values, pieces).toString('utf8'), row.expected, `cut as ${JSON.stringify(pieces.map(String))}`);
      }
    });
  }

  it('binary chunks: bytes around a secret pass through untouched, in pieces of every size', () => {
    const input = Buffer.concat([Buffer.from([0xff, 0x00, 0xfe, 0x0a]), Buffer.from('s3cret'), Buffer.from([0xc3, 0x28, 0x00, 0xff])]);
    const expected = Buffer.concat([Buffer.from([0xff, 0x00, 0xfe, 0x0a]), Buffer.from(MASK), Buffer.from([0xc3, 0x28, 0x00, 0xff])]);
    for (const pieces of cuts(input)) assert.deepEqual(streamed(['s3cret'], pieces), expected);
  });

  it('holds back only what could start a secret, at most the longest secret − 1 bytes', () => {
    const redactor = new StreamRedactor(['s3cret', 'xy']);
    assert.equal(redactor.push(Buffer.from('hello ')).toString(), 'hello ');
    assert.equal(redactor.held, 0, 'nothing that starts a secret: nothing held');
    assert.equal(redactor.push(Buffer.from('s3cre')).toString(), '');
    assert.equal(redactor.held, 5);
    assert.equal(redactor.push(Buffer.from('t and x')).toString(), `${MASK} and `);
    assert.equal(redactor.held, 1);
    assert.equal(redactor.flush().toString(), 'x');
    assert.equal(redactor.held, 0);
  });

  it('a flush on quiet releases the held bytes; output goes on afterwards', () => {
    const redactor = new StreamRedactor(['s3cret']);
    assert.equal(redactor.push(Buffer.from('prompt> s3')).toString(), 'prompt> ');
    assert.equal(redactor.flush().toString(), 's3');
    assert.equal(redactor.push(Buffer.from('cret-free s3cret')).toString(), `cret-free ${MASK}`);
  });

  it('a mask that runs across a push is not doubled', () => {
    const redactor = new StreamRedactor(['abcd', 'cdef']);
    // `abcd` is complete in the first push, but `cd` may start `cdef`: the run continues in the next.
    const first = redactor.push(Buffer.from('<abcd'));
    const second = redactor.push(Buffer.from('ef>'));
    assert.equal(Buffer.concat([first, second, redactor.flush()]).toString(), `<${MASK}>`);
  });

  it('matches the slow definition on random inputs cut at random places', () => {
    let seed = 42;
    const rng = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = 'ab\nc';
    const word = (max: number): string => Array.from({ length: 1 + Math.floor(rng() * max) }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
    for (let round = 0; round < 2000; round++) {
      const values = Array.from({ length: 1 + Math.floor(rng() * 3) }, () => word(6));
      const input = Buffer.from(word(40));
      const pieces: Buffer[] = [];
      for (let at = 0; at < input.length; ) {
        const size = Math.floor(rng() * 8);
        pieces.push(input.subarray(at, at + size));
        at += size;
      }
      assert.deepEqual(streamed(values, pieces).toString(), reference(values, input).toString(), `values ${JSON.stringify(values)}, input ${JSON.stringify(String(input))}`);
    }
  });
});
