// Durations in a job definition. `epsilon` is ISO 8601 as in Chronos (`PT15M`); Gantry's own fields also
// take the short form used elsewhere in Gantry (`30s`, `5m`, `1h`).
import { GantryError } from '../../shared/errors.ts';
import { parseDuration } from '../../shared/duration.ts';
import { parseIsoDuration } from '../schedule/index.ts';
import type { Problem } from './problems.ts';

/** Milliseconds of an ISO 8601 duration, or undefined with the problem recorded under `path`. */
export function isoDurationField(text: string, path: string, problems: Problem[]): number | undefined {
  return recordingProblems(() => parseIsoDuration(text, path), path, problems);
}

/** Milliseconds of `PT30S` or `30s`, or undefined with the problem recorded under `path`. */
export function durationField(text: string, path: string, problems: Problem[]): number | undefined {
  if (/^P/i.test(text.trim())) return isoDurationField(text.trim(), path, problems);
  return recordingProblems(
    () => parseDuration(text, path),
    path,
    problems,
    `expected an ISO 8601 duration such as PT30S, or 500ms, 30s, 5m, 1h (got "${text}")`,
  );
}

function recordingProblems(parse: () => number, path: string, problems: Problem[], message?: string): number | undefined {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof GantryError)) throw err;
    // The parsers start their messages with the field's name; the path already says it.
    const problem = message ?? (err.message.startsWith(`${path}: `) ? err.message.slice(path.length + 2) : err.message);
    problems.push({ path, problem });
    return undefined;
  }
}
