import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rmdir, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlobStore } from '../../../src/registry/storage/blob-store.ts';
import { digestOf } from '../../../src/registry/storage/digest.ts';
import { InsufficientStorage } from '../../../src/registry/storage/errors.ts';
import { checkCapacity, INODES_PER_WRITE, type StatFs } from '../../../src/registry/storage/storage-guard.ts';
import { streamOf, uploadFiles } from './fixtures.ts';

const ROOT = '/var/lib/gantry/registry';
const MiB = 1024 * 1024;

/** A statfs that reports a filesystem with `freeBytes` (4 KiB blocks) and `freeInodes` of `totalInodes`. */
function fakeStatfs(freeBytes: number, freeInodes: number, totalInodes = 1_000_000): StatFs {
  return async () => ({ bsize: 4096, blocks: 1_000_000, bavail: freeBytes / 4096, files: totalInodes, ffree: freeInodes });
}

describe('registry storage: capacity guard', () => {
  const reserves = { minFreeBytes: 100 * MiB, minFreeInodes: 1000 };

  const table: Array<[string, StatFs, number, RegExp | null]> = [
    ['plenty of both', fakeStatfs(10_000 * MiB, 500_000), 0, null],
    ['inodes just enough for one write', fakeStatfs(10_000 * MiB, 1000 + INODES_PER_WRITE), 0, null],
    ['one inode short', fakeStatfs(10_000 * MiB, 1000 + INODES_PER_WRITE - 1), 0, /^not enough free inodes on \/var\/lib\/gantry\/registry: 1001 left, 1000 reserved$/],
    ['few inodes left', fakeStatfs(10_000 * MiB, 12), 0, /^not enough free inodes on \/var\/lib\/gantry\/registry: 12 left, 1000 reserved$/],
    ['no inode limit (btrfs reports 0 inodes)', fakeStatfs(10_000 * MiB, 0, 0), 0, null],
    ['bytes under the reserve', fakeStatfs(50 * MiB, 500_000), 0, /^not enough free space on \/var\/lib\/gantry\/registry: 50\.0 MiB left, 100\.0 MiB reserved$/],
    ['bytes enough before the upload', fakeStatfs(150 * MiB, 500_000), 10 * MiB, null],
    ['bytes not enough for the upload', fakeStatfs(150 * MiB, 500_000), 60 * MiB, /^not enough free space on .*: 150\.0 MiB left, 100\.0 MiB reserved, 60\.0 MiB incoming$/],
  ];
  for (const [name, fake, incoming, refusal] of table) {
    it(`${refusal ? 'refuses' : 'accepts'} with ${name}`, async () => {
      const check = checkCapacity(ROOT, reserves, incoming, fake);
      if (!refusal) {
        const capacity = await check;
        const s = await fake(ROOT);
        assert.deepEqual(capacity, { freeBytes: s.bavail * 4096, freeInodes: s.ffree, totalBytes: 4096 * 1_000_000, totalInodes: s.files });
        return;
      }
      await assert.rejects(check, (err: unknown) => {
        assert.ok(err instanceof InsufficientStorage, String(err));
        assert.equal(err.status, 507);
        assert.match(err.message, refusal);
        assert.equal(err.resource, /inodes/.test(err.message) ? 'inodes' : 'bytes');
        return true;
      });
    });
  }

  it('asks the nearest existing directory when the root does not exist yet', async () => {
    const asked: string[] = [];
    const fake: StatFs = async (p) => {
      asked.push(p);
      if (p !== '/var') throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return fakeStatfs(10_000 * MiB, 500_000)(p);
    };
    await checkCapacity('/var/lib/gantry/registry', reserves, 0, fake);
    assert.deepEqual(asked, ['/var/lib/gantry/registry', '/var/lib/gantry', '/var/lib', '/var']);
  });

  it('is reachable through the BlobStore with its root and an injected statfs', async () => {
    const store = new BlobStore(ROOT, { statfs: fakeStatfs(10_000 * MiB, 12) });
    await assert.rejects(store.checkCapacity(reserves), /not enough free inodes on \/var\/lib\/gantry\/registry: 12 left/);
  });

  describe('on a real tmpfs with 64 inodes', function () {
    let mountpoint = '';
    let mounted = false;

    before(async function () {
      if (process.getuid?.() !== 0) {
        console.log('      (skipped: mounting a tmpfs needs root; run the tests as root to check the guard on a real filesystem)');
        return this.skip();
      }
      mountpoint = await mkdtemp(path.join(os.tmpdir(), 'gantry-tmpfs-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,nr_inodes=64', 'tmpfs', mountpoint], { stdio: 'pipe' });
        mounted = true;
      } catch (err) {
        console.log(`      (skipped: could not mount a tmpfs: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`);
        return this.skip();
      }
    });

    after(async () => {
      if (mounted) execFileSync('umount', [mountpoint]);
      if (mountpoint) await rmdir(mountpoint).catch(() => undefined);
    });

    it('refuses before the inodes run out, with nothing half-written', async () => {
      const root = path.join(mountpoint, 'registry');
      const store = new BlobStore(root);
      const tmpfsReserves = { minFreeBytes: 64 * 1024, minFreeInodes: 8 };
      let stored = 0;
      let refusal: InsufficientStorage | null = null;
      for (let i = 0; i < 100 && !refusal; i++) {
        const content = `layer ${i}`;
        try {
          await store.checkCapacity(tmpfsReserves, content.length);
        } catch (err) {
          if (!(err instanceof InsufficientStorage)) throw err;
          refusal = err;
          break;
        }
        await store.put(streamOf(content), { digest: digestOf(content) }); // must never hit ENOSPC
        stored++;
      }
      assert.ok(refusal, 'the guard fired');
      assert.equal(refusal.resource, 'inodes');
      const free = (await statfs(mountpoint)).ffree;
      assert.match(refusal.message, new RegExp(`^not enough free inodes on ${root}: ${free} left, 8 reserved$`));
      assert.ok(free >= tmpfsReserves.minFreeInodes, `${free} inodes still free when it refused`);
      assert.ok(stored >= 20, `${stored} blobs stored before the refusal`);
      console.log(`      (tmpfs: ${stored} blobs stored, refused with ${free} inodes free)`);
      const usage = await store.usage();
      assert.equal(usage.blobs, stored);
      assert.deepEqual(await uploadFiles(root), []);
      // The reserve is real: the filesystem holds exactly the inodes statfs reported, then ENOSPC.
      let extra = 0;
      await assert.rejects(
        (async () => {
          for (;;) {
            await writeFile(path.join(mountpoint, `filler-${extra}`), '');
            extra++;
          }
        })(),
        /ENOSPC/,
      );
      assert.equal(extra, free);
    });
  });
});
