// Directories whose new subdirectories ext4 should spread over its block groups (chattr +T): the
// agent's sandboxes and workspaces roots and the server's mirrors root. Why: bench/README.md, CI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { GitMirror } from '../../src/ci/workspace/git-mirror.ts';
import { spreadNewSubdirectories } from '../../src/shared/spread-directories.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

/** The filesystem type of `dir` as stat names it: ext4 reports "ext2/ext3". */
const filesystemOf = (dir: string): string => execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
/** Whether lsattr shows the "top of directory hierarchy" flag on `dir`. */
const flagged = (dir: string): boolean => /^\S*T\S*\s/.test(execFileSync('lsattr', ['-d', dir], { encoding: 'utf8' }));

describe('spreading per-task directories over the disk', function () {
  this.timeout(60_000);
  const dir = tempDir('spread');
  const started: Started[] = [];

  after(async () => {
    await Promise.all(started.map((p) => p.stop()));
    killAll();
  });

  beforeEach(function () {
    // The flag is ext4's (the filesystem of this project's machines); elsewhere there is nothing to see.
    if (filesystemOf(dir) !== 'ext2/ext3') this.skip();
  });

  it('flags a directory on ext4, and leaves a new one unflagged until asked', async () => {
    const plain = path.join(dir, 'plain');
    const asked = path.join(dir, 'asked');
    mkdirSync(plain);
    mkdirSync(asked);
    assert.deepEqual(await spreadNewSubdirectories(asked), { spread: true });
    assert.equal(flagged(asked), true);
    assert.equal(flagged(plain), false);
  });

  it('flags the git mirrors\' root when the first mirror is made', async () => {
    const origin = path.join(dir, 'origin.git');
    execFileSync('git', ['init', '--quiet', '--bare', origin]);
    const root = path.join(dir, 'mirrors');
    const mirror = new GitMirror(root, path.join(dir, 'mirror.key'));
    // An empty repository has no main branch: the fetch fails, after the mirror was made.
    await assert.rejects(mirror.fetch(`file://${origin}`, 'refs/heads/main'), /git fetch failed/);
    assert.equal(flagged(root), true);
  });

  it('flags the agent\'s sandboxes and workspaces roots when it starts', async () => {
    const dataDir = path.join(dir, 'server');
    const server = await startGantry(
      ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    started.push(server);
    const agentDir = path.join(dataDir, 'agent');
    await waitFor('the local agent\'s roots flagged', async () => {
      try {
        return flagged(path.join(agentDir, 'sandboxes')) && flagged(path.join(agentDir, 'workspaces'));
      } catch {
        return false; // not created yet
      }
    });
  });
});

describe('spreading on a filesystem without the flag', () => {
  it('says why and leaves the directory as it was (tmpfs)', async function () {
    const shm = '/dev/shm';
    if (filesystemOf(shm) !== 'tmpfs') this.skip();
    const scratch = path.join(shm, `gantry-spread-${process.pid}`);
    mkdirSync(scratch);
    try {
      const outcome = await spreadNewSubdirectories(scratch);
      assert.equal(outcome.spread, false);
      assert.match((outcome as { reason: string }).reason, /not supported|Inappropriate ioctl/i);
    } finally {
      execFileSync('rmdir', [scratch]);
    }
  });
});
