// Digests at the protocol edge: the registry's one validator (../digest.ts), failing as the spec's
// DIGEST_INVALID with the reason as detail.
import { clip, digestProblem, type DigestAlgorithm } from '../digest.ts';
import { RegistryError } from './errors.ts';

export { DIGEST_ALGORITHMS, clip, digestOf, digestProblem, isDigest, type DigestAlgorithm } from '../digest.ts';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  encoded: string;
}

/** Parses a digest the registry accepts; anything else is DIGEST_INVALID with the reason as detail. */
export function parseDigest(text: string): ParsedDigest {
  const problem = digestProblem(text);
  if (problem !== null) throw new RegistryError('DIGEST_INVALID', `invalid digest: ${problem}`, { digest: clip(text) });
  const colon = text.indexOf(':');
  return { algorithm: text.slice(0, colon) as DigestAlgorithm, encoded: text.slice(colon + 1) };
}
