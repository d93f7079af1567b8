import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { BlobStore } from '../../../src/registry/storage/blob-store.ts';
import { waitFor } from '../../helpers/processes.ts';
import { digestOf } from '../../../src/registry/storage/digest.ts';
import { DigestInvalid, RangeInvalid, UploadUnknown } from '../../../src/registry/storage/errors.ts';
import { blobFiles, failingStream, readAll, removeRoot, streamOf, tempRoot, uploadFiles } from './fixtures.ts';

describe('registry storage: resumable uploads', () => {
  let root: string;
  let store: BlobStore;

  beforeEach(async () => {
    root = await tempRoot('uploads');
    store = new BlobStore(root);
  });
  afterEach(async () => removeRoot(root));

  it('takes chunks in order, refuses one out of order with RangeInvalid, and finishes', async () => {
    const id = await store.startUpload();
    assert.match(id, /^[A-Za-z0-9_-]+$/);
    assert.equal(await store.uploadSize(id), 0);
    assert.equal(await store.appendUpload(id, streamOf('abc'), { offset: 0 }), 3);
    const outOfOrder: Array<[string, number]> = [
      ['repeated', 0],
      ['overlapping', 2],
      ['with a gap', 4],
      ['far ahead', 1000],
    ];
    for (const [name, offset] of outOfOrder) {
      await assert.rejects(store.appendUpload(id, streamOf('zzz'), { offset }), (err: unknown) => {
        assert.ok(err instanceof RangeInvalid, `${name}: ${String(err)}`);
        assert.equal(err.status, 416);
        assert.deepEqual([err.offset, err.size], [offset, 3]);
        return true;
      });
    }
    assert.equal(await store.uploadSize(id), 3, 'a refused chunk changes nothing');
    assert.equal(await store.appendUpload(id, streamOf('def'), { offset: 3 }), 6);
    const stored = await store.finishUpload(id, digestOf('abcdefghi'), streamOf('ghi'));
    assert.deepEqual(stored, { digest: digestOf('abcdefghi'), size: 9, created: true });
    assert.equal((await readAll(await store.get(stored.digest))).toString(), 'abcdefghi');
    await assert.rejects(store.uploadSize(id), UploadUnknown);
    await assert.rejects(store.appendUpload(id, streamOf('x')), UploadUnknown);
    assert.deepEqual(await uploadFiles(root), []);
  });

  it('takes a streamed upload (no offsets) and serialises concurrent appends', async () => {
    const id = await store.startUpload();
    const parts = ['one ', 'two ', 'three ', 'four '];
    const sizes = await Promise.all(parts.map((part) => store.appendUpload(id, streamOf(part))));
    assert.deepEqual([...sizes].sort((a, b) => a - b), [4, 8, 14, 19]);
    const bytes = (await readFile(`${root}/uploads/${id}`)).toString();
    assert.deepEqual([...bytes.split(' ').filter(Boolean)].sort(), ['four', 'one', 'three', 'two']);
    assert.deepEqual(await store.finishUpload(id, digestOf(bytes)), { digest: digestOf(bytes), size: 19, created: true });
  });

  it('finishes an upload resumed by a new BlobStore on the same root (a restart)', async () => {
    const id = await store.startUpload();
    await store.appendUpload(id, streamOf('hello '), { offset: 0 });
    const restarted = new BlobStore(root);
    assert.equal(await restarted.uploadSize(id), 6);
    assert.equal(await restarted.appendUpload(id, streamOf('wor'), { offset: 6 }), 9);
    const stored = await restarted.finishUpload(id, digestOf('hello world'), streamOf('ld'));
    assert.deepEqual(stored, { digest: digestOf('hello world'), size: 11, created: true });
    assert.equal((await readAll(await restarted.get(stored.digest))).toString(), 'hello world');
    assert.deepEqual(await uploadFiles(root), []);
  });

  it('finishes with a sha512 digest (the file is hashed again)', async () => {
    const id = await store.startUpload();
    await store.appendUpload(id, streamOf('sha', '512'));
    const digest = digestOf('sha512', 'sha512');
    assert.deepEqual(await store.finishUpload(id, digest), { digest, size: 6, created: true });
  });

  it('keeps a consistent hash when a client goes away mid-chunk, and resumes from the kept size', async () => {
    const id = await store.startUpload();
    const big = Buffer.alloc(1.5 * 1024 * 1024, 7); // more than one write: part of it reaches the file
    await assert.rejects(store.appendUpload(id, failingStream(big.subarray(0, 1024 * 1024), big.subarray(1024 * 1024, 1300 * 1024))), /client went away/);
    const kept = await store.uploadSize(id);
    assert.ok(kept > 0 && kept < 1300 * 1024, `kept ${kept} bytes`);
    await store.appendUpload(id, streamOf(big.subarray(kept)), { offset: kept });
    const digest = `sha256:${createHash('sha256').update(big).digest('hex')}`;
    assert.deepEqual(await store.finishUpload(id, digest), { digest, size: big.length, created: true });
    assert.deepEqual(await readAll(await store.get(digest)), big);
  });

  it('cancels the upload when the final digest does not match: nothing stored', async () => {
    const id = await store.startUpload();
    await store.appendUpload(id, streamOf('actual bytes'));
    await assert.rejects(store.finishUpload(id, digestOf('claimed bytes')), DigestInvalid);
    assert.equal(await store.has(digestOf('claimed bytes')), false);
    assert.equal(await store.has(digestOf('actual bytes')), false);
    assert.deepEqual(await blobFiles(root), []);
    assert.deepEqual(await uploadFiles(root), []);
    await assert.rejects(store.uploadSize(id), UploadUnknown);
  });

  it('finishing into a blob that already exists is fine (created: false)', async () => {
    await store.put(streamOf('shared layer'), { digest: digestOf('shared layer') });
    const id = await store.startUpload();
    assert.deepEqual(await store.finishUpload(id, digestOf('shared layer'), streamOf('shared layer')), { digest: digestOf('shared layer'), size: 12, created: false });
    assert.deepEqual(await uploadFiles(root), []);
    assert.equal((await blobFiles(root)).length, 1);
  });

  it('lists uploads for GC and cancels them', async () => {
    let n = 0;
    const ids = new BlobStore(root, { newId: () => `upload-${++n}` });
    assert.deepEqual(await ids.listUploads(), []);
    const a = await ids.startUpload();
    const b = await ids.startUpload();
    await ids.appendUpload(b, streamOf('12345'));
    const listed = await ids.listUploads();
    assert.deepEqual(listed.map((u) => [u.id, u.size]).sort(), [['upload-1', 0], ['upload-2', 5]]);
    for (const u of listed) assert.ok(u.modifiedAt instanceof Date && Date.now() - u.modifiedAt.getTime() < 60_000);
    assert.equal(await ids.cancelUpload(a), true);
    assert.equal(await ids.cancelUpload(a), false);
    await assert.rejects(ids.appendUpload(a, streamOf('x')), UploadUnknown);
    assert.deepEqual((await ids.listUploads()).map((u) => u.id), ['upload-2']);
  });

  it('does not list for GC the file of a put being written (a collection with no grace took it from under the put)', async () => {
    let n = 0;
    const store = new BlobStore(root, { newId: () => `id-${++n}` });
    const source = new PassThrough();
    const put = store.put(source, { digest: digestOf('written slowly') });
    source.write('written ');
    await waitFor('the put\'s file', async () => (await uploadFiles(root)).includes('uploads/put-id-1'), 5_000);
    assert.deepEqual((await store.listUploads()).map((u) => u.id), [], 'the put\'s own file, while it writes');
    source.end('slowly');
    assert.equal((await put).digest, digestOf('written slowly'));
    assert.deepEqual(await uploadFiles(root), []);
  });

  it('rejects unknown uploads', async () => {
    await assert.rejects(store.appendUpload('no-such-upload', streamOf('x')), UploadUnknown);
    await assert.rejects(store.uploadSize('no-such-upload'), UploadUnknown);
    await assert.rejects(store.finishUpload('no-such-upload', digestOf('x')), UploadUnknown);
    assert.deepEqual(await uploadFiles(root), []);
  });
});
