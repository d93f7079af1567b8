// Turns what is wrong with a job definition into `path: problem` lines a person can act on:
// `container.volumes[0].mode: expected one of "RW"|"RO"`, `unknown field "comand" (did you mean "command"?)`.
import type { z } from 'zod';

export interface Problem {
  /** `cpus`, `container.volumes[0].mode`, `constraints[1]`; empty for the definition as a whole. */
  path: string;
  problem: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text;
}

export function describeProblem(p: Problem): string {
  return p.path === '' ? p.problem : `${p.path}: ${p.problem}`;
}

/** One Problem per zod issue; an unknown key is reported on its own path, with a likely meant field. */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], knownFields: ReadonlySet<string>): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: formatPath(issue.path),
        problem: `unknown field "${key}"${suggestion(key, knownFields)}`,
      }));
    }
    return [{ path: formatPath(issue.path), problem: readableMessage(issue) }];
  });
}

function readableMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) return 'required';
  return issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
}

function suggestion(key: string, knownFields: ReadonlySet<string>): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const field of knownFields) {
    const distance = editDistance(key.toLowerCase(), field.toLowerCase());
    if (distance < bestDistance) {
      best = field;
      bestDistance = distance;
    }
  }
  // Close enough to be a typo: a third of the name, at least one edit (case alone counts as zero).
  const close = best !== null && bestDistance <= Math.max(1, Math.floor(key.length / 3));
  return close ? ` (did you mean "${best}"?)` : '';
}

/** Edits between two names, a swap of neighbours counting as one (`imgae` is one edit from `image`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
