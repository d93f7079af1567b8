// A problem in a pipeline file, and how it reads: `pipelines/web.yml:12: steps[1].depends_on: message`.
// Checks report findings against a field path; the YAML source turns each path into a line at the end,
// so no check needs to know about YAML nodes.
import { Invalid } from '../../shared/errors.ts';
import type { FieldPath, Finding } from '../../shared/validation/findings.ts';

export type { FieldPath, Finding } from '../../shared/validation/findings.ts';
export { formatFieldPath } from '../../shared/validation/findings.ts';

/** What callers receive in `Invalid.details.problems`. `line` is 1-based; `path` is '' for the file itself. */
export interface PipelineProblem {
  file: string;
  line: number;
  path: string;
  message: string;
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
