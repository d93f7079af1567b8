// Timeouts are written with a unit (`90s`, `10m`, `1h30m`). A bare number is refused rather than
// guessed: Woodpecker reads minutes, Gantry's task API reads milliseconds, and a wrong guess either
// kills every build at once or lets a stuck one run for days.
import { parseDuration } from '../../shared/duration.ts';

const WITH_UNITS = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** What is wrong with a written duration, or null. */
export function durationProblem(text: string): string | null {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return `"${text}" has no unit; write e.g. "${trimmed}m" or "${trimmed}s"`;
  if (!WITH_UNITS.test(trimmed)) return `"${text}" is not a duration; write e.g. "90s", "10m" or "1h30m"`;
  if (parseDuration(trimmed) <= 0) return 'must be longer than 0';
  return null;
}

/** Milliseconds of a duration that passed durationProblem(). */
export function durationMs(text: string): number {
  return parseDuration(text.trim());
}
