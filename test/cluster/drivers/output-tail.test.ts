// tailOutput, the reader of an exec task's output files: it follows them as the task writes (a chunk
// as soon as it is written, not all at the end), reads what was written just before the end, ends at
// once when the task ends mid-pass, reads big files in chunks, and, destroyed before the end, stops
// reading and lets go of the files.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, readlink } from 'node:fs/promises';
import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { OutputChunk } from '../../../src/cluster/drivers/driver.ts';
import { tailOutput } from '../../../src/cluster/drivers/output-tail.ts';
import { eventually } from '../../helpers/manual-time.ts';
import { collect, tempRoot, text } from './exec-helpers.ts';

/** Resolves with the next chunk the stream gives. */
const nextChunk = (stream: Readable): Promise<OutputChunk> => once(stream, 'data').then(([chunk]) => chunk as OutputChunk);

/** The file descriptors this process holds open on `file` (Linux: /proc/self/fd). */
async function openDescriptors(file: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === file) count++;
  }
  return count;
}

describe('tailOutput', () => {
  let root: Awaited<ReturnType<typeof tempRoot>>;
  beforeEach(async () => (root = await tempRoot()));
  afterEach(() => root.remove());

  it('follows files as they grow, a chunk as soon as it is written, and ends after `finished` once they are drained', async () => {
    const out = path.join(root.dir, 'stdout');
    const err = path.join(root.dir, 'stderr');
    await writeFile(out, 'a');
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const sources = [
      { stream: 'stdout' as const, path: out },
      { stream: 'stderr' as const, path: err }, // created later
    ];
    const streams = [tailOutput(sources, finished, { pollMs: 10 }), tailOutput(sources, finished, { pollMs: 10 })];
    // Each chunk is waited for before the next write: read while the task still runs, not at its end.
    const firsts = streams.map(nextChunk);
    assert.deepEqual((await Promise.all(firsts)).map((c) => [c.stream, c.data.toString()]), [['stdout', 'a'], ['stdout', 'a']]);
    const seconds = streams.map(nextChunk);
    await appendFile(out, 'b');
    assert.deepEqual((await Promise.all(seconds)).map((c) => [c.stream, c.data.toString()]), [['stdout', 'b'], ['stdout', 'b']]);
    const thirds = streams.map(nextChunk);
    await writeFile(err, 'x');
    assert.deepEqual((await Promise.all(thirds)).map((c) => [c.stream, c.data.toString()]), [['stderr', 'x'], ['stderr', 'x']]);
    const rests = streams.map((stream) => collect(stream));
    await appendFile(out, 'c'); // written just before the end: must still be read
    finish();
    for (const chunks of await Promise.all(rests)) {
      assert.equal(text(chunks, 'stdout'), 'c');
      assert.equal(text(chunks, 'stderr'), '');
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

  it('stops reading and closes the files when destroyed before the end', async () => {
    const out = path.join(root.dir, 'stdout');
    await writeFile(out, 'a');
    const stream = tailOutput([{ stream: 'stdout', path: out }], new Promise(() => undefined), { pollMs: 10 });
    const chunks: string[] = [];
    const first = nextChunk(stream);
    stream.on('data', (chunk: OutputChunk) => chunks.push(chunk.data.toString()));
    await first;
    assert.equal(await openDescriptors(out), 1, 'the file is open while it is followed');

    stream.destroy();
    await once(stream, 'close'); // `finished` never settles: the destroy alone ends it
    // Its reading loop ends by closing the file: after that nothing reads it any more.
    await eventually('the file to be closed', async () => (await openDescriptors(out)) === 0);
    await appendFile(out, 'b');
    assert.deepEqual(chunks, ['a'], 'nothing read after the destroy');
    assert.equal(await openDescriptors(out), 0, 'not opened again');
  });
});
