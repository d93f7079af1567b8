// .dockerignore for image builds (build-context.ts), with a matcher of our own: @balena/dockerignore
// (dockerode's) turns patterns into backtracking JavaScript regexps the way Docker 19.03 did, where
// `(a+)+b` stalls the agent for minutes on a 32-character name (today's Docker escapes `+()|{}`, and
// Go's regexps are linear); it also ignores case unless told not to, and never ignores a file named
// `constructor` or `toString` (its cache is a plain object). The agent runs this on a file a pipeline
// wrote: it must finish, in time linear in path × pattern, and say what it refuses.
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BuildContextError } from './build-context-error.ts';

const MAX_PATTERN_LENGTH = 4096; // PATH_MAX: no longer path exists to match
/** Matching steps per pack before giving up, and between two yields of the event loop. */
const MATCH_BUDGET = 1_000_000_000;
const MATCH_SLICE = 1_000_000;

// .dockerignore: Docker's rules (ignorefile.ReadAll, patternmatcher.New and compile), matched by a
// Thompson simulation (time linear in path × pattern) instead of backtracking regexps.

/**
 * char: that character; one (?): one character but '/'; star (*): any run without '/'; dirs (** before
 * more): nothing, or any run ending in '/'; rest (** at the end): anything; class: [...].
 */
type Token = { op: 'char'; c: number } | { op: 'one' | 'star' | 'dirs' | 'rest' } | { op: 'class'; negated: boolean; ranges: number[] };

interface Rule {
  pattern: string;
  exclusion: boolean;
  /** Docker's fast paths, or tokens for the others. */
  kind: 'exact' | 'prefix' | 'suffix' | 'tokens';
  tokens: Token[];
}

const SLASH = 0x2f;
const NEWLINE = 0x0a; // Go's `.` matches no newline
/** Go's unicode.IsSpace, which TrimSpace trims (a loop: a trimming regexp backtracks quadratically). */
const GO_SPACE = new Set(Array.from('\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'));

const goTrim = (text: string): string => {
  let start = 0;
  let end = text.length;
  while (start < end && GO_SPACE.has(text[start]!)) start++;
  while (end > start && GO_SPACE.has(text[end - 1]!)) end--;
  return text.slice(start, end);
};
/** Go's filepath.Clean on '/' paths. */
const goClean = (text: string): string => {
  const normal = path.posix.normalize(text);
  return normal.length > 1 ? normal.replace(/\/+$/, '') || '/' : normal;
};

export function parseDockerignore(text: string, label: string): Dockerignore {
  const rules: Rule[] = [];
  text.split('\n').forEach((raw, index) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (index === 0 && line.startsWith('\ufeff')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let pattern = goTrim(line);
    if (pattern === '') return;
    const where = `${label} line ${index + 1}`;
    const invert = pattern.startsWith('!');
    if (invert) pattern = goTrim(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    pattern = goClean(invert ? `!${pattern}` : pattern);
    const exclusion = pattern.startsWith('!');
    if (exclusion) pattern = pattern.slice(1);
    if (exclusion && pattern === '') throw new BuildContextError(`${where}: illegal exclusion pattern "!"`);
    if (pattern.length > MAX_PATTERN_LENGTH) throw new BuildContextError(`${where}: a pattern longer than ${MAX_PATTERN_LENGTH} characters`);
    rules.push(compileRule(pattern, exclusion, where));
  });
  return new Dockerignore(rules, label);
}

function compileRule(pattern: string, exclusion: boolean, where: string): Rule {
  const cps = Array.from(pattern, (ch) => ch.codePointAt(0)!);
  const bad = () => new BuildContextError(`${where}: syntax error in pattern ${JSON.stringify(pattern)}`);
  const tokens: Token[] = [];
  let kind: Rule['kind'] = 'exact';
  for (let k = 0, iteration = 0; k < cps.length; iteration++) {
    const c = cps[k++]!;
    if (c === 0x2a /* * */) {
      if (cps[k] !== 0x2a) {
        tokens.push({ op: 'star' });
        kind = 'tokens';
        continue;
      }
      k++;
      if (cps[k] === SLASH) k++;
      if (k < cps.length) {
        tokens.push({ op: 'dirs' });
        kind = 'tokens';
      } else if (kind === 'exact') kind = 'prefix';
      else {
        tokens.push({ op: 'rest' });
        kind = 'tokens';
      }
      if (iteration === 0) kind = 'suffix';
    } else if (c === 0x3f /* ? */) {
      tokens.push({ op: 'one' });
      kind = 'tokens';
    } else if (c === 0x5c /* \ */) {
      if (k === cps.length) throw bad(); // filepath.Match: a trailing backslash
      tokens.push({ op: 'char', c: cps[k++]! });
      kind = 'tokens';
    } else if (c === 0x5b /* [ */) {
      // filepath.Match's class syntax: [^...], ranges a-z, \-escapes, never empty
      let negated = false;
      if (cps[k] === 0x5e /* ^ */) {
        negated = true;
        k++;
      }
      const escaped = (): number => {
        let ch = cps[k];
        if (ch === undefined || ch === 0x2d /* - */ || ch === 0x5d /* ] */) throw bad();
        if (ch === 0x5c) ch = cps[++k];
        if (ch === undefined || ++k >= cps.length) throw bad();
        return ch;
      };
      const ranges: number[] = [];
      while (ranges.length === 0 || cps[k] !== 0x5d) {
        const lo = escaped();
        const hi = cps[k] === 0x2d ? (k++, escaped()) : lo;
        if (hi < lo) throw bad(); // Go's regexp refuses it
        ranges.push(lo, hi);
      }
      k++;
      tokens.push({ op: 'class', negated, ranges });
      kind = 'tokens';
    } else {
      tokens.push({ op: 'char', c });
      if (c === 0x5d /* ] */) kind = 'tokens';
    }
  }
  return { pattern, exclusion, kind, tokens };
}

export class Dockerignore {
  private steps = 0;
  private nextYield = MATCH_SLICE;
  private readonly exclusions: string[];

  constructor(
    private readonly rules: Rule[],
    private readonly label: string,
  ) {
    this.exclusions = rules.filter((rule) => rule.exclusion).map((rule) => `${rule.pattern}/`);
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * patternmatcher's MatchesUsingParentResults, as the CLI's tar walk calls it: a rule that matched
   * the parent directory matches its entries; `matches` is what the entries of `rel` get.
   */
  async test(rel: string, parentMatches: boolean[]): Promise<{ ignored: boolean; matches: boolean[] }> {
    let ignored = false;
    let text: number[] | null = null;
    const matches = new Array<boolean>(this.rules.length).fill(false);
    for (const [i, rule] of this.rules.entries()) {
      let match = parentMatches[i] ?? false;
      if (!match) {
        if (rule.exclusion !== ignored) continue; // cannot change the verdict (Docker skips it too)
        this.steps += rel.length;
        if (rule.kind === 'exact') match = rel === rule.pattern;
        else if (rule.kind === 'prefix') match = rel.startsWith(rule.pattern.slice(0, -2));
        else if (rule.kind === 'suffix') {
          const suffix = rule.pattern.slice(2);
          match = rel.endsWith(suffix) || (suffix.startsWith('/') && rel === suffix.slice(1));
        } else match = this.run(rule.tokens, (text ??= Array.from(rel, (ch) => ch.codePointAt(0)!)));
      }
      matches[i] = match;
      if (match) ignored = !rule.exclusion;
      if (this.steps >= this.nextYield) {
        if (this.steps > MATCH_BUDGET) throw new BuildContextError(`matching ${this.label} against the build context takes too long: simplify its patterns`);
        this.nextYield = this.steps + MATCH_SLICE;
        await nextTurn();
      }
    }
    return { ignored, matches };
  }

  /** Docker's walk enters an ignored directory only when an exception's text starts with it. */
  mayInclude(dir: string): boolean {
    return this.exclusions.some((pattern) => pattern.startsWith(`${dir}/`));
  }

  /** Whether `tokens`, anchored at both ends, match `text`: the states are token positions. */
  private run(tokens: Token[], text: number[]): boolean {
    const n = tokens.length;
    // State i < n: before token i; n: matched; n + 1 + i: inside the '.*/' of a Dirs token i.
    const seen = new Uint32Array(2 * n + 1);
    let stamp = 1;
    let current: number[] = [];
    let next: number[] = [];
    const add = (list: number[], state: number): void => {
      for (let s = state; seen[s] !== stamp; s++) {
        seen[s] = stamp;
        list.push(s);
        const op = s < n ? tokens[s]!.op : null;
        if (op !== 'star' && op !== 'rest' && op !== 'dirs') return;
      }
    };
    add(current, 0);
    for (const c of text) {
      stamp++;
      next.length = 0;
      this.steps += current.length;
      for (const s of current) {
        if (s > n) {
          if (c !== NEWLINE) add(next, s);
          if (c === SLASH) add(next, s - n);
          continue;
        }
        const token = tokens[s];
        if (token === undefined) continue; // matched already, with text left over
        switch (token.op) {
          case 'char':
            if (c === token.c) add(next, s + 1);
            break;
          case 'one':
            if (c !== SLASH) add(next, s + 1);
            break;
          case 'star':
            if (c !== SLASH) add(next, s);
            break;
          case 'rest':
            if (c !== NEWLINE) add(next, s);
            break;
          case 'dirs':
            if (c !== NEWLINE) add(next, n + 1 + s);
            if (c === SLASH) add(next, s + 1);
            break;
          case 'class': {
            let inside = false;
            for (let r = 0; r < token.ranges.length && !inside; r += 2) inside = token.ranges[r]! <= c && c <= token.ranges[r + 1]!;
            if (inside !== token.negated) add(next, s + 1);
            break;
          }
        }
      }
      if (next.length === 0) return false;
      [current, next] = [next, current];
    }
    return current.includes(n);
  }
}
