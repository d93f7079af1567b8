// A problem in a pipeline file, and how it reads: `pipelines/web.yml:12: steps[1].depends_on: message`.
// Checks report findings against a field path; the YAML source turns each path into a line at the end,
// so no check needs to know about YAML nodes.
import { Invalid } from '../../shared/errors.ts';

/** Keys and list indexes from the top of the file, e.g. `['steps', 1, 'depends_on']`. */
export type FieldPath = Array<string | number>;

/** What callers receive in `Invalid.details.problems`. `line` is 1-based; `path` is '' for the file itself. */
export interface PipelineProblem {
  file: string;
  line: number;
  path: string;
  message: string;
}

/** A problem before it has a line. */
export interface Finding {
  /** The field named in the message. */
  path: FieldPath;
  message: string;
  /** The node whose line is reported, when it differs from `path` (an element inside the field). */
  at?: FieldPath;
  /** Report the line of the key rather than of its value (an unknown field). */
  atKey?: boolean;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['steps', 1, 'depends_on']` → `steps[1].depends_on`; odd keys are quoted: `env["A B"]`. */
export function formatFieldPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

export function formatProblem(problem: PipelineProblem): string {
  const field = problem.path === '' ? '' : `${problem.path}: `;
  return `${problem.file}:${problem.line}: ${field}${problem.message}`;
}

/** Problems in reading order: by line, then as found. */
export function sortProblems(problems: PipelineProblem[]): PipelineProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => a.problem.line - b.problem.line || a.index - b.index)
    .map(({ problem }) => problem);
}

/** The one error a broken file throws: every problem, one per line, and the list in `details`. */
export function invalidPipeline(problems: PipelineProblem[]): Invalid {
  const sorted = sortProblems(problems);
  return new Invalid(sorted.map(formatProblem).join('\n'), { problems: sorted });
}
