// App and group definitions written in YAML (`gantry apps deploy FILE`): the same fields as the JSON
// (JSON is YAML too, so a Marathon JSON file reads here unchanged), with every problem reported at its
// line, `web.yml:12: /healthChecks(0)/portIndex: ...`. Lines come from ci/pipeline's YAML source, which
// pipeline files use for the same purpose.
import { LineCounter, parseDocument } from 'yaml';
import { lineOf, type YamlSource } from '../../shared/validation/yaml-source.ts';
import { checkAppDefinition, type ParseOptions } from './definition.ts';
import { checkGroupDefinition, type GroupDefinition, type GroupParseOptions } from './group.ts';
import { AppDefinitionInvalid, problemsOf, subjectOf, type AppProblem, type Finding } from './problems.ts';
import type { AppDefinition } from './types.ts';

export interface YamlOptions {
  /** The file's name as the user wrote it, to lead each error line. */
  file?: string;
}

/** Friendlier words for the YAML errors people meet most. */
const SYNTAX_HINTS: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (---): to deploy several apps from one file, list them in a group ("apps": [...])',
  DUPLICATE_KEY: 'the same key appears twice in this mapping',
  TAB_AS_INDENT: 'tabs are not allowed as indentation in YAML; indent with spaces',
};

/** An app from YAML (or JSON) text; throws AppDefinitionInvalid with each problem's line. */
export function parseAppYaml(text: string, options: ParseOptions & YamlOptions = {}): AppDefinition {
  return appFrom(readYaml(text, 'app', options.file), options);
}

/** A group from YAML (or JSON) text; throws AppDefinitionInvalid with each problem's line. */
export function parseGroupYaml(text: string, options: GroupParseOptions & YamlOptions = {}): GroupDefinition {
  return groupFrom(readYaml(text, 'group', options.file), options);
}

/**
 * What a deploy file holds: a group when it lists `apps` or `groups`, else one app (whose dependencies
 * the caller checks against the deployed apps with checkAppDependencies, as for an app posted alone).
 */
export function parseDeployFile(
  text: string,
  options: GroupParseOptions & YamlOptions = {},
): { kind: 'app'; app: AppDefinition } | { kind: 'group'; group: GroupDefinition } {
  const source = readYaml(text, 'definition', options.file);
  const value = source.value;
  if (typeof value === 'object' && value !== null && ('apps' in value || 'groups' in value)) return { kind: 'group', group: groupFrom(source, options) };
  return { kind: 'app', app: appFrom(source, options) };
}

function appFrom(source: YamlSource, options: ParseOptions & YamlOptions): AppDefinition {
  const { app, findings } = checkAppDefinition(source.value, options.base !== undefined ? { base: options.base } : {});
  if (app === undefined) throw invalidAt(subjectOf('app', source.value), findings, source, options.file);
  return app;
}

function groupFrom(source: YamlSource, options: GroupParseOptions & YamlOptions): GroupDefinition {
  const { group, findings } = checkGroupDefinition(source.value, options);
  if (group === undefined) throw invalidAt(subjectOf('group', source.value), findings, source, options.file);
  return group;
}

function invalidAt(subject: string, findings: readonly Finding[], source: YamlSource, file: string | undefined): AppDefinitionInvalid {
  const problems = problemsOf(findings, (f) => lineOf(source, f.path, f.atKey === true)).sort((a, b) => a.line! - b.line!);
  return new AppDefinitionInvalid(subject, problems, file);
}

/** The text as a YAML document with its lines; a syntax error throws, each at its line. */
function readYaml(text: string, subject: string, file: string | undefined): YamlSource {
  const lines = new LineCounter();
  // `merge`: shared settings through anchors and `<<: *defaults`, as in pipeline files.
  const document = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const problems: AppProblem[] = document.errors.map((error) => ({
    path: '/',
    errors: [`invalid YAML: ${SYNTAX_HINTS[error.code] ?? (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`],
    line: lines.linePos(error.pos[0]).line,
  }));
  if (problems.length > 0) throw new AppDefinitionInvalid(subject, problems, file);
  try {
    // The alias limit stops a "billion laughs" expansion.
    return { document, lines, value: document.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    throw new AppDefinitionInvalid(subject, [{ path: '/', errors: [`invalid YAML: ${(error as Error).message}`], line: 1 }], file);
  }
}
