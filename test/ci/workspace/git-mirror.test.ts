// The server's git mirror against a real bare repository over file://, built with the git CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GitMirror, checkCloneUrl } from '../../../src/ci/workspace/git-mirror.ts';
import { tempDir } from '../../helpers/processes.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

describe('CI git mirror', () => {
  const dir = tempDir('git-mirror');
  const work = path.join(dir, 'work');
  const bare = path.join(dir, 'origin.git');
  const url = `file://${bare}`;
  const keyFile = path.join(dir, 'secrets', 'ci-mirror.key');
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
    const mirror = new GitMirror(path.join(dir, 'mirrors'), keyFile);
    await mirror.fetch(url, 'refs/heads/main');
    assert.equal(await mirror.resolve(url, 'refs/heads/main'), second);
    assert.match((await mirror.readFile(url, second, '.gantry.yml'))!, /name: app/);
    assert.equal(await mirror.readFile(url, first, '.gantry.yml'), null);
  });

  it('lists the paths a push changed, or null when the previous commit is unknown', async () => {
    const mirror = new GitMirror(path.join(dir, 'mirrors'), keyFile);
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
    const mirror = new GitMirror(path.join(dir, 'forgetting'), keyFile);
    for (const ref of ['refs/heads/main', 'refs/heads/feature/a', 'refs/heads/feature/b', 'refs/tags/v1']) await mirror.fetch(url, ref);
    const mirrorDir = await mirror.directoryOf(url);
    const mirrorRefs = () => git(mirrorDir, 'for-each-ref', '--format=%(refname)').split('\n').sort();

    // refs/heads/feature would match feature/a and feature/b as a for-each-ref pattern: it is not held itself.
    const forgotten = await mirror.forget(url, ['refs/heads/feature/a', 'refs/tags/v1', 'refs/heads/never-fetched', 'refs/heads/feature', 'refs/heads/*', 'HEAD']);
    assert.equal(forgotten, 2);
    assert.deepEqual(mirrorRefs(), ['refs/heads/feature/b', 'refs/heads/main']);
    assert.equal(await mirror.forget(url, ['refs/heads/feature/a']), 0, 'forgetting again changes nothing');

    const elsewhere = 'file:///nonexistent/repository.git';
    assert.equal(await mirror.forget(elsewhere, ['refs/heads/main']), 0);
    assert.equal(existsSync(await mirror.directoryOf(elsewhere)), false, 'no mirror is made to forget a ref in it');
  });

  it('names a mirror by an HMAC of its URL under a key made once and kept 0600 with the secrets', async () => {
    const root = path.join(dir, 'keyed');
    const mirror = new GitMirror(root, keyFile);
    await mirror.open();
    assert.match(readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(keyFile)).mode & 0o777, 0o700);
    const name = path.basename(await mirror.directoryOf(url));
    assert.match(name, /^[0-9a-f]{32}\.git$/);
    assert.notEqual(name, `${legacyName(url)}.git`, 'not what anyone can compute from the URL');
    assert.equal(await new GitMirror(root, keyFile).directoryOf(url), path.join(root, name), 'the same key, the same name');
    assert.notEqual(path.basename(await mirror.directoryOf(`${url}/other`)), name);
    const otherKey = path.join(dir, 'other-secrets', 'ci-mirror.key');
    assert.notEqual(path.basename(await new GitMirror(root, otherKey).directoryOf(url)), name, 'another key, another name');
    assert.notEqual(readFileSync(otherKey, 'utf8'), readFileSync(keyFile, 'utf8'), 'a random key each');

    const broken = path.join(dir, 'broken.key');
    writeFileSync(broken, 'not a key\n');
    await assert.rejects(new GitMirror(root, broken).open(), /broken\.key does not hold the CI mirrors' key \(64 hex digits\): remove it/);
  });

  it('makes a mirror readable by other users whatever the umask (core.sharedRepository)', async () => {
    const mirror = new GitMirror(path.join(dir, 'shared'), keyFile);
    await mirror.fetch(url, 'refs/heads/main');
    const mirrorDir = await mirror.directoryOf(url);
    assert.equal(git(mirrorDir, 'config', 'core.sharedRepository'), '0644');
    assert.equal(statSync(path.dirname(mirrorDir)).mode & 0o777, 0o700, 'the mirrors\' root is made closed (the server opens it when it embeds an agent)');
    for (const file of walk(path.join(mirrorDir, 'objects'))) assert.equal(statSync(file).mode & 0o444, 0o444, file);
  });

  it('moves a mirror made under its sha256 name to its keyed name at its first use, opened to other users', async () => {
    const root = path.join(dir, 'upgraded');
    mkdirSync(root);
    // As an earlier version made it, under a private umask.
    const legacy = path.join(root, `${legacyName(url)}.git`);
    execFileSync('sh', ['-c', 'umask 077 && git init --quiet --bare "$1" && git -C "$1" fetch --quiet --no-tags "$2" +refs/heads/main:refs/heads/main', 'sh', legacy, url]);
    assert.equal(statSync(path.join(legacy, 'objects')).mode & 0o777, 0o700);
    const { ino } = statSync(legacy);
    const objects = walk(path.join(legacy, 'objects')).map((file) => path.relative(legacy, file)).sort();

    const mirror = new GitMirror(root, keyFile);
    assert.equal(await mirror.resolve(url, 'refs/heads/main'), second, 'read from the moved mirror: nothing fetched');
    const mirrorDir = await mirror.directoryOf(url);
    assert.equal(existsSync(legacy), false);
    assert.deepEqual(readdirSync(root), [path.basename(mirrorDir)]);
    assert.equal(statSync(mirrorDir).ino, ino, 'moved, not made again');
    assert.deepEqual(walk(path.join(mirrorDir, 'objects')).map((file) => path.relative(mirrorDir, file)).sort(), objects, 'the same objects');
    assert.equal(git(mirrorDir, 'config', 'core.sharedRepository'), '0644');
    for (const file of walk(mirrorDir)) {
      const mode = statSync(file).mode;
      assert.equal(mode & 0o044, 0o044, `${file} readable by others`);
      if (statSync(file).isDirectory()) assert.equal(mode & 0o011, 0o011, `${file} searchable by others`);
    }
    await mirror.fetch(url, 'refs/heads/main');
    assert.equal(await mirror.resolve(url, 'refs/heads/main'), second);

    // forget() finds a mirror under its old name too.
    const another = new GitMirror(path.join(dir, 'upgraded-forget'), keyFile);
    const legacyToo = path.join(dir, 'upgraded-forget', `${legacyName(url)}.git`);
    execFileSync('sh', ['-c', 'git init --quiet --bare "$1" && git -C "$1" fetch --quiet --no-tags "$2" +refs/heads/main:refs/heads/gone', 'sh', legacyToo, url]);
    assert.equal(await another.forget(url, ['refs/heads/gone']), 1);
    assert.equal(existsSync(legacyToo), false);
  });

  it('refuses clone URLs that are not http(s), ssh, git or file', () => {
    for (const bad of ['ext::sh -c touch% /tmp/pwned', '--upload-pack=touch /tmp/x', '/etc/passwd', 'https://x.example/a b']) {
      assert.throws(() => checkCloneUrl(bad), /is not an http\(s\), ssh, git or file URL/, bad);
    }
    assert.equal(checkCloneUrl('git@github.com:owner/repo.git'), 'git@github.com:owner/repo.git');
  });
});

/** The name (without .git) mirrors had before they were keyed: sha256 of the clone URL, 24 hex digits. */
function legacyName(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 24);
}

/** Every file and directory under `dir`, `dir` included. */
function walk(dir: string): string[] {
  const found = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(full));
    else found.push(full);
  }
  return found;
}
