// Branch, tag and path filters: picomatch globs where `*` stays inside one path segment and `**`
// crosses `/` (as in Woodpecker's and Drone's doublestar). Dotfiles match too (`**` covers
// `.github/...`), because a CI filter that silently skips dotfiles is a trap.
import picomatch from 'picomatch';
import type { GlobFilter } from './types.ts';

const OPTIONS: picomatch.PicomatchOptions = { dot: true, strictBrackets: true };

/** What is wrong with one glob, or null. `kind` tunes the hints: paths are repository-relative. */
export function globProblem(glob: string, kind: 'branch' | 'tag' | 'path'): string | null {
  if (glob.trim() === '') return 'a glob cannot be empty';
  if (glob.startsWith('!')) return `"${glob}": negated globs are not supported; list it under exclude instead`;
  if (kind === 'path' && glob.startsWith('/')) {
    return `"${glob}": paths are relative to the repository root; write "${glob.replace(/^\/+/, '')}"`;
  }
  if (kind === 'branch' && glob.startsWith('refs/')) {
    return `"${glob}": write the branch name without "refs/heads/" (e.g. "${glob.replace(/^refs\/(heads\/)?/, '')}")`;
  }
  if (kind === 'tag' && glob.startsWith('refs/')) {
    return `"${glob}": write the tag name without "refs/tags/" (e.g. "${glob.replace(/^refs\/(tags\/)?/, '')}")`;
  }
  try {
    // picomatch compiles a glob it cannot make sense of (`[z-a]`, a trailing `\`) to a regex that never matches.
    if (picomatch.makeRe(glob, OPTIONS).source === '$^') return `"${glob}" can never match anything`;
  } catch (error) {
    return `"${glob}" is not a valid glob: ${(error as Error).message}`;
  }
  return null;
}

type Matcher = (name: string) => boolean;
const compiled = new WeakMap<GlobFilter, { include: Matcher; exclude: Matcher }>();

function matchersOf(filter: GlobFilter): { include: Matcher; exclude: Matcher } {
  let matchers = compiled.get(filter);
  if (matchers === undefined) {
    const never: Matcher = () => false;
    matchers = {
      include: filter.include.length === 0 ? never : picomatch(filter.include, OPTIONS),
      exclude: filter.exclude.length === 0 ? never : picomatch(filter.exclude, OPTIONS),
    };
    compiled.set(filter, matchers);
  }
  return matchers;
}

/** An include matches and no exclude does (Drone's rule: exclude wins). */
export function filterMatches(filter: GlobFilter, name: string): boolean {
  const { include, exclude } = matchersOf(filter);
  return include(name) && !exclude(name);
}

/** Whether at least one changed path passes the filter. */
export function anyPathMatches(filter: GlobFilter, paths: readonly string[]): boolean {
  return paths.some((path) => filterMatches(filter, path));
}

/** `main, release/*` or `** except docs/**`, for reasons shown to people. */
export function describeFilter(filter: GlobFilter): string {
  const include = filter.include.length === 0 ? '(nothing)' : filter.include.join(', ');
  return filter.exclude.length === 0 ? include : `${include} except ${filter.exclude.join(', ')}`;
}
