// The server's pipelines/ directory: every *.yml and *.yaml file is one pipeline. A broken file is
// reported and skipped so one typo does not stop every other repository's builds.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GantryError } from '../../shared/errors.ts';
import { parsePipeline } from './parse-pipeline.ts';
import type { Pipeline } from './types.ts';

export interface LoadedPipelines {
  pipelines: Pipeline[];
  /** One entry per broken file; `message` is every problem, one `file:line: field: message` per line. */
  errors: Array<{ file: string; message: string }>;
}

/** Loads `dir` in file-name order. A missing directory is no pipelines. Files are named `dir/NAME.yml`. */
export function loadPipelineDirectory(dir: string): LoadedPipelines {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.ya?ml$/i.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pipelines: [], errors: [] };
    throw error;
  }

  const loaded: LoadedPipelines = { pipelines: [], errors: [] };
  const fileOfName = new Map<string, string>();
  for (const entry of entries) {
    const file = path.join(dir, entry);
    try {
      const text = readFileSync(file, 'utf8');
      const pipeline = parsePipeline(text, file, { requireRepository: true });
      const other = fileOfName.get(pipeline.name);
      if (other !== undefined) {
        // Pipelines are run and listed by name (`gantry ci run NAME`), so a name means one file.
        const line = topLevelKeyLine(text, 'name') ?? 1;
        loaded.errors.push({ file, message: `${file}:${line}: name: pipeline "${pipeline.name}" is already defined in ${other}` });
        continue;
      }
      fileOfName.set(pipeline.name, file);
      loaded.pipelines.push(pipeline);
    } catch (error) {
      const message = error instanceof GantryError ? error.message : `${file}: cannot read: ${(error as Error).message}`;
      loaded.errors.push({ file, message });
    }
  }
  return loaded;
}

/** The line of `key:` at the top level of a YAML text, or null (the name came from the file name). */
function topLevelKeyLine(text: string, key: string): number | null {
  const index = text.split('\n').findIndex((line) => line.startsWith(`${key}:`));
  return index < 0 ? null : index + 1;
}
