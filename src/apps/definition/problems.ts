// What is wrong with an app or group definition, in the shape Marathon answers it (a 422 with
// `{message: "Object is not valid", details: [{path: "/id", errors: ["..."]}]}`, Marathon's
// api/v2/Validation.scala failureWrites), so that /v2 clients read our errors as they read Marathon's.
// One error type carries them: an Invalid, so /api/v1 answers the house `{error, message}` and /v2
// renders `marathonBody`. Checks report findings against field paths (shared/validation/findings.ts, shared
// with pipelines); paths become Marathon's `/healthChecks(0)/portIndex` here, and lines for YAML.
import type { FieldPath, Finding } from '../../shared/validation/findings.ts';
import { Invalid } from '../../shared/errors.ts';

export type { FieldPath, Finding } from '../../shared/validation/findings.ts';

/** Every error at one field. `line`: where the field is in a YAML file, when the definition came from one. */
export interface AppProblem {
  /** Marathon's form: `/` for the whole definition, `/id`, `/healthChecks(0)/portIndex`, `/env/PORT`. */
  path: string;
  errors: string[];
  line?: number;
}

/** Marathon's rendering of a field path (accord's descriptions): keys as `/key`, list positions as `(n)`. */
export function marathonPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) text += typeof segment === 'number' ? `(${segment})` : `/${segment}`;
  return text === '' ? '/' : text;
}

/** Findings grouped by field, in the order first found; `lineOf` adds a line to each (YAML). */
export function problemsOf(findings: readonly Finding[], lineOf?: (finding: Finding) => number): AppProblem[] {
  const byPath = new Map<string, AppProblem>();
  for (const finding of findings) {
    const path = marathonPath(finding.path);
    let problem = byPath.get(path);
    if (problem === undefined) {
      problem = { path, errors: [], ...(lineOf ? { line: lineOf(finding) } : {}) };
      byPath.set(path, problem);
    }
    if (!problem.errors.includes(finding.message)) problem.errors.push(finding.message);
  }
  return [...byPath.values()];
}

/** The one error a bad app or group definition throws. */
export class AppDefinitionInvalid extends Invalid {
  readonly problems: AppProblem[];

  /**
   * `subject`: what was read (`app "/prod/web"`, `group "/prod"`); `file`: the YAML file's name, which
   * then leads each line as `file:line:` (the form ci/pipeline uses for pipeline files).
   */
  constructor(subject: string, problems: AppProblem[], file?: string) {
    const lines = problems.flatMap((p) => p.errors.map((error) => `${p.line !== undefined ? `${file ?? 'definition'}:${p.line}: ` : ''}${p.path}: ${error}`));
    const fromFile = problems.some((p) => p.line !== undefined);
    super(fromFile ? `invalid ${subject}:\n${lines.join('\n')}` : `invalid ${subject}: ${lines.join('; ')}`, { problems });
    this.problems = problems;
  }

  /** The body Marathon answers with its 422. */
  marathonBody(): { message: string; details: Array<{ path: string; errors: string[] }> } {
    return { message: 'Object is not valid', details: this.problems.map(({ path, errors }) => ({ path, errors })) };
  }
}

/** `app "/prod/web"`, or `app` when it has no readable id: how errors name what was read. */
export function subjectOf(kind: 'app' | 'group', json: unknown): string {
  const id = typeof json === 'object' && json !== null ? (json as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? `${kind} "${id}"` : kind;
}

/** A finding at `path`. */
export function finding(path: FieldPath, message: string, atKey?: boolean): Finding {
  return atKey ? { path, message, atKey } : { path, message };
}
