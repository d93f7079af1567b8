import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { BlobStore } from '../../../src/registry/storage/blob-store.ts';
import { digestOf } from '../../../src/registry/storage/digest.ts';
import { BlobUnknown, DigestInvalid, RangeNotSatisfiable, SizeInvalid, UploadIdInvalid } from '../../../src/registry/storage/errors.ts';
import { blobFiles, failingStream, readAll, removeRoot, streamOf, tempRoot, treeOf, uploadFiles } from './fixtures.ts';

const hexOf = (digest: string): string => digest.slice('sha256:'.length);

/** Content whose sha256 starts with `prefix` (two hex characters): ~256 tries. */
function contentWithPrefix(prefix: string, label: string): string {
  for (let i = 0; ; i++) {
    const content = `${label} #${i}`;
    if (hexOf(digestOf(content)).startsWith(prefix)) return content;
  }
}

describe('registry storage: BlobStore', () => {
  let root: string;
  let store: BlobStore;

  beforeEach(async () => {
    root = await tempRoot();
    store = new BlobStore(root);
  });
  afterEach(async () => removeRoot(root));

  describe('put', () => {
    it('stores a blob with the right digest at its flat content address, byte-exact', async () => {
      const content = Buffer.from('layer one, with some bytes \x00\xff in it', 'latin1');
      const digest = digestOf(content);
      const stored = await store.put(streamOf(content.subarray(0, 10), content.subarray(10)), { digest, size: content.length });
      assert.deepEqual(stored, { digest, size: content.length, created: true });
      const file = path.join(root, 'blobs', 'sha256', hexOf(digest).slice(0, 2), hexOf(digest));
      assert.deepEqual(await readFile(file), content);
      assert.deepEqual(await readAll(await store.get(digest)), content);
      assert.deepEqual(await store.stat(digest), { size: content.length });
      assert.equal(await store.has(digest), true);
      // One file for the blob, nothing else per blob, and no temporary file left.
      assert.deepEqual(await treeOf(root), ['blobs', 'blobs/sha256', `blobs/sha256/${hexOf(digest).slice(0, 2)}`, path.relative(root, file), 'uploads'].sort());
    });

    it('stores the empty blob and sha512 blobs', async () => {
      assert.deepEqual(await store.put(streamOf(), { digest: digestOf(''), size: 0 }), { digest: digestOf(''), size: 0, created: true });
      assert.deepEqual(await readAll(await store.get(digestOf(''))), Buffer.alloc(0));
      const d512 = digestOf('big hash', 'sha512');
      await store.put(streamOf('big hash'), { digest: d512 });
      assert.equal((await readAll(await store.get(d512))).toString(), 'big hash');
      assert.equal(existsSync(path.join(root, 'blobs', 'sha512', d512.slice(7, 9), d512.slice(7))), true);
    });

    it('refuses content whose digest does not match: nothing visible, temporary file gone', async () => {
      const claimed = digestOf('what the client said');
      await assert.rejects(store.put(streamOf('what the client sent'), { digest: claimed }), (err: unknown) => {
        assert.ok(err instanceof DigestInvalid);
        assert.match(err.message, new RegExp(`${digestOf('what the client sent')}, not ${claimed}`));
        return true;
      });
      assert.equal(await store.has(claimed), false);
      assert.equal(await store.has(digestOf('what the client sent')), false);
      assert.deepEqual(await blobFiles(root), []);
      assert.deepEqual(await uploadFiles(root), []);
    });

    it('refuses content of the wrong size even when the digest matches', async () => {
      const digest = digestOf('twelve bytes');
      for (const size of [11, 13, 0]) {
        await assert.rejects(store.put(streamOf('twelve bytes'), { digest, size }), (err: unknown) => {
          assert.ok(err instanceof SizeInvalid);
          assert.deepEqual([err.expected, err.actual], [size, 12]);
          return true;
        });
      }
      assert.equal(await store.has(digest), false);
      assert.deepEqual(await blobFiles(root), []);
      assert.deepEqual(await uploadFiles(root), []);
    });

    it('leaves nothing when the client goes away mid-stream', async () => {
      const digest = digestOf('abcdef');
      await assert.rejects(store.put(failingStream('abc'), { digest }), /client went away/);
      assert.equal(await store.has(digest), false);
      assert.deepEqual(await uploadFiles(root), []);
    });

    it('lets concurrent puts of the same content all succeed with one file', async () => {
      const parts = ['part one / ', 'part two / ', 'part three'];
      const digest = digestOf(parts.join(''));
      const results = await Promise.all(Array.from({ length: 8 }, () => store.put(streamOf(...parts), { digest, size: 32 })));
      assert.equal(results.filter((r) => r.created).length, 1, 'exactly one put created the blob');
      for (const r of results) assert.deepEqual({ digest: r.digest, size: r.size }, { digest, size: 32 });
      assert.deepEqual(await blobFiles(root), [`blobs/sha256/${hexOf(digest).slice(0, 2)}/${hexOf(digest)}`]);
      assert.deepEqual(await uploadFiles(root), []);
      assert.equal((await readAll(await store.get(digest))).toString(), parts.join(''));
      // A later put of the same content is not an error either.
      assert.equal((await store.put(streamOf(...parts), { digest })).created, false);
    });

    it('costs exactly one inode per blob, plus only the shared fan-out directories', async () => {
      const count = async (): Promise<number> => (await treeOf(root)).length;
      // A fresh root: blobs/, blobs/sha256/, uploads/ appear with the first put.
      const layers = ['layer 1', 'layer 2', 'layer 3'].map((l) => Buffer.from(l.repeat(1000)));
      const before = await count();
      for (const layer of layers) await store.put(streamOf(layer), { digest: digestOf(layer), size: layer.length });
      const prefixes = new Set(layers.map((l) => hexOf(digestOf(l)).slice(0, 2)));
      // Measured: 0 → 9 = 3 blob files + 3 fan-out dirs (f7, b3, 92) + blobs, blobs/sha256, uploads.
      assert.equal(prefixes.size, 3);
      assert.equal((await count()) - before, 9);
      assert.equal((await store.usage()).inodesUsed, 9);

      // A second 3-layer image on the now warm store: its layers land in existing fan-out dirs,
      // its config and manifest in one new one. Measured: 9 → 15 = 5 blob files + 1 fan-out dir.
      const warm = await count();
      const image = [...['a', 'b', 'c'].map((x, i) => contentWithPrefix([...prefixes][i] as string, `layer ${x}`)), contentWithPrefix('00', 'config'), contentWithPrefix('00', 'manifest')];
      for (const blob of image) await store.put(streamOf(blob), { digest: digestOf(blob) });
      assert.equal((await count()) - warm, 6);
      assert.deepEqual(await uploadFiles(root), []);
      const usage = await store.usage();
      assert.deepEqual({ blobs: usage.blobs, uploads: usage.uploads, inodes: usage.inodesUsed }, { blobs: 8, uploads: 0, inodes: 15 });
      assert.equal(usage.blobBytes, layers.reduce((n, l) => n + l.length, 0) + image.reduce((n, b) => n + b.length, 0));
    });
  });

  describe('get with ranges', () => {
    const content = '0123456789';
    const digest = digestOf(content);
    beforeEach(async () => void (await store.put(streamOf(content), { digest })));

    const table: Array<[string, { start: number; end: number }, string]> = [
      ['the first byte', { start: 0, end: 0 }, '0'],
      ['the middle', { start: 3, end: 6 }, '3456'],
      ['the last byte', { start: 9, end: 9 }, '9'],
      ['an end past the blob (cut to the last byte)', { start: 5, end: 100 }, '56789'],
      ['everything', { start: 0, end: 9 }, content],
    ];
    for (const [name, range, expected] of table) {
      it(`reads ${name}`, async () => {
        assert.equal((await readAll(await store.get(digest, range))).toString(), expected);
        const opened = await store.open(digest, range);
        assert.deepEqual([opened.size, opened.start, opened.end], [10, range.start, range.start + expected.length - 1]);
        await readAll(opened.stream);
      });
    }

    const unsatisfiable: Array<[string, { start: number; end: number }]> = [
      ['a start at the size', { start: 10, end: 10 }],
      ['a start past the size', { start: 11, end: 20 }],
      ['an end before the start', { start: 5, end: 4 }],
      ['a negative start', { start: -1, end: 3 }],
      ['a fractional start', { start: 1.5, end: 3 }],
    ];
    for (const [name, range] of unsatisfiable) {
      it(`refuses ${name} with RangeNotSatisfiable`, async () => {
        await assert.rejects(store.get(digest, range), (err: unknown) => {
          assert.ok(err instanceof RangeNotSatisfiable);
          assert.equal(err.status, 416);
          assert.equal(err.size, 10);
          return true;
        });
      });
    }

    it('refuses any range of the empty blob, and reads it whole', async () => {
      await store.put(streamOf(), { digest: digestOf('') });
      await assert.rejects(store.get(digestOf(''), { start: 0, end: 0 }), RangeNotSatisfiable);
      assert.equal((await readAll(await store.get(digestOf('')))).length, 0);
    });

    it('answers BlobUnknown and null for a blob it does not have', async () => {
      const missing = digestOf('never stored');
      await assert.rejects(store.get(missing), BlobUnknown);
      await assert.rejects(store.get(missing, { start: 0, end: 1 }), BlobUnknown);
      assert.equal(await store.stat(missing), null);
      assert.equal(await store.has(missing), false);
    });
  });

  it('deletes a blob, once, keeping the shared fan-out directory', async () => {
    const digest = digestOf('short-lived');
    await store.put(streamOf('short-lived'), { digest });
    assert.equal(await store.delete(digest), true);
    assert.equal(await store.delete(digest), false);
    assert.equal(await store.has(digest), false);
    await assert.rejects(store.get(digest), BlobUnknown);
    assert.deepEqual(await blobFiles(root), []);
    assert.equal(existsSync(path.join(root, 'blobs', 'sha256', hexOf(digest).slice(0, 2))), true);
    // And it can be pushed again.
    assert.equal((await store.put(streamOf('short-lived'), { digest })).created, true);
  });

  describe('path traversal', () => {
    const digests = ['sha256:../../../../etc/passwd', `sha256:%2e%2e%2f${'a'.repeat(55)}`, '/etc/passwd', `../sha256:${'a'.repeat(64)}`, `sha256:${'../'.repeat(21)}a`];
    for (const digest of digests) {
      it(`refuses the digest ${JSON.stringify(digest)} everywhere`, async () => {
        await assert.rejects(store.put(streamOf('x'), { digest }), DigestInvalid);
        await assert.rejects(store.get(digest), DigestInvalid);
        await assert.rejects(store.stat(digest), DigestInvalid);
        await assert.rejects(store.has(digest), DigestInvalid);
        await assert.rejects(store.delete(digest), DigestInvalid);
        const id = await store.startUpload();
        await assert.rejects(store.finishUpload(id, digest), DigestInvalid);
      });
    }

    const ids = ['../escape', '..', '.', '%2e%2e', '%2e%2e%2fescape', '/etc/passwd', 'a/b', 'a\\b', '', 'a\0b', 'x'.repeat(129)];
    for (const id of ids) {
      it(`refuses the upload id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 10)}...` : id)} everywhere`, async () => {
        await assert.rejects(store.appendUpload(id, streamOf('x')), UploadIdInvalid);
        await assert.rejects(store.uploadSize(id), UploadIdInvalid);
        await assert.rejects(store.finishUpload(id, digestOf('x'), streamOf('x')), UploadIdInvalid);
        await assert.rejects(store.cancelUpload(id), UploadIdInvalid);
      });
    }

    it('never writes outside its root', async () => {
      const parent = path.dirname(root);
      const siblings = await readdir(parent);
      await assert.rejects(store.appendUpload('../escape', streamOf('x')), UploadIdInvalid);
      await assert.rejects(store.put(streamOf('x'), { digest: 'sha256:../../escape' }), DigestInvalid);
      assert.deepEqual(await readdir(parent), siblings);
    });
  });
});
