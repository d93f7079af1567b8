// kill -9 of a process in the middle of a put or an upload: no partial blob may become visible, and
// an upload can be resumed by the next process from the size its file kept.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BlobStore } from '../../../src/registry/storage/blob-store.ts';
import { blobFiles, readAll, removeRoot, streamOf, tempRoot } from './fixtures.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MODULE = pathToFileURL(path.join(REPO, 'src/registry/storage/blob-store.ts')).href;
const MiB = 1024 * 1024;

// Writes 2 MiB of 0x01 bytes into a put or an upload and then hangs, waiting to be killed.
const CHILD = `
import { Readable } from 'node:stream';
import { BlobStore } from ${JSON.stringify(MODULE)};
const [root, mode] = process.argv.slice(2);
const store = new BlobStore(root);
const hanging = new Readable({ read() {} });
hanging.push(Buffer.alloc(${MiB}, 1));
hanging.push(Buffer.alloc(${MiB}, 1));
if (mode === 'put') {
  void store.put(hanging, { digest: 'sha256:${'ab'.repeat(32)}' });
} else {
  const id = await store.startUpload();
  void store.appendUpload(id, hanging, { offset: 0 });
}
setInterval(() => {}, 1000);
`;

async function killMidWrite(root: string, mode: 'put' | 'upload'): Promise<void> {
  const script = path.join(root, '..', `${path.basename(root)}-child.mts`);
  await writeFile(script, CHILD);
  const child = spawn(process.execPath, ['--import', 'tsx', script, root, mode], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const observer = new BlobStore(root);
  try {
    const deadline = Date.now() + 20_000;
    while (!(await observer.listUploads()).some((u) => u.size >= MiB)) {
      if (child.exitCode !== null) throw new Error(`the child exited early: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`no bytes written after 20 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
    await removeRoot(script);
  }
}

describe('registry storage: kill -9 mid-write', function () {
  this.timeout(60_000);
  let root: string;

  beforeEach(async () => void (root = await tempRoot('crash')));
  afterEach(async () => removeRoot(root));

  it('leaves no visible blob after a put is killed, only a temporary file for GC', async () => {
    await killMidWrite(root, 'put');
    const store = new BlobStore(root);
    assert.deepEqual(await blobFiles(root), []);
    assert.equal(await store.has(`sha256:${'ab'.repeat(32)}`), false);
    const left = await store.listUploads();
    assert.equal(left.length, 1);
    assert.ok(left[0]!.size >= MiB);
    assert.equal(await store.cancelUpload(left[0]!.id), true, 'GC can remove it');
  });

  it('resumes an upload after the process writing it was killed', async () => {
    await killMidWrite(root, 'upload');
    const store = new BlobStore(root);
    assert.deepEqual(await blobFiles(root), []);
    const [upload] = await store.listUploads();
    assert.ok(upload && upload.size >= MiB && upload.size <= 2 * MiB, `kept ${upload?.size} bytes`);
    const whole = Buffer.alloc(3 * MiB, 1);
    await store.appendUpload(upload.id, streamOf(whole.subarray(upload.size)), { offset: upload.size });
    const digest = `sha256:${createHash('sha256').update(whole).digest('hex')}`;
    assert.deepEqual(await store.finishUpload(upload.id, digest), { digest, size: 3 * MiB, created: true });
    assert.deepEqual(await readAll(await store.get(digest)), whole);
    assert.deepEqual(await store.listUploads(), []);
  });
});
