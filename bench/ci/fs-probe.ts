// How long creating a small file takes in a directory, right now: a clone step creates ~50 files
// (git init, the checkout) and each task a few more. On ext4 without a journal a create walks past
// every inode freed nearby in the last minutes, so after many deletions it costs 0.5–1 ms instead of
// 0.04 (this machine: bench/README.md, CI; Gantry spreads its per-task trees for that reason:
// src/shared/spread-directories.ts). Printed beside webhook → first step so runs can be compared.
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
