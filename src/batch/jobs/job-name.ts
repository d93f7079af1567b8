// Job names as Chronos allows them, so that every existing Chronos job loads unchanged: letters, digits,
// `_`, `-`, `.`, `#` and whitespace (JobUtils.jobNamePattern `([\w\s\.#_-]+)`, matched against the whole
// name). Java's `\w` and `\s` are ASCII-only, so they are spelled out here rather than left to JS's
// Unicode-aware `\s`.

const JOB_NAME = /^[A-Za-z0-9_ \t\n\x0B\f\r.#-]+$/;

/**
 * Chronos sets no limit; ours keeps the task owner `job:NAME:RUN` within the pool's 200 characters
 * (cluster/task-spec.ts) with room for a run id.
 */
export const MAX_JOB_NAME_LENGTH = 150;

/** What is wrong with a job name, or null when Chronos and Gantry both accept it. */
export function jobNameProblem(name: string): string | null {
  if (name.length === 0) return 'a job name needs at least one character';
  if (name.length > MAX_JOB_NAME_LENGTH) return `a job name has at most ${MAX_JOB_NAME_LENGTH} characters (got ${name.length})`;
  if (!JOB_NAME.test(name)) {
    return `"${name}" has characters a job name cannot have (letters, digits, whitespace and _ - . # only, as in Chronos)`;
  }
  return null;
}
