// What a capped log keeps of the output it cut. Every rolled file of a task's log opens with one line
// of the task's output totals before it ({"before":{"chunks":N,"stdout":B,"stderr":B}}). Once the
// older files are dropped, the oldest file's line is the record of what was cut: readers that missed
// that output are shown it as a notice line, and its chunk count keeps the numbering agents' retries
// rely on (and the totals the master tells a re-registering agent) right across the cut.
import type { OutputSoFar } from '../protocol.ts';

/** Output a capped log no longer holds, from the task's start. */
export interface LogCut {
  chunks: number;
  /** Bytes of output (stdout and stderr, as stored), not of the log's lines. */
  bytes: number;
}

/** A rolled file's first line: the task's output totals before the file. */
export interface FileOpening {
  before: OutputSoFar;
}

export function fileOpeningLine(before: OutputSoFar): string {
  return JSON.stringify({ before: { chunks: before.chunks, stdout: before.stdout, stderr: before.stderr } } satisfies FileOpening) + '\n';
}

export function isFileOpening(line: object): line is FileOpening {
  return 'before' in line;
}

export function cutOf(opening: FileOpening): LogCut {
  return { chunks: opening.before.chunks, bytes: opening.before.stdout + opening.before.stderr };
}

/** The line readers see in place of the cut output, e.g. `[gantry] 1.2 MiB of earlier output cut (log cap 10 MiB)`. */
export function cutNotice(cut: LogCut, capBytes?: number): string {
  const cap = capBytes !== undefined && Number.isFinite(capBytes) ? `; log cap ${formatBytes(capBytes)}` : '';
  return `[gantry] ${formatBytes(cut.bytes)} of earlier output cut (${cut.chunks} ${cut.chunks === 1 ? 'chunk' : 'chunks'}${cap})\n`;
}

export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = Number.isInteger(value) || value >= 100 ? value.toFixed(0) : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}
