// OCI content digests (`algorithm:encoded`). Only the two registered algorithms are accepted, with the
// spec's lowercase hex encodings; everything else is a DigestInvalid (OCI DIGEST_INVALID).
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { digestProblem, type DigestAlgorithm } from '../digest.ts';
import { DigestInvalid } from './errors.ts';

export type { DigestAlgorithm } from '../digest.ts';
export { digestOf, isDigest } from '../digest.ts';

export interface Digest {
  algorithm: DigestAlgorithm;
  /** Lowercase hex, 64 characters for sha256, 128 for sha512. */
  hex: string;
  /** The canonical string, `algorithm:hex`. */
  value: string;
}

/** Parses and validates a digest (the registry's one validator); throws DigestInvalid with the reason. */
export function parseDigest(input: string): Digest {
  const problem = digestProblem(input);
  if (problem !== null) throw new DigestInvalid(`invalid digest: ${problem}`);
  const colon = input.indexOf(':');
  return { algorithm: input.slice(0, colon) as DigestAlgorithm, hex: input.slice(colon + 1), value: input };
}

export function newHash(algorithm: DigestAlgorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

/** The digest of a stream's bytes, read to its end. */
export async function digestOfStream(stream: Readable, algorithm: DigestAlgorithm = 'sha256'): Promise<{ digest: string; size: number }> {
  const hash = createHash(algorithm);
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    hash.update(bytes);
    size += bytes.length;
  }
  return { digest: `${algorithm}:${hash.digest('hex')}`, size };
}
