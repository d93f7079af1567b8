// The server's git mirror against a real bare repository over file://, built with the git CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GitMirror, checkCloneUrl } from '../../../src/ci/workspace/git-mirror.ts';
import { tempDir } from '../../helpers/processes.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

describe('CI git mirror', () => {
  const dir = tempDir('git-mirror');
  const work = path.join(dir, 'work');
  const bare = path.join(dir, 'origin.git');
  const url = `file://${bare}`;
  let first = '';
  let second = '';

  before(() => {
    mkdirSync(work);
    git(dir, 'init', '--quiet', '--bare', bare);
    git(work, 'init', '--quiet', '-b', 'main');
    writeFileSync(path.join(work, 'README.md'), 'hello\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'first');
    first = git(work, 'rev-parse', 'HEAD');
    mkdirSync(path.join(work, 'src'));
    writeFileSync(path.join(work, 'src', 'app.js'), 'console.log(1)\n');
    writeFileSync(path.join(work, '.gantry.yml'), 'name: app\nsteps:\n  - name: test\n    commands: [echo ok]\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'second');
    second = git(work, 'rev-parse', 'HEAD');
    git(work, 'push', '--quiet', bare, 'main');
  });

  it('fetches a branch and reads a file at a commit, or null when it has none', async () => {
    const mirror = new GitMirror(path.join(dir, 'mirrors'));
    await mirror.fetch(url, 'refs/heads/main');
    assert.equal(await mirror.resolve(url, 'refs/heads/main'), second);
    assert.match((await mirror.readFile(url, second, '.gantry.yml'))!, /name: app/);
    assert.equal(await mirror.readFile(url, first, '.gantry.yml'), null);
  });

  it('lists the paths a push changed, or null when the previous commit is unknown', async () => {
    const mirror = new GitMirror(path.join(dir, 'mirrors'));
    await mirror.fetch(url, 'refs/heads/main');
    assert.deepEqual((await mirror.changedPaths(url, first, second))?.sort(), ['.gantry.yml', 'src/app.js']);
    assert.equal(await mirror.changedPaths(url, '0'.repeat(40), second), null);
    assert.equal(await mirror.changedPaths(url, 'f'.repeat(40), second), null, 'a previous commit the mirror never saw');
    await assert.rejects(mirror.changedPaths(url, first, 'e'.repeat(40)), /git diff failed/, 'a pushed commit that is missing is an error, not "unknown"');
    assert.equal(await mirror.changedPaths(url, null, second), null);
  });

  it('forgets deleted branches and tags it holds, and nothing else', async () => {
    git(work, 'push', '--quiet', bare, 'main:refs/heads/feature/a', 'main:refs/heads/feature/b');
    git(work, 'tag', 'v1', first);
    git(work, 'push', '--quiet', bare, 'v1');
    const mirror = new GitMirror(path.join(dir, 'forgetting'));
    for (const ref of ['refs/heads/main', 'refs/heads/feature/a', 'refs/heads/feature/b', 'refs/tags/v1']) await mirror.fetch(url, ref);
    const mirrorRefs = () => git(mirror.directoryOf(url), 'for-each-ref', '--format=%(refname)').split('\n').sort();

    // refs/heads/feature would match feature/a and feature/b as a for-each-ref pattern: it is not held itself.
    const forgotten = await mirror.forget(url, ['refs/heads/feature/a', 'refs/tags/v1', 'refs/heads/never-fetched', 'refs/heads/feature', 'refs/heads/*', 'HEAD']);
    assert.equal(forgotten, 2);
    assert.deepEqual(mirrorRefs(), ['refs/heads/feature/b', 'refs/heads/main']);
    assert.equal(await mirror.forget(url, ['refs/heads/feature/a']), 0, 'forgetting again changes nothing');

    const elsewhere = 'file:///nonexistent/repository.git';
    assert.equal(await mirror.forget(elsewhere, ['refs/heads/main']), 0);
    assert.equal(existsSync(mirror.directoryOf(elsewhere)), false, 'no mirror is made to forget a ref in it');
  });

  it('refuses clone URLs that are not http(s), ssh, git or file', () => {
    for (const bad of ['ext::sh -c touch% /tmp/pwned', '--upload-pack=touch /tmp/x', '/etc/passwd', 'https://x.example/a b']) {
      assert.throws(() => checkCloneUrl(bad), /is not an http\(s\), ssh, git or file URL/, bad);
    }
    assert.equal(checkCloneUrl('git@github.com:owner/repo.git'), 'git@github.com:owner/repo.git');
  });
});
