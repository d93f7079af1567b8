import assert from 'node:assert/strict';
import { appendFile, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { completeLines, countLines } from '../../../src/cluster/master/log-lines.ts';
import { TaskLogStore, type ReadOptions, type StoredChunk } from '../../../src/cluster/master/task-logs.ts';
import type { OutputChunk } from '../../../src/cluster/drivers/driver.ts';
import { tempDir } from '../../helpers/processes.ts';

const out = (text: string): OutputChunk => ({ stream: 'stdout', data: Buffer.from(text) });
const err = (text: string): OutputChunk => ({ stream: 'stderr', data: Buffer.from(text) });
const done: ReadOptions = { follow: false, isComplete: async () => true };

async function readAll(store: TaskLogStore, taskId: string, options: Partial<ReadOptions> = {}): Promise<StoredChunk[]> {
  const chunks: StoredChunk[] = [];
  for await (const chunk of store.read(taskId, { ...done, ...options })) chunks.push(chunk);
  return chunks;
}

const shown = (chunks: readonly OutputChunk[]): string[] => chunks.map((c) => `${c.stream}:${c.data.toString('latin1')}`);

describe('task logs: the stored output of tasks', () => {
  describe('complete lines of a file, in bounded pieces', () => {
    const text = 'one\ntwo-is-longer-than-a-piece\n\nfour\npartial';
    let file: string;
    before(async () => {
      file = path.join(tempDir('log-lines'), 'f');
      await writeFile(file, text);
    });

    for (const pieceBytes of [1, 2, 3, 7, 64, 1024]) {
      it(`pieces of ${pieceBytes} bytes: every complete line with its end offset; the unfinished one is left`, async () => {
        const handle = await open(file, 'r');
        try {
          const lines: Array<[string, number]> = [];
          for await (const line of completeLines(handle, 0, text.length, pieceBytes)) lines.push([line.bytes.toString(), line.endOffset]);
          assert.deepEqual(lines, [['one', 4], ['two-is-longer-than-a-piece', 31], ['', 32], ['four', 37]]);
          const fromSecond: string[] = [];
          for await (const line of completeLines(handle, 4, 32, pieceBytes)) fromSecond.push(line.bytes.toString());
          assert.deepEqual(fromSecond, ['two-is-longer-than-a-piece', '']);
          assert.equal(await countLines(handle, pieceBytes), 4);
        } finally {
          await handle.close();
        }
      });
    }
  });

  describe('TaskLogStore', () => {
    let store: TaskLogStore;
    let dir: string;
    beforeEach(() => {
      dir = tempDir('task-logs');
      store = new TaskLogStore(dir);
    });

    it('reads back what was appended, with binary chunks, and the offset after each chunk', async () => {
      await store.append('t-1', 0, [out('hello\n'), err('oops'), { stream: 'stdout', data: Buffer.from([0xff, 0x00, 0x0a]) }]);
      const chunks = await readAll(store, 't-1');
      assert.deepEqual(shown(chunks), ['stdout:hello\n', 'stderr:oops', 'stdout:\xff\x00\n']);
      const file = await readFile(store.fileOf('t-1'));
      assert.deepEqual(
        chunks.map((c) => c.endOffset),
        [...file.entries()].filter(([, byte]) => byte === 0x0a).map(([i]) => i + 1),
        'each chunk ends where its line does',
      );
      assert.equal(chunks.at(-1)!.endOffset, file.length);
    });

    it('resuming from the offset after any chunk gives exactly the chunks after it', async () => {
      const all = [out('a'), err('b\n'), out('ccc'), out(''), err('dd')];
      await store.append('t-1', 0, all);
      const chunks = await readAll(store, 't-1');
      for (let i = 0; i < chunks.length; i++) {
        const rest = await readAll(store, 't-1', { fromOffset: chunks[i]!.endOffset });
        assert.deepEqual(shown(rest), shown(all.slice(i + 1)), `after chunk ${i}`);
      }
    });

    it('refuses an offset that is not where a chunk ends', async () => {
      await store.append('t-1', 0, [out('abc'), out('def')]);
      const first = (await readAll(store, 't-1'))[0]!;
      for (const bad of [1, first.endOffset - 1, first.endOffset + 1, 10_000, -1, 1.5, Number.NaN]) {
        await assert.rejects(readAll(store, 't-1', { fromOffset: bad }), /is not where a chunk/, `offset ${bad}`);
        await assert.rejects(store.checkResumeOffset('t-1', bad), /is not where a chunk/, `offset ${bad}`);
      }
      await assert.rejects(readAll(store, 't-none', { fromOffset: 5 }), /is not where a chunk/);
      assert.deepEqual(await readAll(store, 't-none'), [], 'no file yet: no output');
      await store.checkResumeOffset('t-1', first.endOffset);
    });

    it('a retried batch is not stored twice, even by a new store over the same files (counted in pieces)', async () => {
      await store.append('t-1', 0, [out('1'), out('2')]);
      await store.append('t-1', 1, [out('2'), out('3')]);
      const restarted = new TaskLogStore(dir);
      await restarted.append('t-1', 0, [out('1'), out('2'), out('3'), out('4')]);
      assert.deepEqual(shown(await readAll(restarted, 't-1')), ['stdout:1', 'stdout:2', 'stdout:3', 'stdout:4']);
      await assert.rejects(restarted.append('t-1', 9, [out('x')]), /would leave a gap/);
    });

    it('follows a task while it writes, across a line written in two parts, until it is complete', async () => {
      let complete = false;
      const seen: string[] = [];
      const reading = (async () => {
        for await (const chunk of store.read('t-1', { follow: true, isComplete: async () => complete })) seen.push(chunk.data.toString());
      })();
      await store.append('t-1', 0, [out('first')]);
      // A line half written (an append in progress) is not read until it is whole.
      await appendFile(store.fileOf('t-1'), '{"s":"stdout","d":"sec');
      store.notify('t-1');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, ['first']);
      await appendFile(store.fileOf('t-1'), 'ond"}\n');
      store.notify('t-1');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, ['first', 'second']);
      complete = true;
      store.notify('t-1');
      await reading;
    });

    it('a reader that is aborted stops', async () => {
      const abort = new AbortController();
      const reading = readAll(store, 't-1', { follow: true, isComplete: async () => false, signal: abort.signal });
      setTimeout(() => abort.abort(), 50);
      assert.deepEqual(await reading, []);
    });

    it('reads a big log piece by piece: 48 MiB of output with a bounded heap', async function () {
      this.timeout(60_000);
      const piece = Buffer.alloc(64 * 1024, 'x');
      const chunks = Array.from({ length: 16 }, () => ({ stream: 'stdout' as const, data: piece }));
      for (let batch = 0; batch < 48; batch++) await store.append('t-big', batch * 16, chunks);
      global.gc?.();
      const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      let bytes = 0;
      let peak = 0;
      for await (const chunk of store.read('t-big', done)) {
        bytes += chunk.data.length;
        if (bytes % (1024 * 1024) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before);
      }
      assert.equal(bytes, 48 * 1024 * 1024);
      // Reading the range at once (as read() used to) grew by 90-120 MiB here: the file's bytes, their
      // text, its lines. In pieces it is a piece and a chunk at a time, plus garbage not yet collected.
      assert.ok(peak < 40 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(1)} MiB while reading 48 MiB`);
    });
  });
});
