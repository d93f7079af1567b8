// One pipeline file in, one Pipeline out, or an Invalid listing every problem with its line.
import path from 'node:path';
import { crossCheck } from './cross-checks.ts';
import { normalizePipeline } from './normalize.ts';
import { formatFieldPath, invalidPipeline, type Finding, type PipelineProblem } from './problems.ts';
import { NAME, pipelineSchema } from './schema.ts';
import { describeValue, isPlainObject } from '../../shared/validation/schema-kit.ts';
import type { Pipeline } from './types.ts';
import { lineOf, readYaml, type YamlSource } from '../../shared/validation/yaml-source.ts';
import { findingsFromZod } from '../../shared/validation/zod-findings.ts';

export interface ParseOptions {
  /**
   * True for the server's pipelines/ directory, where each file names the repository it builds. Otherwise
   * (a `.gantry.yml`) `repository` is refused: the file belongs to the repository that holds it.
   */
  requireRepository?: boolean;
}

/** Parses and validates one pipeline file; `file` is how messages name it. Throws Invalid. */
export function parsePipeline(text: string, file: string, options: ParseOptions = {}): Pipeline {
  const { source, problems: syntax } = readYaml(text);
  if (syntax.length > 0) throw invalidPipeline(syntax.map((p) => ({ file, line: p.line, path: '', message: p.message })));
  const value = source.value;
  if (value === null || value === undefined) throw invalidPipeline([{ file, line: 1, path: '', message: 'the file is empty; a pipeline needs at least "steps"' }]);
  if (!isPlainObject(value)) {
    throw invalidPipeline([{ file, line: 1, path: '', message: `expected a mapping of fields (name, on, env, steps, ...), got ${describeValue(value)}` }]);
  }

  const parsed = pipelineSchema.safeParse(value);
  const findings: Finding[] = [
    ...(parsed.success ? [] : findingsFromZod(parsed.error, value)),
    ...crossCheck(value),
    ...repositoryFindings(value, options.requireRepository === true),
  ];
  const name = typeof value.name === 'string' ? value.name : nameFromFile(file);
  if (value.name === undefined && !NAME.test(name)) {
    findings.push({ path: [], message: `the file name "${name}" is not a valid pipeline name; set "name:" (letters, digits, ".", "_", "-")` });
  }
  if (findings.length > 0 || !parsed.success) throw invalidPipeline(findings.map((f) => locate(source, file, f)));
  return normalizePipeline(parsed.data, { file, name });
}

/** `pipelines/web.yml` → `web`; `.gantry.yml` → `gantry` (Woodpecker also names a workflow after its file). */
export function nameFromFile(file: string): string {
  return path.basename(file).replace(/\.ya?ml$/i, '').replace(/^\.+/, '');
}

function repositoryFindings(value: Record<string, unknown>, required: boolean): Finding[] {
  if (required && value.repository === undefined) {
    return [{ path: ['repository'], message: 'required in server pipelines: the repository this pipeline builds, as owner/name' }];
  }
  if (!required && value.repository !== undefined) {
    return [{ path: ['repository'], atKey: true, message: 'only server pipelines name a repository; this file belongs to the repository that holds it' }];
  }
  // A user is an operator's grant (the Docker socket's group, say): not for whoever can push a file.
  if (!required && value.user !== undefined) {
    return [{ path: ['user'], atKey: true, message: 'only server pipelines name a user to run as; a .gantry.yml runs as the agents\' default user' }];
  }
  return [];
}

function locate(source: YamlSource, file: string, finding: Finding): PipelineProblem {
  return {
    file,
    line: lineOf(source, finding.at ?? finding.path, finding.atKey === true),
    path: formatFieldPath(finding.path),
    message: finding.message,
  };
}
