// Trees that are created and deleted all day (an agent's task sandboxes and CI workspaces) and trees
// that grow beside them (the server's git mirrors) are asked to live in block groups of their own:
// ext4's Orlov allocator treats a directory flagged "top of a directory hierarchy" (`chattr +T`) like
// the root, spreading its new subdirectories over the groups with the most free inodes, and the files
// in them follow their directory.
//
// Why it matters: ext4 without a journal will not reuse an inode for 60 s after it was freed (300 s
// while its inode table block is dirty), and every inode it allocates walks the group's bitmap past
// those freed inodes, looking each one up (fs/ext4/ialloc.c, recently_deleted). Unspread, a run's
// workspace (~50 inodes) is created in the very group where the previous runs' workspaces were just
// deleted: on this project's CI machine, after a few thousand deletions, creating a file cost ~1 ms
// instead of ~40 µs, and the clone step's ~50 files took most of the webhook → first step budget
// (bench/README.md, CI). With a journal, or on another filesystem, nothing is skipped and the flag
// only spreads the trees, which are unrelated to each other anyway.
import { execFile } from 'node:child_process';

/** What became of the request for one directory. */
export type SpreadOutcome = { spread: true } | { spread: false; reason: string };

/**
 * Flags `dir` so that its new subdirectories are spread over the disk's block groups. Best effort:
 * a filesystem without the flag (tmpfs, xfs, btrfs, overlay) or a machine without `chattr`
 * (e2fsprogs) leaves the directory as it was, and the reason is returned for the log.
 */
export function spreadNewSubdirectories(dir: string): Promise<SpreadOutcome> {
  return new Promise((resolve) => {
    // `--` so that a directory whose name starts with a dash is not taken for an option.
    execFile('chattr', ['+T', '--', dir], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve({ spread: true });
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'chattr is not installed (e2fsprogs)' : stderr.trim().split('\n')[0] || err.message;
      resolve({ spread: false, reason });
    });
  });
}
