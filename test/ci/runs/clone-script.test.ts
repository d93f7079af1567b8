// The clone step's script, run with /bin/sh and the real git CLI against a bare repository over file://.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MIRROR_VARIABLE, cloneScript, originRemoteConfig } from '../../../src/ci/runs/step-plan.ts';
import { GitMirror } from '../../../src/ci/workspace/git-mirror.ts';
import { tempDir } from '../../helpers/processes.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

/** `git count-objects -v` as numbers: what the workspace holds itself (loose + packed). */
function ownObjects(workspace: string): number {
  const fields = Object.fromEntries(git(workspace, 'count-objects', '-v').split('\n').map((line) => line.split(': ') as [string, string]));
  return Number(fields.count) + Number(fields['in-pack']);
}

describe('CI clone step script', () => {
  const dir = tempDir('clone-script');
  const bare = path.join(dir, 'origin.git');
  const url = `file://${bare}`;
  const mirror = new GitMirror(path.join(dir, 'mirrors'), path.join(dir, 'mirror.key'));
  let mirrorDir = '';
  let commit = '';

  before(async () => {
    const work = path.join(dir, 'work');
    mkdirSync(work);
    git(dir, 'init', '--quiet', '--bare', bare);
    git(work, 'init', '--quiet', '-b', 'main');
    for (let i = 0; i < 20; i++) writeFileSync(path.join(work, `file-${i}.txt`), `content ${i}\n`.repeat(100));
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'the commit to build');
    commit = git(work, 'rev-parse', 'HEAD');
    git(work, 'push', '--quiet', bare, 'main');
    await mirror.fetch(url, 'refs/heads/main'); // what the server did to plan the run
    mirrorDir = await mirror.directoryOf(url);
  });

  function runClone(name: string, env: Record<string, string>, at = { cloneUrl: url, commit: () => commit }): { workspace: string; output: string } {
    const workspace = path.join(dir, name);
    mkdirSync(workspace);
    const output = execFileSync('/bin/sh', ['-c', cloneScript(at.cloneUrl, 'refs/heads/main', at.commit())], {
      cwd: workspace,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workspace, GIT_TERMINAL_PROMPT: '0', ...env },
      encoding: 'utf8',
    });
    return { workspace, output };
  }

  it('checks out the pushed commit, borrowing the objects of the server mirror on its host', () => {
    const { workspace, output } = runClone('with-mirror', { [MIRROR_VARIABLE]: mirrorDir });
    assert.equal(git(workspace, 'rev-parse', 'HEAD'), commit);
    assert.equal(readFileSync(path.join(workspace, 'file-7.txt'), 'utf8'), 'content 7\n'.repeat(100));
    assert.match(output, /\+ objects shared with the server mirror of the repository/);
    assert.equal(readFileSync(path.join(workspace, '.git/objects/info/alternates'), 'utf8').trim(), path.join(mirrorDir, 'objects'));
    assert.equal(ownObjects(workspace), 0, 'nothing copied: every object comes from the mirror');
    assert.equal(git(workspace, 'remote', 'get-url', 'origin'), url, 'origin is still the repository, not the mirror');
    assert.match(output, new RegExp(`\\+ refs/heads/main at ${commit} is in the server mirror: nothing to fetch\n${commit} the commit to build\n`));
    assert.doesNotMatch(output, /\+ git fetch/);
    assert.equal(git(workspace, 'status', '--porcelain'), '', 'a clean work tree at the commit');
  });

  it('needs nothing from the origin when the mirror holds the commit', () => {
    const gone = `file://${path.join(dir, 'moved-away.git')}`;
    const { workspace } = runClone('origin-gone', { [MIRROR_VARIABLE]: mirrorDir }, { cloneUrl: gone, commit: () => commit });
    assert.equal(git(workspace, 'rev-parse', 'HEAD'), commit);
    assert.equal(readFileSync(path.join(workspace, 'file-3.txt'), 'utf8'), 'content 3\n'.repeat(100));
  });

  it('fetches a commit the mirror does not hold yet, borrowing what it does', () => {
    const work = path.join(dir, 'work');
    writeFileSync(path.join(work, 'later.txt'), 'pushed after the mirror fetched\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'a later commit');
    const later = git(work, 'rev-parse', 'HEAD');
    git(work, 'push', '--quiet', bare, 'main');
    const { workspace, output } = runClone('later-commit', { [MIRROR_VARIABLE]: mirrorDir }, { cloneUrl: url, commit: () => later });
    assert.equal(git(workspace, 'rev-parse', 'HEAD'), later);
    assert.match(output, /\+ git fetch origin refs\/heads\/main\n/);
    assert.ok(ownObjects(workspace) < 22, 'only the new objects were copied; the rest came from the mirror');
  });

  it('copies the objects as usual where the mirror is not (a remote agent)', () => {
    const { workspace, output } = runClone('elsewhere', { [MIRROR_VARIABLE]: path.join(dir, 'no-such-mirror.git') });
    assert.equal(git(workspace, 'rev-parse', 'HEAD'), commit);
    assert.doesNotMatch(output, /objects shared/);
    assert.equal(existsSync(path.join(workspace, '.git/objects/info/alternates')), false);
    assert.ok(ownObjects(workspace) >= 22, 'the commit, its tree and 20 blobs fetched into the workspace');
  });

  it('writes the origin remote as git itself reads it, quotes and backslashes included', () => {
    const odd = `${url}?a="b"\\c;#d`;
    const workspace = path.join(dir, 'remote-config');
    mkdirSync(workspace);
    git(workspace, 'init', '--quiet');
    writeFileSync(path.join(workspace, '.git/config'), readFileSync(path.join(workspace, '.git/config'), 'utf8') + originRemoteConfig(odd));
    assert.equal(git(workspace, 'remote', 'get-url', 'origin'), odd);
    assert.equal(git(workspace, 'config', 'remote.origin.fetch'), '+refs/heads/*:refs/remotes/origin/*');
    assert.throws(() => originRemoteConfig(`${url}\n[core]\n\tfsmonitor = evil`), /whitespace or control characters/);
  });

  it('clones without the variable at all', () => {
    const { workspace } = runClone('plain', {});
    assert.equal(git(workspace, 'rev-parse', 'HEAD'), commit);
    assert.ok(ownObjects(workspace) >= 22);
  });
});
