// Temporary directories for tests, removed when the test process exits. A full `npm test` makes
// thousands of them (stores, repositories, workspaces, sandboxes); never removed, the runs of the
// past sessions had left 268,000 inodes under /tmp on the development machine (bench/README.md, CI,
// on what file creation costs there). GANTRY_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
//
// Each is open to every user as /tmp is (1777: sticky, so only an entry's owner removes it), not 0700
// as mkdtemp makes it: tasks run as an unprivileged user (gantry-task) and must reach the data
// directories and sandboxes tests put here, and write what a test asks them to, as they would in /tmp.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made = new Set<string>();

/** A new empty directory `$TMPDIR/gantry-PREFIX-XXXXXX`, removed with everything in it at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gantry-${prefix}-`));
  chmodSync(dir, 0o1777);
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
