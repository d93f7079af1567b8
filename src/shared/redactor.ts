// Masks secret values in output as `********`, in one piece (redactText) or as a stream that arrives in
// chunks (StreamRedactor), so a secret split between two chunks is masked all the same.
//
// What is masked (redactionPatterns):
// - every value, byte for byte, and the value with surrounding whitespace trimmed (a secret read from a
//   file often ends with a newline that `$(...)` or a tool drops);
// - for a multi-line value (a PEM key, a kubeconfig), also each of its lines on its own, trimmed, when
//   that line has at least MIN_LINE_CHARS characters: tools print one line of a key (an error quoting
//   the line it choked on), and a line of a value printed with CRLF line ends is still masked. Shorter
//   lines (`}`, `---`) are left alone, or every brace in the log would become a mask.
// Where occurrences overlap or touch (`abcd` and `cdef` in `abcdef`), the whole covered run becomes ONE
// mask: masking only the leftmost match would print `ef`, a piece of the second secret. The result is
// then the same however the input was cut into chunks, which is what the tests check.
// Matching is on bytes (the UTF-8 of each value), so binary output is masked too and never re-encoded.

export const MASK = '********';
/** A line of a multi-line value is masked on its own from this many characters (after trimming). */
export const MIN_LINE_CHARS = 4;

const MASK_BYTES = Buffer.from(MASK, 'utf8');

/** The byte strings to mask for these values, longest first, without duplicates. */
export function redactionPatterns(values: readonly string[]): Buffer[] {
  const texts = new Set<string>();
  for (const value of values) {
    // A value of nothing but whitespace would mask every run of spaces; task-spec.ts rejects those.
    if (value.trim().length === 0) continue;
    texts.add(value);
    texts.add(value.trim());
    if (!/[\r\n]/.test(value)) continue;
    for (const line of value.split(/\r\n|\r|\n/)) {
      const text = line.trim();
      if (text.length >= MIN_LINE_CHARS) texts.add(text);
    }
  }
  return [...texts].sort((a, b) => b.length - a.length).map((text) => Buffer.from(text, 'utf8'));
}

/** Masks every occurrence in a complete piece of text (an env value, a command line). */
export function redactText(text: string, values: readonly string[]): string {
  return textRedactor(values)(text);
}

/** redactText with the patterns worked out once, for masking many strings with the same values. */
export function textRedactor(values: readonly string[]): (text: string) => string {
  const patterns = redactionPatterns(values);
  return (text) => {
    if (patterns.length === 0) return text;
    const data = Buffer.from(text, 'utf8');
    const parts: Buffer[] = [];
    let at = 0;
    for (const [start, end] of coveredRuns(data, patterns)) {
      parts.push(data.subarray(at, start), MASK_BYTES);
      at = end;
    }
    parts.push(data.subarray(at));
    return Buffer.concat(parts).toString('utf8');
  };
}

/**
 * Masks a stream of chunks. push() returns what can be decided now and holds back the shortest tail
 * that could still be the start of a secret (at most longest pattern − 1 bytes); flush() releases it
 * when the stream ends, or when output has been quiet for a while so live output is not held up.
 * A flush in the middle of a secret (`my-sec`, quiet, `ret`) cannot mask it: callers flush on quiet
 * only after a delay long enough that a program writing one value is not usually paused inside it.
 */
export class StreamRedactor {
  private readonly patterns: Buffer[];
  private readonly failures: Int32Array[];
  /** Bytes received but not yet returned, unmasked. */
  private pending: Buffer = Buffer.alloc(0);
  /** How many bytes at the start of `pending` belong to an occurrence already begun in returned output. */
  private coveredPrefix = 0;
  /** Whether the returned output ends with a mask, so a run of masked bytes continuing it adds none. */
  private endsInMask = false;

  constructor(values: readonly string[]) {
    this.patterns = redactionPatterns(values);
    this.failures = this.patterns.map(kmpFailure);
  }

  /** Whether there is anything to mask at all (no values: push() returns its input as it is). */
  get active(): boolean {
    return this.patterns.length > 0;
  }

  /** Bytes held back, waiting for the next chunk or a flush. */
  get held(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): Buffer {
    if (!this.active) return chunk;
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    return this.emit(data, data.length - this.longestPartialMatch(data));
  }

  flush(): Buffer {
    if (!this.active || this.pending.length === 0) return Buffer.alloc(0);
    return this.emit(this.pending, this.pending.length);
  }

  /** Returns data[0, boundary) masked and keeps data[boundary, end) pending. */
  private emit(data: Buffer, boundary: number): Buffer {
    if (boundary === 0) {
      // Nothing decided yet: all of it may start a secret. The mask state stays as it is.
      this.pending = Buffer.from(data);
      return Buffer.alloc(0);
    }
    const parts: Buffer[] = [];
    let at = 0;
    let maskedUpTo = -1;
    let nextCoveredPrefix = 0;
    for (const [start, end] of coveredRuns(data, this.patterns, this.coveredPrefix)) {
      if (start >= boundary) break;
      if (start > at) parts.push(data.subarray(at, start));
      // A run that continues the mask the previous output ended with adds no second mask.
      if (!(start === 0 && this.endsInMask)) parts.push(MASK_BYTES);
      at = Math.min(end, boundary);
      maskedUpTo = at;
      if (end > boundary) nextCoveredPrefix = end - boundary;
    }
    if (at < boundary) parts.push(data.subarray(at, boundary));
    this.endsInMask = maskedUpTo === boundary;
    this.coveredPrefix = nextCoveredPrefix;
    // A copy: a view would keep the caller's whole chunk alive for a few held bytes.
    this.pending = Buffer.from(data.subarray(boundary));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Length of the longest tail of `data` that is a proper prefix of some pattern (KMP over the tail). */
  private longestPartialMatch(data: Buffer): number {
    let longest = 0;
    this.patterns.forEach((pattern, p) => {
      const failure = this.failures[p]!;
      let state = 0;
      for (let i = Math.max(0, data.length - (pattern.length - 1)); i < data.length; i++) {
        while (state > 0 && data[i] !== pattern[state]) state = failure[state - 1]!;
        if (data[i] === pattern[state]) state++;
        if (state === pattern.length) state = failure[state - 1]!;
      }
      longest = Math.max(longest, state);
    });
    return longest;
  }
}

/**
 * The byte ranges [start, end) of `data` covered by some occurrence of a pattern (overlapping and
 * touching occurrences merged), sorted. `coveredPrefix` bytes at the start count as covered already.
 */
export function coveredRuns(data: Buffer, patterns: readonly Buffer[], coveredPrefix = 0): Array<[number, number]> {
  const ranges: Array<[number, number]> = coveredPrefix > 0 ? [[0, coveredPrefix]] : [];
  for (const pattern of patterns) {
    for (let at = data.indexOf(pattern); at !== -1; at = data.indexOf(pattern, at + 1)) ranges.push([at, at + pattern.length]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/** KMP failure function: failure[i] = length of the longest proper prefix of pattern[0..i] that is also its suffix. */
function kmpFailure(pattern: Buffer): Int32Array {
  const failure = new Int32Array(pattern.length);
  let k = 0;
  for (let i = 1; i < pattern.length; i++) {
    while (k > 0 && pattern[i] !== pattern[k]) k = failure[k - 1]!;
    if (pattern[i] === pattern[k]) k++;
    failure[i] = k;
  }
  return failure;
}
