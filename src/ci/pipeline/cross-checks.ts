// Rules that look across fields: unique step names, depends_on naming real steps, no dependency
// cycles, and an environment variable set in one place only. They read the file's plain value
// defensively, so they report alongside the field errors of schema.ts instead of waiting for them.
import { findCycles, resolveDependsOn } from './dag.ts';
import { didYouMean } from '../../shared/validation/did-you-mean.ts';
import type { Finding } from './problems.ts';
import { isPlainObject } from '../../shared/validation/schema-kit.ts';
import { STEP_IMAGE_PLACEHOLDER } from './schema.ts';

interface WrittenStep {
  index: number;
  name: string | null;
  /** null when depends_on is not written (or not a list of names: schema.ts reports that). */
  dependsOn: string[] | null;
  /** depends_on written as one string rather than a list. */
  dependsOnIsString: boolean;
}

export function crossCheck(file: unknown): Finding[] {
  if (!isPlainObject(file)) return [];
  const steps = Array.isArray(file.steps) ? file.steps.map(readStep) : [];
  const kinds = Array.isArray(file.steps) ? file.steps.flatMap(stepKindProblems) : [];
  return [...duplicateNames(steps), ...unknownDependencies(steps), ...dependencyCycles(steps), ...envSecretClashes(file), ...kinds, ...deployedImages(file, steps)];
}

const KINDS = ['commands', 'build', 'deploy'] as const;

/** A step runs commands, builds an image or deploys one: exactly one of them; only commands run in a step image. */
function stepKindProblems(raw: unknown, index: number): Finding[] {
  if (!isPlainObject(raw)) return [];
  const written = KINDS.filter((key) => raw[key] !== undefined);
  if (written.length > 1) return [{ path: ['steps', index, written[1]!], message: `a step does one of "commands", "build" or "deploy", not ${written.map((k) => `"${k}"`).join(' and ')}: make a step of each` }];
  if (written.length === 0) return [{ path: ['steps', index], message: 'a step needs "commands" (to run), "build" (an image to build and push) or "deploy" (an image to roll out to an app)' }];
  if (written[0] === 'build' && isPlainObject(raw.build)) {
    const build = raw.build;
    const dockerOnly = ['context', 'dockerfile', 'args', 'target'].filter((k) => build[k] !== undefined);
    const assembleOnly = ['files', 'entrypoint', 'cmd', 'env', 'workdir'].filter((k) => build[k] !== undefined);
    if (build.from !== undefined && dockerOnly.length > 0) {
      return [{ path: ['steps', index, 'build', dockerOnly[0]!], message: `a build "from" a base image puts files onto it without a Dockerfile: leave out ${dockerOnly.map((k) => `"${k}"`).join(', ')}` }];
    }
    if (build.from !== undefined && build.files === undefined) return [{ path: ['steps', index, 'build'], message: 'a build "from" a base image needs "files": [{src: dist/, dest: /app}]' }];
    if (build.from === undefined && assembleOnly.length > 0) {
      return [{ path: ['steps', index, 'build', assembleOnly[0]!], message: `${assembleOnly.map((k) => `"${k}"`).join(', ')} go with "from" (files onto a base image, no Dockerfile); a Dockerfile says them itself` }];
    }
  }
  if (written[0] !== 'commands' && raw.image !== undefined) {
    const why = written[0] === 'build' ? 'the Docker engine builds from the Dockerfile' : 'the server rolls the image out to the app';
    return [{ path: ['steps', index, 'image'], message: `a ${written[0]} step runs in no image: ${why}; leave out "image"` }];
  }
  return [];
}

/**
 * A deploy's `${steps.NAME.image}` names a build step that runs before it (among its dependencies,
 * directly or not), so that what it deploys was built by then.
 */
function deployedImages(file: Record<string, unknown>, steps: WrittenStep[]): Finding[] {
  if (!Array.isArray(file.steps)) return [];
  const named = steps.filter((s): s is WrittenStep & { name: string } => s.name !== null);
  const dependsOn = resolveDependsOn(named.map((s) => s.name), named.map((s) => s.dependsOn));
  const ancestors = (name: string): Set<string> => {
    const seen = new Set<string>();
    const walk = (at: string): void => {
      const index = named.findIndex((s) => s.name === at);
      for (const dep of dependsOn[index] ?? []) if (!seen.has(dep)) (seen.add(dep), walk(dep));
    };
    walk(name);
    return seen;
  };
  const findings: Finding[] = [];
  file.steps.forEach((raw: unknown, index: number) => {
    if (!isPlainObject(raw) || !isPlainObject(raw.deploy) || typeof raw.deploy.image !== 'string') return;
    const placeholder = STEP_IMAGE_PLACEHOLDER.exec(raw.deploy.image);
    if (!placeholder) return;
    const source = placeholder[1]!;
    const path = ['steps', index, 'deploy', 'image'];
    const built = (file.steps as unknown[]).find((s) => isPlainObject(s) && s.name === source);
    if (!built) findings.push({ path, message: `no step "${source}"${didYouMean(source, named.map((s) => s.name))}` });
    else if (!isPlainObject(built) || built.build === undefined) findings.push({ path, message: `step "${source}" builds no image: \${steps.${source}.${placeholder[2]}} names a step with "build"` });
    else if (typeof raw.name === 'string' && !ancestors(raw.name).has(source)) findings.push({ path, message: `step "${source}" may not have built its image when this step starts: add it to depends_on` });
  });
  return findings;
}

function readStep(raw: unknown, index: number): WrittenStep {
  const step = isPlainObject(raw) ? raw : {};
  const name = typeof step.name === 'string' ? step.name : null;
  const written = step.depends_on;
  const dependsOn = typeof written === 'string' ? [written] : Array.isArray(written) ? written.filter((d): d is string => typeof d === 'string') : null;
  return { index, name, dependsOn, dependsOnIsString: typeof written === 'string' };
}

function duplicateNames(steps: WrittenStep[]): Finding[] {
  const firstIndex = new Map<string, number>();
  const findings: Finding[] = [];
  for (const step of steps) {
    if (step.name === null) continue;
    const first = firstIndex.get(step.name);
    if (first === undefined) firstIndex.set(step.name, step.index);
    else findings.push({ path: ['steps', step.index, 'name'], message: `duplicate step name "${step.name}" (also steps[${first}])` });
  }
  return findings;
}

function unknownDependencies(steps: WrittenStep[]): Finding[] {
  const names = steps.map((s) => s.name).filter((n): n is string => n !== null);
  const findings: Finding[] = [];
  for (const step of steps) {
    (step.dependsOn ?? []).forEach((dep, position) => {
      const path = ['steps', step.index, 'depends_on'];
      const at = step.dependsOnIsString ? path : [...path, position];
      if (dep === step.name) findings.push({ path, at, message: `a step cannot depend on itself ("${dep}")` });
      else if (!names.includes(dep)) findings.push({ path, at, message: `unknown step "${dep}"${didYouMean(dep, names)}` });
    });
  }
  return findings;
}

/**
 * Cycles among named steps (a nameless one is reported by the schema), counting the implicit
 * dependency on the previous step. Only the first step of each name takes part: a duplicate is
 * reported already and would only add false cycles.
 */
function dependencyCycles(steps: WrittenStep[]): Finding[] {
  const named = steps.filter((s): s is WrittenStep & { name: string } => s.name !== null);
  const resolved = resolveDependsOn(
    named.map((s) => s.name),
    named.map((s) => s.dependsOn?.filter((dep) => dep !== s.name) ?? null),
  );
  const isFirstOfName = named.map((step, i) => named.findIndex((other) => other.name === step.name) === i);
  const unique = named.filter((_, i) => isFirstOfName[i]);
  const dependsOn = resolved.filter((_, i) => isFirstOfName[i]);
  return findCycles(unique.map((s) => s.name), dependsOn).map((cycle) => {
    // A cycle needs a backward edge, which only a written depends_on makes: report on the first one.
    const reporter = unique.find((s) => s.dependsOn !== null && cycle.includes(s.name)) ?? unique.find((s) => s.name === cycle[0])!;
    const start = cycle.indexOf(reporter.name);
    const loop = [...cycle.slice(start, -1), ...cycle.slice(0, start), reporter.name];
    return { path: ['steps', reporter.index, 'depends_on'], message: `dependency cycle: ${loop.join(' → ')}` };
  });
}

function envSecretClashes(file: Record<string, unknown>): Finding[] {
  if (!isPlainObject(file.env) || !isPlainObject(file.secrets)) return [];
  const env = file.env;
  return Object.keys(file.secrets)
    .filter((key) => key in env)
    .map((key) => ({ path: ['secrets', key], atKey: true, message: `"${key}" is also set in env; give each variable one source` }));
}
