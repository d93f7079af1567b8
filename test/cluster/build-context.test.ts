// Packing an image build's context (build-context.ts) from workspaces on disk, read back with a real
// tar parser: what the engine would receive, what .dockerignore keeps out (Docker's rules), and what a
// workspace's user cannot make the agent (root) read or hang on. Some tests need root (chown).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, chmodSync, linkSync, mkdirSync, renameSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tar from 'tar-stream';
import { BuildContextError, packBuildContext, type BuildContextRequest, type PackedContext } from '../../src/cluster/drivers/build-context.ts';
import { tempDir } from '../helpers/temp-dirs.ts';

const isRoot = process.getuid?.() === 0;

/** A file's content, or a symbolic link, or a file with a mode. */
type Node = string | { link: string } | { content: string; mode: number };

/** Writes `nodes` under `root`: a key ending in '/' is a directory. */
function tree(root: string, nodes: Record<string, Node>): string {
  for (const [rel, node] of Object.entries(nodes)) {
    const where = path.join(root, rel);
    mkdirSync(rel.endsWith('/') ? where : path.dirname(where), { recursive: true });
    if (rel.endsWith('/')) continue;
    if (typeof node === 'string') writeFileSync(where, node);
    else if ('link' in node) symlinkSync(node.link, where);
    else {
      writeFileSync(where, node.content);
      chmodSync(where, node.mode);
    }
  }
  return root;
}

interface Unpacked {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname: string | null;
  content: string;
}

/** Everything the stream holds, parsed as the engine would. */
async function unpack(packed: PackedContext): Promise<Unpacked[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of packed.stream) chunks.push(chunk as Buffer);
  return parse(Buffer.concat(chunks));
}

async function parse(bytes: Buffer): Promise<Unpacked[]> {
  const extract = tar.extract();
  extract.end(bytes);
  const entries: Unpacked[] = [];
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const part of entry) parts.push(part as Buffer);
    const { header } = entry;
    entries.push({
      name: header.name.replace(/\/$/, ''),
      type: header.type,
      mode: header.mode,
      uid: header.uid,
      gid: header.gid,
      mtime: header.mtime.getTime() / 1000,
      size: header.size,
      linkname: header.linkname || null,
      content: Buffer.concat(parts).toString(),
    });
  }
  return entries;
}

const names = (entries: Unpacked[]): string[] => entries.map((entry) => entry.name);

async function packed(request: BuildContextRequest): Promise<{ packed: PackedContext; entries: Unpacked[] }> {
  const result = await packBuildContext(request);
  const entries = await unpack(result);
  return { packed: result, entries };
}

async function refused(request: BuildContextRequest, message: RegExp): Promise<void> {
  await assert.rejects(packBuildContext(request), (err: unknown) => {
    assert.ok(err instanceof BuildContextError, `not a BuildContextError: ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('build context packing', function () {
  this.timeout(60_000);

  it('packs files, directories and symbolic links in byte order with their modes and mtimes, owned by 0:0', async () => {
    const root = tree(tempDir('build-context'), {
      Dockerfile: 'FROM scratch\nCOPY . /\n',
      'b.txt': 'b',
      'B.txt': 'big b',
      'a/z.txt': 'z',
      'a.txt': 'a',
      'bin/run.sh': { content: '#!/bin/sh\n', mode: 0o755 },
      secret: { content: 'nobody reads me', mode: 0 },
      'é.txt': 'accent',
      [`deep/${'d'.repeat(60)}/${'f'.repeat(80)}.txt`]: 'long name',
      link: { link: 'a/z.txt' },
      passwd: { link: '/etc/passwd' },
      'empty/': '',
      'zero.txt': '',
    });
    chmodSync(path.join(root, 'a'), 0o750);
    const mtime = new Date('2021-03-04T05:06:07.890Z');
    utimesSync(path.join(root, 'a.txt'), mtime, mtime);
    if (isRoot) chownSync(path.join(root, 'b.txt'), 1_900_000_123, 1_900_000_123); // a private uid (agent/private-uids.ts)

    const { packed: result, entries } = await packed({ root });

    assert.equal(result.dockerfile, 'Dockerfile');
    assert.deepEqual(names(entries), [
      'B.txt',
      'Dockerfile',
      'a',
      'a/z.txt',
      'a.txt',
      'b.txt',
      'bin',
      'bin/run.sh',
      'deep',
      `deep/${'d'.repeat(60)}`,
      `deep/${'d'.repeat(60)}/${'f'.repeat(80)}.txt`,
      'empty',
      'link',
      'passwd',
      'secret',
      'zero.txt',
      'é.txt',
    ]);
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    const entry = (name: string): Unpacked => byName.get(name)!;
    assert.deepEqual([entry('a').type, entry('a').mode], ['directory', 0o750]);
    assert.deepEqual([entry('bin/run.sh').mode, entry('bin/run.sh').content], [0o755, '#!/bin/sh\n']);
    assert.deepEqual([entry('secret').mode, entry('secret').content], [0, 'nobody reads me']);
    assert.equal(entry('a.txt').mtime, Math.floor(mtime.getTime() / 1000));
    assert.deepEqual([entry('link').type, entry('link').linkname, entry('link').size], ['symlink', 'a/z.txt', 0]);
    // A link is the engine's to resolve, inside the build: never read through here.
    assert.deepEqual([entry('passwd').type, entry('passwd').linkname, entry('passwd').content], ['symlink', '/etc/passwd', '']);
    assert.equal(entry('é.txt').content, 'accent');
    assert.equal(entry(`deep/${'d'.repeat(60)}/${'f'.repeat(80)}.txt`).content, 'long name');
    assert.equal(entry('zero.txt').size, 0);
    // The layer cache keys on owners: 0:0 whatever uid the run's workspace has.
    assert.deepEqual(new Set(entries.flatMap((e) => [e.uid, e.gid])), new Set([0]));

    const files = entries.filter((e) => e.type === 'file');
    assert.deepEqual(await result.done, { files: files.length, bytes: files.reduce((sum, e) => sum + e.size, 0) });
  });

  it('leaves out what .dockerignore ignores, keeps its exceptions, and still sends the Dockerfile and .dockerignore', async () => {
    const root = tree(tempDir('build-context'), {
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': '# build outputs\n*.log\n!keep.log\nnode_modules\nDockerfile\n.dockerignore\n/build/\n**/*.tmp\n',
      'app.log': 'noise',
      'keep.log': 'kept',
      'src/app.ts': 'code',
      'src/debug.log': 'a *.log matches the top level only',
      'src/x.tmp': 'tmp',
      'node_modules/pkg/index.js': 'dep',
      'build/out.js': 'built',
      'Build/out.js': 'patterns are case-sensitive',
    });
    const { entries } = await packed({ root });
    assert.deepEqual(names(entries), ['.dockerignore', 'Build', 'Build/out.js', 'Dockerfile', 'keep.log', 'src', 'src/app.ts', 'src/debug.log']);
  });

  it('enters an ignored directory only for an exception that starts with its path, as Docker does', async () => {
    const root = tree(tempDir('build-context'), {
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': 'docs\n!docs/keep.md\nvendor\n!**/LICENSE\n',
      'docs/keep.md': 'keep',
      'docs/other.md': 'other',
      'vendor/lib/LICENSE': 'Docker never looks inside vendor for **/LICENSE',
      LICENSE: 'top',
      'src/LICENSE': 'src',
    });
    const { entries } = await packed({ root });
    // docs/ itself stays out (it is ignored); only the exception inside it is sent.
    assert.deepEqual(names(entries), ['.dockerignore', 'Dockerfile', 'LICENSE', 'docs/keep.md', 'src', 'src/LICENSE']);
  });

  it('sends a Dockerfile from an ignored directory, and nothing else of it', async () => {
    const root = tree(tempDir('build-context'), {
      'app/.dockerignore': 'docker\n',
      'app/docker/Dockerfile': 'FROM scratch\n',
      'app/docker/notes.txt': 'ignored',
      'app/main.go': 'package main',
    });
    const { packed: result, entries } = await packed({ root, context: 'app', dockerfile: 'docker/Dockerfile' });
    assert.equal(result.dockerfile, 'docker/Dockerfile');
    assert.deepEqual(names(entries), ['.dockerignore', 'docker/Dockerfile', 'main.go']);
  });

  it('names the Dockerfile by its real path when it is a link inside the context', async () => {
    const root = tree(tempDir('build-context'), {
      'docker/prod.Dockerfile': 'FROM scratch\n',
      Dockerfile: { link: 'docker/prod.Dockerfile' },
    });
    const { packed: result, entries } = await packed({ root });
    assert.equal(result.dockerfile, 'docker/prod.Dockerfile');
    assert.equal(entries.find((e) => e.name === 'docker/prod.Dockerfile')?.content, 'FROM scratch\n');
  });

  it('reads patterns as Docker does: literal regexp characters, case-sensitive, no backtracking', async () => {
    const hostile = 'a'.repeat(40) + 'c'; // `(a+)+b` as a backtracking regexp: hours on this name
    const root = tree(tempDir('build-context'), {
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': '(a+)+b\nconstructor\ntoString\n*.LOG\nfoo.bar\n**/**/**/**/**/**/**/**/z\n',
      [hostile]: 'kept',
      '(a+)+b': 'ignored: the pattern is literal text',
      constructor: 'ignored',
      toString: 'ignored',
      'x.log': 'kept: *.LOG is another name',
      'foo.bar': 'ignored',
      'fooxbar': 'kept: a dot is a dot',
      [`${'q/'.repeat(30)}y`]: 'kept',
    });
    const started = Date.now();
    const { entries } = await packed({ root });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    const files = entries.filter((e) => e.type === 'file').map((e) => e.name);
    assert.deepEqual(files, ['.dockerignore', 'Dockerfile', hostile, 'fooxbar', `${'q/'.repeat(30)}y`, 'x.log']);
  });

  it('refuses a .dockerignore Docker refuses, naming its line', async () => {
    const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n', '.dockerignore': '# ok\nsrc\n[a-\n' });
    await refused({ root }, /^\.dockerignore line 3: syntax error in pattern "\[a-"$/);
    writeFileSync(path.join(root, '.dockerignore'), 'src\n!\n');
    await refused({ root }, /^\.dockerignore line 2: illegal exclusion pattern "!"$/);
    writeFileSync(path.join(root, '.dockerignore'), 'trailing\\');
    await refused({ root }, /line 1: syntax error in pattern/);
  });

  it('refuses a .dockerignore that is a symbolic link', async () => {
    const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n', '.dockerignore': { link: '/etc/passwd' } });
    await refused({ root }, /^\.dockerignore is a symbolic link/);
  });

  it('refuses a context that leaves the workspace by "..", an absolute path or a symbolic link', async () => {
    const outside = tree(tempDir('build-context-outside'), { Dockerfile: 'FROM scratch\n', 'secret.txt': 'not yours' });
    const root = tree(tempDir('build-context'), {
      Dockerfile: 'FROM scratch\n',
      'src/app/Dockerfile': 'FROM scratch\n',
      escape: { link: outside },
      app: { link: 'src/app' },
    });
    for (const context of ['..', '../other', 'src/../../other', outside]) {
      await refused({ root, context }, /^the build context .* leaves the workspace/);
    }
    await refused({ root, context: 'escape' }, /^the build context escape leaves the workspace$/);
    await refused({ root, context: 'src/../escape' }, /^the build context escape leaves the workspace$/);
    // A link that stays inside is followed like any path to the context.
    const { entries } = await packed({ root, context: 'app' });
    assert.deepEqual(names(entries), ['Dockerfile']);
  });

  it('refuses a Dockerfile outside the context, even through a link, or one that is not a file', async () => {
    const root = tree(tempDir('build-context'), {
      Dockerfile: 'FROM scratch\n',
      'app/main.go': 'package main',
      'app/up': { link: '../Dockerfile' },
      'app/passwd': { link: '/etc/passwd' },
      'app/dir/': '',
    });
    await refused({ root, context: 'app', dockerfile: '../Dockerfile' }, /^the Dockerfile \.\.\/Dockerfile is outside the build context app$/);
    await refused({ root, context: 'app', dockerfile: 'up' }, /^the Dockerfile up is outside the build context app$/);
    await refused({ root, context: 'app', dockerfile: 'passwd' }, /^the Dockerfile passwd is outside the build context app$/);
    await refused({ root, context: 'app', dockerfile: '/etc/passwd' }, /^the Dockerfile \/etc\/passwd leaves the workspace/);
    await refused({ root, context: 'app', dockerfile: '../../Dockerfile' }, /leaves the workspace/);
    await refused({ root, context: 'app', dockerfile: 'dir' }, /^the Dockerfile dir is not a regular file$/);
  });

  it('says which Dockerfile or context is missing', async () => {
    const root = tree(tempDir('build-context'), { 'app/main.go': 'package main' });
    await refused({ root, context: 'app' }, /^no Dockerfile at app\/Dockerfile$/);
    await refused({ root, context: 'app', dockerfile: 'build/Dockerfile' }, /^no Dockerfile at app\/build\/Dockerfile$/);
    await refused({ root, context: 'nope' }, /^no build context at nope$/);
    await refused({ root, context: 'app/main.go' }, /^the build context app\/main\.go is not a directory$/);
  });

  it('skips FIFOs and sockets without opening them', async () => {
    const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n', 'data/a.txt': 'a' });
    execFileSync('mkfifo', [path.join(root, 'data/fifo')]); // opened for reading, it would block until a writer comes
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(root, 'data/sock'), resolve));
    try {
      const { packed: result, entries } = await packed({ root });
      assert.deepEqual(names(entries), ['Dockerfile', 'data', 'data/a.txt']);
      assert.deepEqual(await result.done, { files: 2, bytes: 'FROM scratch\n'.length + 1 });
    } finally {
      server.close();
    }
  });

  it('refuses a hard link to a file the workspace user does not own, and packs one to their own', async function () {
    if (!isRoot) this.skip();
    const user = 4242;
    const outside = tempDir('build-context-outside');
    writeFileSync(path.join(outside, 'shadow'), 'root:secret\n', { mode: 0o600 });
    chownSync(path.join(outside, 'shadow'), 4343, 4343); // someone else's, unreadable to the user
    writeFileSync(path.join(outside, 'mine'), 'my own data\n');
    chownSync(path.join(outside, 'mine'), user, user);

    const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n', '.dockerignore': 'ignored-*\n' });
    chownSync(root, user, user); // the workspace is its user's
    linkSync(path.join(outside, 'mine'), path.join(root, 'mine'));
    const { entries } = await packed({ root });
    assert.equal(entries.find((e) => e.name === 'mine')?.content, 'my own data\n');

    // Ignored, it is never read: no reason to refuse.
    linkSync(path.join(outside, 'shadow'), path.join(root, 'ignored-shadow'));
    await packed({ root });

    mkdirSync(path.join(root, 'sub'));
    linkSync(path.join(outside, 'shadow'), path.join(root, 'sub/stolen'));
    await refused({ root }, /^sub\/stolen is a hard link to a file the workspace's user does not own$/);
  });

  it('refuses a name that is not UTF-8', async () => {
    const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n', 'dir/': '' });
    writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'dir') + '/'), Buffer.from([0x66, 0xff])]), 'x');
    await refused({ root }, /^the directory dir holds a name that is not UTF-8/);
  });

  describe('while the stream is read', () => {
    /** Reads until `bytes` arrived, runs `meddle`, then reads the rest: the bytes, and the error if any. */
    async function readMeddling(result: PackedContext, bytes: number, meddle: () => void): Promise<{ data: Buffer; error: unknown }> {
      const chunks: Buffer[] = [];
      let received = 0;
      let meddled = false;
      try {
        for await (const chunk of result.stream) {
          chunks.push(chunk as Buffer);
          received += (chunk as Buffer).length;
          if (!meddled && received >= bytes) {
            meddled = true;
            meddle();
          }
        }
      } catch (error) {
        return { data: Buffer.concat(chunks), error };
      }
      return { data: Buffer.concat(chunks), error: null };
    }

    it('fails the stream when a file shrinks while it is read, and cuts one that grows at the size sent', async () => {
      const size = 32 * 1024 * 1024;
      const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n' });
      writeFileSync(path.join(root, 'big'), Buffer.alloc(size, 1));

      const shrinking = await packBuildContext({ root });
      const shrunk = await readMeddling(shrinking, 1024 * 1024, () => truncateSync(path.join(root, 'big'), 0));
      assert.match(String(shrunk.error), /big shrank while the build context was packed/);
      await assert.rejects(shrinking.done, (err: unknown) => err instanceof BuildContextError && /big shrank/.test(err.message));

      writeFileSync(path.join(root, 'big'), Buffer.alloc(size, 1));
      const growing = await packBuildContext({ root });
      const grown = await readMeddling(growing, 1024 * 1024, () => appendFileSync(path.join(root, 'big'), Buffer.alloc(1024 * 1024, 2)));
      assert.equal(grown.error, null);
      const entries = await parse(grown.data);
      const big = entries.find((e) => e.name === 'big')!;
      assert.equal(big.size, size);
      assert.ok(!big.content.includes('\u0002'));
      assert.deepEqual(await growing.done, { files: 2, bytes: size + 'FROM scratch\n'.length });
    });

    it('stops packing when the engine goes away (the stream destroyed)', async () => {
      const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n', 'z/last': 'never sent' });
      writeFileSync(path.join(root, 'big'), Buffer.alloc(16 * 1024 * 1024));
      const result = await packBuildContext({ root });
      const read = await readMeddling(result, 256 * 1024, () => result.stream.destroy());
      assert.ok(read.data.length < 1024 * 1024);
      await assert.rejects(result.done); // settles: no walk left waiting on a reader that is gone
    });

    it('refuses a directory or file swapped after the walk for a link or a FIFO, reading nothing through it', async () => {
      const outside = tree(tempDir('build-context-outside'), { 'b/f': 'SECRET-THROUGH-DIR', shadow: 'SECRET-THROUGH-FILE' });
      const root = tree(tempDir('build-context'), { Dockerfile: 'FROM scratch\n', 'a/b/f': 'mine', 'z/x': 'mine too' });
      // Sorted before a/ and z/, a big file holds the walk back until the stream is read.
      writeFileSync(path.join(root, '0-big'), Buffer.alloc(8 * 1024 * 1024));

      const swappedDir = await packBuildContext({ root });
      const viaDir = await readMeddling(swappedDir, 64 * 1024, () => {
        renameSync(path.join(root, 'a'), path.join(root, 'a-moved'));
        symlinkSync(outside, path.join(root, 'a')); // a/b/f now reaches outside/b/f
      });
      assert.match(String(viaDir.error), /a\/b changed while the build context was packed/);
      assert.ok(!viaDir.data.includes('SECRET-THROUGH-DIR'));
      await assert.rejects(swappedDir.done, BuildContextError);
      execFileSync('rm', ['-rf', path.join(root, 'a'), path.join(root, 'a-moved')]);

      const swappedFile = await packBuildContext({ root });
      const viaFile = await readMeddling(swappedFile, 64 * 1024, () => {
        execFileSync('rm', [path.join(root, 'z/x')]);
        symlinkSync(path.join(outside, 'shadow'), path.join(root, 'z/x'));
      });
      assert.match(String(viaFile.error), /z\/x changed while the build context was packed/);
      assert.ok(!viaFile.data.includes('SECRET-THROUGH-FILE'));

      execFileSync('rm', [path.join(root, 'z/x')]);
      writeFileSync(path.join(root, 'z/x'), 'mine again');
      const fifo = await packBuildContext({ root });
      const viaFifo = await readMeddling(fifo, 64 * 1024, () => {
        execFileSync('rm', [path.join(root, 'z/x')]);
        execFileSync('mkfifo', [path.join(root, 'z/x')]); // opened without O_NONBLOCK, it would wait for a writer forever
      });
      assert.match(String(viaFifo.error), /z\/x changed while the build context was packed/);
    });
  });
});
