// Task owners, the one format every client of the pool uses: `KIND:ID:PART` (`job:NAME:RUN`,
// `ci:RUN:STEP`, `app:ID:INSTANCE`, `user:NAME`). The owner is who decides a task's retries and
// replacements; its prefixes (`app:ID:`) are what a client lists and watches its own tasks by.
import { Invalid } from '../shared/errors.ts';

/** An owner from its kind and parts; a part holding `:` would make prefixes ambiguous, so it is refused. */
export function taskOwner(kind: string, ...parts: Array<string | number>): string {
  const all = [kind, ...parts.map(String)];
  const bad = all.find((part) => part === '' || part.includes(':'));
  if (bad !== undefined) throw new Invalid(`an owner's parts are non-empty and hold no ":" (got "${bad}" in ${all.join(':')})`);
  return all.join(':');
}

/** The prefix of every owner that starts with these parts: `ownerPrefix('app', 'web')` is `app:web:`. */
export function ownerPrefix(kind: string, ...parts: Array<string | number>): string {
  return `${taskOwner(kind, ...parts)}:`;
}

/** An owner's kind and parts: `job:nightly:r-1` → `{kind: 'job', parts: ['nightly', 'r-1']}`. */
export function parseOwner(owner: string): { kind: string; parts: string[] } {
  const [kind = '', ...parts] = owner.split(':');
  return { kind, parts };
}
