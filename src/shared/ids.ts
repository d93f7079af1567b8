import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A short id that sorts by creation time: `t-` + time in base 36 + 6 random characters
 * (e.g. `t-mhx3kq2p-4f0a9z`). Short enough to type in the CLI, unique enough for one cluster.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  const bytes = randomBytes(6);
  let random = '';
  for (const byte of bytes) random += ALPHABET[byte % 36];
  return `${prefix}-${now.toString(36)}-${random}`;
}

/** A high-entropy secret for tokens: 32 random bytes, URL-safe. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}
