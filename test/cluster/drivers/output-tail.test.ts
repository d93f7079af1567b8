import assert from 'node:assert/strict';
import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tailOutput } from '../../../src/cluster/drivers/output-tail.ts';
import { collect, tempRoot, text } from './exec-helpers.ts';

describe('tailOutput', () => {
  let root: Awaited<ReturnType<typeof tempRoot>>;
  beforeEach(async () => (root = await tempRoot()));
  afterEach(() => root.remove());

  it('follows files as they grow and ends after `finished` once they are drained', async () => {
    const out = path.join(root.dir, 'stdout');
    const err = path.join(root.dir, 'stderr');
    await writeFile(out, 'a');
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const sources = [
      { stream: 'stdout' as const, path: out },
      { stream: 'stderr' as const, path: err }, // created later
    ];
    const readers = [collect(tailOutput(sources, finished, { pollMs: 10 })), collect(tailOutput(sources, finished, { pollMs: 10 }))];
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(out, 'b');
    await writeFile(err, 'x');
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(out, 'c'); // written just before the end: must still be read
    finish();
    for (const chunks of await Promise.all(readers)) {
      assert.equal(text(chunks, 'stdout'), 'abc');
      assert.equal(text(chunks, 'stderr'), 'x');
    }
  });

  // A short task (a CI step running `true`) often ends while the reader's pass is still opening its
  // files: the end must not wait out a whole poll interval (it cost such steps 50 ms).
  it('ends at once when `finished` settles in the middle of a pass that found nothing', async () => {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const stream = tailOutput([{ stream: 'stdout', path: path.join(root.dir, 'stdout') }], finished, { pollMs: 60_000 });
    const ended = new Promise((r) => stream.on('end', () => r('ended')));
    stream.on('data', () => undefined); // the first pass starts on the next tick and waits in open()...
    process.nextTick(finish); // ...when this tick settles `finished`
    const outcome = await Promise.race([ended, new Promise((r) => setTimeout(() => r('still polling'), 5_000))]);
    assert.equal(outcome, 'ended');
  });

  it('reads large files in chunks with backpressure', async () => {
    const out = path.join(root.dir, 'stdout');
    const big = Buffer.alloc(1024 * 1024, 'z');
    await writeFile(out, big);
    const chunks = await collect(tailOutput([{ stream: 'stdout', path: out }], Promise.resolve(), { chunkSize: 4096 }));
    assert.equal(chunks.length, 256);
    assert.equal(text(chunks, 'stdout'), big.toString());
  });

  it('can be destroyed before the end', async () => {
    const stream = tailOutput([{ stream: 'stdout', path: path.join(root.dir, 'none') }], new Promise(() => undefined));
    stream.resume();
    await new Promise((r) => setTimeout(r, 30));
    stream.destroy();
    await new Promise((r) => stream.on('close', r));
  });
});
