// Content digests (`algorithm:encoded`) as the OCI image spec's descriptor.md defines them: one
// validator for the whole registry. The grammar admits any algorithm; the registry accepts only those
// it can verify content against (sha256, sha512). storage/ and protocol/ wrap the problem in their own
// error type (DigestInvalid, RegistryError DIGEST_INVALID).
import { createHash } from 'node:crypto';

/** The image spec's grammar: `algorithm-component ([+._-] algorithm-component)* ":" [a-zA-Z0-9=_-]+`. */
const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Registered algorithms the registry verifies, with the exact shape of their encoded part. */
export const DIGEST_ALGORITHMS = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
} as const;

export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** Why `text` is not a digest the registry accepts, or null when it is one. */
export function digestProblem(text: string): string | null {
  if (typeof text !== 'string' || text.length > 200 || !GRAMMAR.test(text)) {
    return `"${clip(String(text))}" is not a digest (expected algorithm:hex, e.g. sha256:<64 hex digits>)`;
  }
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon);
  const encoded = text.slice(colon + 1);
  const shape = Object.hasOwn(DIGEST_ALGORITHMS, algorithm) ? DIGEST_ALGORITHMS[algorithm as DigestAlgorithm] : undefined;
  if (shape === undefined) {
    return `unsupported digest algorithm "${clip(algorithm)}" (supported: ${Object.keys(DIGEST_ALGORITHMS).join(', ')})`;
  }
  if (!shape.test(encoded)) {
    const length = algorithm === 'sha256' ? 64 : 128;
    return `a ${algorithm} digest is ${length} lowercase hex digits (got "${clip(encoded)}")`;
  }
  return null;
}

export function isDigest(text: string): boolean {
  return digestProblem(text) === null;
}

/** The digest of bytes (a string is taken as UTF-8), sha256 by default. */
export function digestOf(bytes: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Keeps hostile input out of messages at a readable length. */
export function clip(text: string, max = 140): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}
