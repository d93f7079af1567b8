// Temporary directories for tests, removed when the test process exits. A full `npm test` makes
// thousands of them (stores, repositories, workspaces, sandboxes); left behind in /tmp over many runs
// they filled the filesystem's inode groups there until creating a file in a new directory under /tmp
// cost 0.4–1.2 ms instead of ~0.05 (bench/README.md, CI: the clone step writes ~50 files).
// GANTRY_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made = new Set<string>();

/** A new empty directory `$TMPDIR/gantry-PREFIX-XXXXXX`, removed with everything in it at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gantry-${prefix}-`));
  made.add(dir);
  return dir;
}

process.on('exit', () => {
  if (process.env.GANTRY_KEEP_TEST_DIRS === '1') return;
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A mount point a test left (EBUSY) or a file a killed server was still writing: its contents
      // are gone as far as they could be; the directory itself stays.
    }
  }
});
