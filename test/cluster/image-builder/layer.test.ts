// The image builder's layer from a workspace on disk (layer-sources.ts, layer-tar.ts), read back with a
// real tar parser: what an engine unpacking it finds, that the bytes depend on the files' contents and
// execute bits only (not their mtimes, owners or other mode bits), and what a workspace's user cannot
// make the agent (root) read. Some tests need root (chown).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, linkSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Invalid } from '../../../src/shared/errors.ts';
import type { FileCopy } from '../../../src/cluster/image-builder/build-request.ts';
import { collectLayerEntries } from '../../../src/cluster/image-builder/layer-sources.ts';
import { writeLayer, type WrittenLayer } from '../../../src/cluster/image-builder/layer-tar.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';
import { readLayer, writeTree, type TarEntry } from './workspace-trees.ts';

const isRoot = process.getuid?.() === 0;
const EPOCH = 1_700_000_000;

async function layerOf(root: string, copies: FileCopy[], epoch = EPOCH): Promise<{ layer: WrittenLayer; bytes: Buffer; entries: TarEntry[] }> {
  const sources = await collectLayerEntries(root, copies);
  const file = path.join(tempDir('layer-out'), 'layer.tar.gz');
  const layer = await writeLayer(sources, epoch, file);
  const bytes = readFileSync(file);
  return { layer, bytes, entries: await readLayer(bytes) };
}

async function refused(root: string, copies: FileCopy[], message: RegExp): Promise<void> {
  await assert.rejects(
    (async () => {
      const sources = await collectLayerEntries(root, copies);
      await writeLayer(sources, EPOCH, path.join(tempDir('layer-out'), 'layer.tar.gz'));
    })(),
    (err: unknown) => {
      assert.ok(err instanceof Invalid, `not an Invalid: ${String(err)}`);
      assert.match(err.message, message);
      return true;
    },
  );
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('image builder layer', function () {
  this.timeout(60_000);

  it('holds the files under their destinations with their parents, in byte order, 0:0, fixed modes and mtime', async () => {
    const root = writeTree(tempDir('layer'), {
      'dist/server': { content: '#!/bin/sh\necho hi\n', mode: 0o750 },
      'dist/b.txt': 'b',
      'dist/B.txt': 'big b',
      'dist/a/z.txt': 'z',
      'dist/a.txt': 'a',
      'dist/secret': { content: 'only the owner reads me', mode: 0o600 },
      'dist/link': { link: 'a/z.txt' },
      'dist/passwd': { link: '/etc/passwd' },
      'dist/empty/': '',
      [`dist/${'d'.repeat(90)}/${'f'.repeat(90)}.txt`]: 'long name',
      'dist/é.txt': 'accent',
      'config/app.yaml': 'port: 8080\n',
    });
    const { layer, bytes, entries } = await layerOf(root, [
      { src: 'dist/', dest: '/srv/app' },
      { src: 'config/app.yaml', dest: '/etc/app/' },
    ]);

    assert.deepEqual(
      entries.map((e) => e.name),
      [
        'etc/',
        'etc/app/',
        'etc/app/app.yaml',
        'srv/',
        'srv/app/',
        'srv/app/B.txt',
        'srv/app/a/',
        'srv/app/a.txt',
        'srv/app/a/z.txt',
        'srv/app/b.txt',
        `srv/app/${'d'.repeat(90)}/`,
        `srv/app/${'d'.repeat(90)}/${'f'.repeat(90)}.txt`,
        'srv/app/empty/',
        'srv/app/link',
        'srv/app/passwd',
        'srv/app/secret',
        'srv/app/server',
        'srv/app/é.txt',
      ],
      'byte order of the paths: "a.txt" (.) before "a/z.txt" (/), "é" (0xc3) last',
    );
    const byName = new Map(entries.map((e) => [e.name, e]));
    const entry = (name: string): TarEntry => byName.get(name)!;
    assert.deepEqual([entry('srv/app/server').mode, entry('srv/app/server').content], [0o755, '#!/bin/sh\necho hi\n'], 'any execute bit: 0755');
    assert.equal(entry('srv/app/secret').mode, 0o644);
    assert.equal(entry('srv/app/secret').content, 'only the owner reads me');
    assert.equal(entry('srv/app/a/').mode, 0o755);
    assert.deepEqual([entry('srv/app/passwd').type, entry('srv/app/passwd').linkname, entry('srv/app/passwd').content], ['symlink', '/etc/passwd', ''], 'a link stays a link, never followed');
    assert.equal(entry('srv/app/link').linkname, 'a/z.txt');
    assert.equal(entry(`srv/app/${'d'.repeat(90)}/${'f'.repeat(90)}.txt`).content, 'long name');
    for (const e of entries) {
      assert.deepEqual([e.uid, e.gid, e.uname, e.gname, e.mtime], [0, 0, '', '', EPOCH], e.name);
    }
    assert.equal(layer.files, 9);

    // The gzip header: no name, mtime 0. The tar: no time records in the pax headers of long names.
    assert.equal(bytes.readUInt8(3) & 0x08, 0, 'no FNAME flag');
    assert.equal(bytes.readUInt32LE(4), 0, 'gzip mtime 0');
    const tarBytes = gunzipSync(bytes);
    assert.equal(sha256(tarBytes), layer.diffId);
    assert.equal(sha256(bytes), layer.digest);
    assert.equal(bytes.length, layer.size);
    const text = tarBytes.toString('latin1');
    assert.ok(text.includes(' path=srv/app/'), 'the long and non-ASCII names went into pax path records');
    for (const record of ['mtime=', 'atime=', 'ctime=', 'uname=', 'gname=']) assert.ok(!text.includes(record), `no ${record} record`);
  });

  it('is the same bytes for the same files whatever their mtimes, owners and non-execute mode bits; not for other contents', async () => {
    const nodes = { 'dist/app.js': 'console.log(1)\n', 'dist/bin/run': { content: '#!/bin/sh\n', mode: 0o755 }, 'dist/lib/x.js': 'x\n' };
    const first = writeTree(tempDir('layer-a'), nodes);
    const second = writeTree(tempDir('layer-b'), nodes);
    utimesSync(path.join(second, 'dist/app.js'), new Date('2001-01-01'), new Date('2001-01-01'));
    utimesSync(path.join(second, 'dist/lib'), new Date('2002-02-02'), new Date('2002-02-02'));
    chmodSync(path.join(second, 'dist/app.js'), 0o600);
    chmodSync(path.join(second, 'dist/bin/run'), 0o700);
    chmodSync(path.join(second, 'dist/lib'), 0o700);
    if (isRoot) chownSync(path.join(second, 'dist/app.js'), 1_900_000_123, 1_900_000_123);
    const copies = [{ src: 'dist', dest: '/app' }];
    const a = await layerOf(first, copies);
    const b = await layerOf(second, copies);
    assert.deepEqual([b.layer.digest, b.layer.diffId], [a.layer.digest, a.layer.diffId]);
    assert.ok(a.bytes.equals(b.bytes));

    writeFileSync(path.join(second, 'dist/app.js'), 'console.log(2)\n');
    const changed = await layerOf(second, copies);
    assert.notEqual(changed.layer.digest, a.layer.digest);
    chmodSync(path.join(first, 'dist/app.js'), 0o744);
    assert.notEqual((await layerOf(first, copies)).layer.digest, a.layer.digest, 'an execute bit is part of the layer');
    assert.notEqual((await layerOf(second, copies, EPOCH + 1)).layer.digest, changed.layer.digest, 'so is the epoch');
  });

  it('puts a file into a directory destination by its name, or at a file destination under that name', async () => {
    const root = writeTree(tempDir('layer'), { 'out/tool': { content: 'ELF', mode: 0o755 }, 'README.md': 'read me' });
    const { entries } = await layerOf(root, [
      { src: 'out/tool', dest: '/usr/local/bin/renamed' },
      { src: 'README.md', dest: '/' },
      { src: './out/tool', dest: '/opt/' },
    ]);
    assert.deepEqual(
      entries.map((e) => [e.name, e.type]),
      [
        ['README.md', 'file'],
        ['opt/', 'directory'],
        ['opt/tool', 'file'],
        ['usr/', 'directory'],
        ['usr/local/', 'directory'],
        ['usr/local/bin/', 'directory'],
        ['usr/local/bin/renamed', 'file'],
      ],
    );
  });

  it('follows a source that is a link inside the workspace, as COPY does', async () => {
    const root = writeTree(tempDir('layer'), { 'build/out/app.js': 'app', current: { link: 'build/out' } });
    const { entries } = await layerOf(root, [{ src: 'current', dest: '/app' }]);
    assert.deepEqual(entries.map((e) => e.name), ['app/', 'app/app.js']);
  });

  it('refuses sources that leave the workspace, whatever way they are written', async () => {
    const outside = writeTree(tempDir('layer-outside'), { 'secret.txt': 'not yours' });
    const root = writeTree(tempDir('layer'), {
      'dist/app.js': 'app',
      etc: { link: '/etc' },
      'dist/up': { link: '../..' },
      away: { link: outside },
      'dist/into': { link: `${outside}/secret.txt` },
    });
    await refused(root, [{ src: '../x', dest: '/x' }], /"\.\.\/x" must be a path inside the workspace, relative and without "\.\."/);
    await refused(root, [{ src: 'dist/../../x', dest: '/x' }], /without "\.\."/);
    await refused(root, [{ src: '/etc/passwd', dest: '/x' }], /must be a path inside the workspace/);
    await refused(root, [{ src: 'etc', dest: '/x' }], /etc leads outside the workspace \(through a symbolic link\): refused/);
    await refused(root, [{ src: 'etc/passwd', dest: '/x' }], /etc\/passwd leads outside the workspace/);
    await refused(root, [{ src: 'away/secret.txt', dest: '/x' }], /leads outside the workspace/);
    await refused(root, [{ src: 'dist/up', dest: '/x' }], /dist\/up leads outside the workspace/);
    await refused(root, [{ src: 'dist/into', dest: '/x' }], /dist\/into leads outside the workspace/);
    await refused(root, [{ src: 'dist', dest: 'app' }], /destination "app" must be an absolute path/);
    await refused(root, [{ src: 'dist', dest: '/app/../etc' }], /without "\.\."/);
    await refused(root, [{ src: 'missing', dest: '/x' }], /missing does not exist in the workspace/);

    // Below a source, the same links are stored as links: nothing of outside is read.
    const { entries } = await layerOf(root, [{ src: 'dist', dest: '/app' }]);
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.linkname]),
      [
        ['app/', 'directory', null],
        ['app/app.js', 'file', null],
        ['app/into', 'symlink', `${outside}/secret.txt`],
        ['app/up', 'symlink', '../..'],
      ],
    );
  });

  it('refuses to read through a directory swapped for a link after the walk', async () => {
    const outside = writeTree(tempDir('layer-outside'), { 'app.js': 'not yours' });
    const root = writeTree(tempDir('layer'), { 'dist/app.js': 'app' });
    const sources = await collectLayerEntries(root, [{ src: 'dist', dest: '/app' }]);
    renameSync(path.join(root, 'dist'), path.join(root, 'dist.old'));
    symlinkSync(outside, path.join(root, 'dist'));
    await assert.rejects(writeLayer(sources, EPOCH, path.join(tempDir('layer-out'), 'layer.tar.gz')), (err: unknown) => {
      assert.ok(err instanceof Invalid);
      assert.match(err.message, /dist\/app\.js changed while the layer was written/);
      return true;
    });
  });

  it('refuses a file and a directory at the same path; a later file replaces an earlier one', async () => {
    const root = writeTree(tempDir('layer'), { 'a/conf': 'first', 'b/conf': 'second', 'c/conf/x': 'dir' });
    await refused(root, [{ src: 'a/conf', dest: '/etc/conf' }, { src: 'c', dest: '/etc' }], /\/etc\/conf would be both a directory and a file/);
    await refused(root, [{ src: 'a/conf', dest: '/etc' }, { src: 'b/conf', dest: '/etc/x' }], /\/etc would be both a directory and a file/);
    const { entries } = await layerOf(root, [{ src: 'a/conf', dest: '/etc/conf' }, { src: 'b/conf', dest: '/etc/conf' }]);
    assert.deepEqual(entries.map((e) => [e.name, e.content]), [['etc/', ''], ['etc/conf', 'second']]);
  });

  it('skips a FIFO instead of blocking on it', async () => {
    const root = writeTree(tempDir('layer'), { 'dist/app.js': 'app' });
    execFileSync('mkfifo', [path.join(root, 'dist', 'pipe')]);
    const { entries } = await layerOf(root, [{ src: 'dist', dest: '/app' }]);
    assert.deepEqual(entries.map((e) => e.name), ['app/', 'app/app.js']);
    await refused(root, [{ src: 'dist/pipe', dest: '/pipe' }], /dist\/pipe is neither a regular file nor a directory/);
  });

  it('refuses a hard link to a file the workspace user does not own', async function () {
    if (!isRoot) this.skip();
    const root = writeTree(tempDir('layer'), { 'dist/app.js': 'app' });
    chownSync(root, 1_900_000_321, 1_900_000_321);
    const foreign = path.join(tempDir('layer-foreign'), 'shadow');
    writeFileSync(foreign, 'root only\n', { mode: 0o600 });
    linkSync(foreign, path.join(root, 'dist', 'shadow'));
    await refused(root, [{ src: 'dist', dest: '/app' }], /dist\/shadow is a hard link to a file the workspace's user does not own: refused/);
  });

  it('copies the workspace as it is on another machine to the same layer', async () => {
    const root = writeTree(tempDir('layer'), { 'dist/index.html': '<h1>hi</h1>', 'dist/js/app.js': 'run()' });
    const copy = path.join(tempDir('layer-copy'), 'checkout');
    cpSync(root, copy, { recursive: true, preserveTimestamps: false });
    const copies = [{ src: 'dist', dest: '/usr/share/www' }];
    assert.equal((await layerOf(copy, copies)).layer.digest, (await layerOf(root, copies)).layer.digest);
  });
});
