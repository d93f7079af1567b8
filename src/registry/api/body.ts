// Reading a small request body (a manifest) into memory, refusing it as soon as it passes the limit.
import type { Readable } from 'node:stream';
import type { RegistryError } from '../protocol/errors.ts';

export async function readLimited(source: Readable, limit: number, tooLarge: (size: number | null) => RegistryError): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > limit) {
      // Stop reading; the answer closes the connection (see app.ts).
      source.pause();
      throw tooLarge(null);
    }
    parts.push(bytes);
  }
  return Buffer.concat(parts, total);
}
