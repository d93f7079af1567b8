// Values a run derives from its pipeline: the secrets it must fetch and its concurrency group.
import type { Pipeline } from './types.ts';

/** Every secret name the pipeline reads (pipeline and step level), sorted, each once. */
export function secretNames(pipeline: Pipeline): string[] {
  const names = new Set(Object.values(pipeline.secrets));
  for (const step of pipeline.steps) for (const name of Object.values(step.secrets)) names.add(name);
  return [...names].sort();
}

/**
 * The concurrency group of a run with `${branch}` (the branch, or the tag for a tag run),
 * `${pipeline}` and `${repository}` filled in; null when the pipeline sets no concurrency.
 */
export function concurrencyGroupFor(pipeline: Pipeline, run: { repository: string; ref: string }): string | null {
  if (pipeline.concurrency === null) return null;
  const values: Record<string, string> = { branch: run.ref, pipeline: pipeline.name, repository: run.repository };
  return pipeline.concurrency.group.replace(/\$\{(branch|pipeline|repository)\}/g, (_, word: string) => values[word]!);
}
