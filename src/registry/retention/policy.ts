// Retention policies in the Harbor/zot style, and the pure decision of what one deletes.
//
// A policy applies to the repositories matching its glob (as ACL globs: `*` within one path segment,
// `**` across) and, in them, to the tags matching `tags.include` and not `tags.exclude` (regular
// expressions, matched whole; other tags are left alone). Among those tags, a tag is kept when ANY rule
// keeps it (rules combine with OR): the N most recently pushed, the N most recently pulled, pushed
// within a duration, pulled within a duration. An artifact (a manifest) is kept when any of its tags is
// kept or it has a tag the policy does not cover; otherwise it is deleted with all its tags. Manifests
// another manifest references (an index's children) are never deleted on their own. With `untagged`,
// manifests without a tag are deleted too (as the garbage collector's untagged option decides them);
// a policy may have only that, and then leaves tagged artifacts alone.
import { z } from 'zod';
import { Invalid } from '../../shared/errors.ts';
import type { Artifact } from '../metadata/registry-metadata.ts';

export interface RetentionRules {
  keepLastPushed?: number;
  keepLastPulled?: number;
  pushedWithinMs?: number;
  pulledWithinMs?: number;
}

export interface RetentionPolicy {
  name: string;
  /** Repository glob, e.g. `team/**`. */
  repositories: string;
  tags: { include?: string; exclude?: string };
  rules: RetentionRules;
  /** Also delete manifests without a tag in these repositories. */
  untagged: boolean;
}

const GLOB = /^[a-z0-9._/*?{},-]+$/;

export const policySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a policy name is letters, digits, . _ - (at most 100)'),
    repositories: z.string().min(1).max(255),
    tags: z.object({ include: z.string().min(1).max(500).optional(), exclude: z.string().min(1).max(500).optional() }).strict().default({}),
    rules: z
      .object({
        keepLastPushed: z.number().int().min(0).optional(),
        keepLastPulled: z.number().int().min(0).optional(),
        pushedWithinMs: z.number().int().min(0).optional(),
        pulledWithinMs: z.number().int().min(0).optional(),
      })
      .strict(),
    untagged: z.boolean().default(false),
  })
  .strict();

/** Validates a policy: its glob, its regular expressions, and that it keeps something. */
export function parsePolicy(input: unknown): RetentionPolicy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    throw new Invalid(`invalid retention policy: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  }
  const policy = parsed.data as RetentionPolicy;
  checkGlob(policy.repositories);
  for (const [field, pattern] of Object.entries(policy.tags)) if (pattern !== undefined) compileTagPattern(pattern, `tags.${field}`);
  if (!hasRules(policy) && !policy.untagged) {
    throw new Invalid('invalid retention policy: give at least one rule (keepLastPushed, keepLastPulled, pushedWithinMs, pulledWithinMs) or untagged');
  }
  return policy;
}

export function checkGlob(glob: string): void {
  if (!GLOB.test(glob)) throw new Invalid(`invalid repository glob "${glob}": use lower-case repository names with *, **, ? and {a,b}`);
  let depth = 0;
  for (const c of glob) {
    if (c === '{') depth++;
    if (c === '}' && --depth < 0) break;
  }
  if (depth !== 0) throw new Invalid(`invalid repository glob "${glob}": unbalanced { }`);
}

/** A tag pattern as a regular expression matched against the whole tag. */
export function compileTagPattern(pattern: string, what = 'tag pattern'): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new Invalid(`invalid ${what} "${pattern}": ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

function hasRules(policy: RetentionPolicy): boolean {
  return Object.values(policy.rules).some((v) => v !== undefined);
}

/** What the policy deletes among one repository's tagged artifacts at `now` (none without a rule). */
export function artifactsToDelete(policy: RetentionPolicy, artifacts: readonly Artifact[], now: Date): Artifact[] {
  if (!hasRules(policy)) return [];
  const include = policy.tags.include !== undefined ? compileTagPattern(policy.tags.include) : null;
  const exclude = policy.tags.exclude !== undefined ? compileTagPattern(policy.tags.exclude) : null;
  const covered = (tag: string) => (include === null || include.test(tag)) && (exclude === null || !exclude.test(tag));

  const candidates = artifacts.flatMap((artifact) => artifact.tags.filter((t) => covered(t.name)).map((tag) => ({ artifact, tag })));
  const kept = new Set<string>();
  const keep = (list: typeof candidates) => list.forEach((c) => kept.add(`${c.artifact.digest} ${c.tag.name}`));
  const { rules } = policy;
  if (rules.keepLastPushed !== undefined) keep([...candidates].sort((a, b) => b.tag.pushedAt.localeCompare(a.tag.pushedAt)).slice(0, rules.keepLastPushed));
  if (rules.keepLastPulled !== undefined) {
    const pulled = candidates.filter((c) => c.artifact.lastPulledAt !== null);
    keep(pulled.sort((a, b) => b.artifact.lastPulledAt!.localeCompare(a.artifact.lastPulledAt!)).slice(0, rules.keepLastPulled));
  }
  if (rules.pushedWithinMs !== undefined) {
    const since = new Date(now.getTime() - rules.pushedWithinMs).toISOString();
    keep(candidates.filter((c) => c.tag.pushedAt >= since));
  }
  if (rules.pulledWithinMs !== undefined) {
    const since = new Date(now.getTime() - rules.pulledWithinMs).toISOString();
    keep(candidates.filter((c) => c.artifact.lastPulledAt !== null && c.artifact.lastPulledAt >= since));
  }

  return artifacts.filter((artifact) => {
    if (artifact.referenced || artifact.tags.length === 0) return false; // untagged ones: the `untagged` option
    // Kept when any of its tags is kept, or when it has a tag the policy does not cover.
    return artifact.tags.every((t) => covered(t.name) && !kept.has(`${artifact.digest} ${t.name}`));
  });
}
