// LIKE and UNLIKE match the whole value (Java's Matcher.matches in Marathon), so `rack-1` does not
// match `rack-10`. Compiled patterns are cached: the same few constraints are checked on many agents.
const cache = new Map<string, RegExp>();
const CACHE_LIMIT = 1000;

export function fullMatch(pattern: string, text: string): boolean {
  let re = cache.get(pattern);
  if (!re) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    re = new RegExp(`^(?:${pattern})$`);
    cache.set(pattern, re);
  }
  return re.test(text);
}
