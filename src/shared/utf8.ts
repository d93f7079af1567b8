/** The bytes as text when they are valid UTF-8 (so the text round-trips exactly), else null. */
export function utf8Text(data: Buffer): string | null {
  const text = data.toString('utf8');
  return Buffer.from(text, 'utf8').equals(data) ? text : null;
}
