// The blob store's own holds on digests (BlobStore.withBlobsHeld, put/finishUpload with a record step,
// mount, delete): what keeps online garbage collection from deleting a blob between its publication and
// its record, with real files in a temporary directory. The collector's side is withBlobsHeld exactly as
// gc/collector.ts calls it. Ordering is shown by a log, never by waiting: a hold granted at once starts
// its work within promise callbacks, which all run before any file-system call answers, so after one
// real stat a collector that was not kept waiting would already be in the log.
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BlobStore, DigestInvalid, digestOf, type HeldBlobs } from '../../../src/registry/storage/index.ts';
import { REPO } from '../../helpers/processes.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';
import { streamOf } from './fixtures.ts';

describe('registry storage: holds on digests (what garbage collection waits for)', () => {
  let root: string;
  let store: BlobStore;
  let log: string[];

  beforeEach(() => {
    root = tempDir('blob-holds');
    store = new BlobStore(root);
    log = [];
  });

  const fileOf = (digest: string): string => path.join(root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
  /** Whether the blob's file is there, asked of the file system itself (one real round trip). */
  const onDisk = (digest: string): Promise<boolean> => stat(fileOf(digest)).then(() => true, () => false);

  /** The collector's sweep of one digest, as gc/collector.ts does it: hold, then delete. */
  const collect = (digest: string): Promise<boolean> =>
    store.withBlobsHeld([digest], async (held) => {
      log.push('collector holds');
      return held.delete(digest);
    });

  it('a collection of the digest waits until a put has published the blob and recorded it', async () => {
    const digest = digestOf('layer pushed again');
    let collection: Promise<boolean> | undefined;
    const stored = await store.put(streamOf('layer pushed again'), { digest }, async (blob) => {
      log.push('published');
      collection = collect(digest);
      assert.equal(await onDisk(digest), true, 'the blob is there for the whole record step');
      log.push('recorded');
      assert.equal(blob.digest, digest);
    });
    assert.deepEqual(stored, { digest, size: 'layer pushed again'.length, created: true });
    assert.equal(await collection, true);
    assert.deepEqual(log, ['published', 'recorded', 'collector holds']);
    assert.equal(await onDisk(digest), false);
  });

  it('a collection of the digest waits until finishUpload has published the upload and recorded it', async () => {
    const digest = digestOf('chunk one, chunk two');
    const id = await store.startUpload();
    await store.appendUpload(id, streamOf('chunk one, '), { offset: 0 });
    let collection: Promise<boolean> | undefined;
    await store.finishUpload(id, digest, streamOf('chunk two'), async (blob) => {
      log.push('published');
      collection = collect(digest);
      assert.equal(await onDisk(digest), true, 'the blob is there for the whole record step');
      log.push('recorded');
      assert.equal(blob.size, 'chunk one, chunk two'.length);
    });
    assert.equal(await collection, true);
    assert.deepEqual(log, ['published', 'recorded', 'collector holds']);
  });

  it('a collection of the digest waits for a mount\'s check and link, and a manifest PUT\'s hold on what it references', async () => {
    const layer = digestOf('base layer');
    await store.put(streamOf('base layer'), { digest: layer });
    let collection: Promise<boolean> | undefined;
    const mounted = await store.mount(layer, async () => {
      log.push('mount checks');
      collection = collect(layer);
      assert.equal(await onDisk(layer), true);
      log.push('mount links');
      return true;
    });
    assert.equal(mounted, true);
    assert.equal(await collection, true);
    assert.deepEqual(log, ['mount checks', 'mount links', 'collector holds']);

    // A manifest PUT holds its own digest and every digest it references while it checks and records.
    log = [];
    const config = digestOf('config');
    await store.put(streamOf('config'), { digest: config });
    const manifest = Buffer.from(`{"config":"${config}"}`);
    await store.withBlobsHeld([digestOf(manifest), config], async (held) => {
      assert.equal(await held.has(config), true, 'the check');
      collection = collect(config);
      await held.put(streamOf(manifest), { digest: digestOf(manifest) });
      log.push('manifest recorded');
    });
    assert.equal(await collection, true);
    assert.deepEqual(log, ['manifest recorded', 'collector holds']);
  });

  it('a put of a digest the collector holds starts after its delete and stores the blob anew (created, not found there)', async () => {
    const digest = digestOf('collected, then pushed again');
    await store.put(streamOf('collected, then pushed again'), { digest });
    let push: Promise<unknown> | undefined;
    await store.withBlobsHeld([digest], async (held) => {
      push = store.put(streamOf('collected, then pushed again'), { digest }, async (blob) => {
        log.push(`push recorded (created: ${blob.created})`);
      });
      assert.equal(await onDisk(digest), true);
      log.push('collector deletes');
      assert.equal(await held.delete(digest), true);
    });
    await push;
    assert.deepEqual(log, ['collector deletes', 'push recorded (created: true)']);
    assert.equal((await readFile(fileOf(digest))).toString(), 'collected, then pushed again', 'what was recorded is there');
  });

  it('a HEAD-style check holds off the collector: the answer stays true until the hold ends', async () => {
    const digest = digestOf('checked while collected');
    await store.put(streamOf('checked while collected'), { digest });
    let collection: Promise<boolean> | undefined;
    const size = await store.withBlobsHeld([digest], async (held) => {
      collection = collect(digest);
      const seen = await held.stat(digest);
      assert.equal(await onDisk(digest), true);
      log.push('reported');
      return seen?.size;
    });
    assert.equal(size, 'checked while collected'.length);
    assert.equal(await collection, true);
    assert.deepEqual(log, ['reported', 'collector holds']);
  });

  it('holds on other digests do not wait: a put of another blob finishes inside a hold', async () => {
    const held = digestOf('held');
    const other = digestOf('other');
    await store.withBlobsHeld([held], async () => {
      const stored = await store.put(streamOf('other'), { digest: other }, async () => {
        log.push('other recorded');
      });
      assert.equal(stored.created, true);
      assert.equal(await store.delete(other), true);
      log.push('hold ends');
    });
    assert.deepEqual(log, ['other recorded', 'hold ends']);
  });

  it('a hold answers only for the digests it holds, only while it lasts, and refuses invalid digests before holding', async () => {
    const mine = digestOf('mine');
    const theirs = digestOf('theirs');
    await store.put(streamOf('theirs'), { digest: theirs });
    let kept: HeldBlobs | undefined;
    await store.withBlobsHeld([mine], async (held) => {
      kept = held;
      await assert.rejects(held.stat(theirs), /is not held/);
      await assert.rejects(held.delete(theirs), /is not held/);
      await assert.rejects(held.put(streamOf('theirs'), { digest: theirs }), /is not held/);
      assert.equal(await held.has(mine), false);
    });
    await assert.rejects(kept!.has(mine), /hold that has ended/);
    assert.equal(await onDisk(theirs), true);
    await assert.rejects(store.withBlobsHeld(['sha256:../../etc/passwd'], async () => 'never'), DigestInvalid);
  });

  it('a mount runs nothing for a blob that is not there', async () => {
    let ran = false;
    assert.equal(
      await store.mount(digestOf('never pushed'), async () => {
        ran = true;
        return true;
      }),
      false,
    );
    assert.equal(ran, false);
  });

  it('only the blob store takes digest locks: handlers and the collector ask it for holds', async () => {
    const src = path.join(REPO, 'src');
    const importers: string[] = [];
    for (const entry of await readdir(src, { recursive: true })) {
      if (!entry.endsWith('.ts')) continue;
      if (/from '[^']*digest-locks(\.ts)?'/.test(await readFile(path.join(src, entry), 'utf8'))) importers.push(entry.split(path.sep).join('/'));
    }
    assert.deepEqual(importers, ['registry/storage/blob-store.ts']);
  });
});
