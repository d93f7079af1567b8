// ACL evaluation, pure: which actions a caller may perform on a repository, given the rules.
//
// A rule grants actions on the repositories matching its glob (picomatch: `*` stays within one path
// segment, `**` crosses `/`) to a subject:
//   - a user or robot name (`alice`, `ci-bot`),
//   - `group:NAME` (every user or robot in group NAME),
//   - `authenticated` (any caller with valid credentials),
//   - `anonymous` (everybody, with or without credentials: what anonymous callers may do, a logged-in
//     caller may do too unless a more specific rule says otherwise).
// Among the rules whose glob matches the repository AND whose subject applies to the caller, the one
// with the LONGEST glob wins; on equal glob length the most specific subject wins (user > group >
// authenticated > anonymous); rules still tied (e.g. two groups of the caller) grant the union of their
// actions. A rule with no actions is a real answer: it denies. When no rule applies, the default holds:
// anonymous callers may pull, authenticated ones may pull and push, nobody may delete.
//
// Examples: a private repository tree is `team/secret/**` with anonymous: [] and group:team: [pull, push]
// (authenticated: [] too, if you like it spelled out); a push-restricted one is `prod/**` with
// authenticated: [pull] and group:release: [pull, push].
import picomatch from 'picomatch';
import type { RegistryAction } from './authorizer.ts';
import { sortActions } from './scopes.ts';

export interface AclRule {
  repositoryGlob: string;
  /** A user or robot name, `group:NAME`, `authenticated` or `anonymous`. */
  subject: string;
  actions: readonly RegistryAction[];
}

export interface AclCaller {
  /** null for anonymous callers. */
  name: string | null;
  groups: readonly string[];
}

export const DEFAULT_ANONYMOUS_ACTIONS: readonly RegistryAction[] = ['pull'];
export const DEFAULT_AUTHENTICATED_ACTIONS: readonly RegistryAction[] = ['pull', 'push'];

const matchers = new Map<string, (name: string) => boolean>();

export function globMatches(glob: string, repository: string): boolean {
  let matcher = matchers.get(glob);
  if (!matcher) {
    matcher = picomatch(glob, { dot: true });
    if (matchers.size > 10_000) matchers.clear();
    matchers.set(glob, matcher);
  }
  return matcher(repository);
}

/** How specific the rule's subject is for this caller (4 user … 1 anonymous), or null when it does not apply. */
export function subjectRank(subject: string, caller: AclCaller): number | null {
  if (subject === 'anonymous') return 1;
  if (subject === 'authenticated') return caller.name !== null ? 2 : null;
  if (subject.startsWith('group:')) return caller.name !== null && caller.groups.includes(subject.slice('group:'.length)) ? 3 : null;
  return caller.name !== null && subject === caller.name ? 4 : null;
}

/** The actions the rules give the caller on the repository (in pull, push, delete order). */
export function evaluateAcl(rules: readonly AclRule[], caller: AclCaller, repository: string): RegistryAction[] {
  let best: { length: number; rank: number } | null = null;
  let granted = new Set<RegistryAction>();
  for (const rule of rules) {
    const rank = subjectRank(rule.subject, caller);
    if (rank === null || !globMatches(rule.repositoryGlob, repository)) continue;
    const length = rule.repositoryGlob.length;
    const better = best === null || length > best.length || (length === best.length && rank > best.rank);
    const tie = best !== null && length === best.length && rank === best.rank;
    if (better) {
      best = { length, rank };
      granted = new Set(rule.actions);
    } else if (tie) {
      rule.actions.forEach((a) => granted.add(a));
    }
  }
  if (best === null) return [...(caller.name === null ? DEFAULT_ANONYMOUS_ACTIONS : DEFAULT_AUTHENTICATED_ACTIONS)];
  return sortActions(granted);
}
