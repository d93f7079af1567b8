// How long creating a small file takes on a filesystem, right now: a clone step creates ~50 files
// (git init, the checkout) and each task a few more, so on a machine where a create costs 0.5 ms
// instead of 0.05 (this one, at times: bench/README.md, CI) the webhook → first step figure moves by
// tens of milliseconds without Gantry changing. Printed beside that figure so runs can be compared.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { median } from './measure.ts';

/** Median µs to create, write and close one small file in a new directory under `parent`. */
export function fileCreateMicros(parent: string, files = 200): number {
  const dir = mkdtempSync(path.join(parent, 'fs-probe-'));
  const times: number[] = [];
  try {
    for (let i = 0; i < files; i++) {
      const started = performance.now();
      const fd = openSync(path.join(dir, `f${i}`), 'w');
      writeSync(fd, 'probe\n');
      closeSync(fd);
      times.push((performance.now() - started) * 1000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return median(times);
}
