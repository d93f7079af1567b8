import assert from 'node:assert/strict';
import { appendFile, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cutNotice, formatBytes } from '../../../src/cluster/master/log-cut.ts';
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

/** Resolves once `condition` holds, looking again after every turn of the event loop. */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
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
      assert.deepEqual(await new TaskLogStore(dir).outputSoFar('t-1'), { chunks: 3, stdout: 9, stderr: 4 }, 'totals read back from the file, binary bytes counted as bytes');
    });

    it('keeps when the agent read each chunk, for merging logs by time; a chunk without one reads back without', async () => {
      await store.append('t-at', 0, [{ ...out('one\n'), at: 1_700_000_000_123 }, { stream: 'stderr', data: Buffer.from([0xff]), at: 1_700_000_000_456 }, out('old agent\n')]);
      const chunks = await readAll(store, 't-at');
      assert.deepEqual(chunks.map((c) => c.at), [1_700_000_000_123, 1_700_000_000_456, undefined]);
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
      // The reader asks isComplete at the start of each pass over the log: the test waits for passes, not for time.
      let onPass: (() => void) | null = null;
      let onChunk = null as (() => void) | null;
      const isComplete = async (): Promise<boolean> => {
        onPass?.();
        return complete;
      };
      const nextPass = (): Promise<void> => new Promise((resolve) => (onPass = resolve));
      const nextChunk = (): Promise<void> => new Promise((resolve) => (onChunk = resolve));
      let chunk = nextChunk();
      const reading = (async () => {
        for await (const c of store.read('t-1', { follow: true, isComplete })) {
          seen.push(c.data.toString());
          onChunk?.();
        }
      })();
      await store.append('t-1', 0, [out('first')]);
      await chunk;
      assert.deepEqual(seen, ['first']);
      // A line half written (an append in progress) is not read until it is whole. A pass that starts
      // after the write looks at it; the pass after that one starts only once it has finished.
      await appendFile(store.fileOf('t-1'), '{"s":"stdout","d":"sec');
      let pass = nextPass();
      store.notify('t-1');
      await pass;
      await new Promise((resolve) => setImmediate(resolve)); // into the pass: its wake-up is set
      pass = nextPass();
      store.notify('t-1');
      await pass;
      assert.deepEqual(seen, ['first'], 'the half line was looked at and not read');
      chunk = nextChunk();
      await appendFile(store.fileOf('t-1'), 'ond"}\n');
      store.notify('t-1');
      await chunk;
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
  describe('a capped log: the newest output kept, what was cut said', () => {
    const CAP = 8 * 1024;
    let store: TaskLogStore;
    let dir: string;
    beforeEach(() => {
      dir = tempDir('task-logs-capped');
      store = new TaskLogStore(dir, { maxBytesPerTask: CAP, filesPerTask: 2 });
    });

    /** Line i of a chatty task: 30-odd bytes, on stdout, every seventh on stderr. */
    const line = (i: number): OutputChunk => (i % 7 === 0 ? err : out)(`line ${String(i).padStart(6, '0')} of a chatty task\n`);
    const lines = (from: number, count: number): OutputChunk[] => Array.from({ length: count }, (_, k) => line(from + k));
    const numberOf = (chunk: OutputChunk): number => Number(/^line (\d+)/.exec(chunk.data.toString())![1]);

    /** Appends lines `from` up to `to` in batches of ten, as an agent sends them. */
    async function writeLines(taskId: string, from: number, to: number): Promise<void> {
      for (let i = from; i < to; i += 10) await store.append(taskId, i, lines(i, Math.min(10, to - i)));
    }

    async function filesOnDisk(taskId: string): Promise<Array<{ name: string; bytes: number }>> {
      const names = (await readdir(dir)).filter((name) => name.startsWith(`${taskId}.jsonl`));
      return Promise.all(names.map(async (name) => ({ name, bytes: (await stat(path.join(dir, name))).size })));
    }

    it('a chatty writer stays under the cap in bytes and files; the newest lines are whole and in order', async () => {
      await writeLines('t-chatty', 0, 5000);
      const files = await filesOnDisk('t-chatty');
      const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
      assert.ok(files.length <= 2, `${files.length} files: ${files.map((f) => f.name).join(' ')}`);
      assert.ok(bytes <= CAP, `${bytes} bytes on disk over a cap of ${CAP}`);
      assert.ok(bytes >= CAP / 2 - 100, `only ${bytes} bytes kept`);
      assert.deepEqual(files.map((f) => f.name).sort(), (await store.filesOf('t-chatty')).map((f) => path.basename(f)).sort());

      const [notice, ...kept] = await readAll(store, 't-chatty');
      assert.ok(notice?.cut, 'the log opens with what was cut');
      const numbers = kept.map(numberOf);
      assert.equal(numbers.at(-1), 4999, 'the newest line is there');
      assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, k) => notice.cut!.chunks + k), 'the kept lines follow the cut ones, none missing, none twice');
      assert.deepEqual(shown(kept), shown(lines(notice.cut!.chunks, kept.length)), 'each line byte for byte, on its stream');
    });

    it('a chunk bigger than a file holds keeps its newest bytes, says how many it lost, and the cap holds', async () => {
      const big = out('é'.repeat(3000) + 'x'.repeat(9000) + 'the end\n'); // 15 KB, two-byte characters first
      await store.append('t-big', 0, [out('before\n'), big, out('after\n')]);
      const bytes = (await filesOnDisk('t-big')).reduce((sum, f) => sum + f.bytes, 0);
      assert.ok(bytes <= CAP, `${bytes} bytes on disk over a cap of ${CAP}`);
      const read = await readAll(store, 't-big');
      const notice = read.find((c) => c.cut && c.cut.chunks === 0)!;
      assert.match(notice.data.toString(), /^\[gantry\] \d+(\.\d)? KiB cut from the start of the next output/);
      const next = read[read.indexOf(notice) + 1]!;
      assert.ok(next.data.toString().endsWith('xthe end\n'), 'its newest bytes are kept');
      assert.equal(next.data.length + notice.cut!.bytes, big.data.length, 'kept and cut make the whole chunk');
      assert.ok(!next.data.toString().includes('\ufffd'), 'cut at a character boundary');
      assert.equal(read.at(-1)!.data.toString(), 'after\n');
      assert.deepEqual(await new TaskLogStore(dir, { maxBytesPerTask: CAP }).outputSoFar('t-big'), { chunks: 3, stdout: 7 + big.data.length + 6, stderr: 0 }, 'the totals count the whole chunk');
    });

    it('the record of what was cut reads back as figures and as a notice line', async () => {
      await writeLines('t-cut', 0, 1000);
      const [notice] = await readAll(store, 't-cut');
      const cutChunks = lines(0, notice!.cut!.chunks);
      assert.deepEqual(notice!.cut, { chunks: cutChunks.length, bytes: cutChunks.reduce((sum, c) => sum + c.data.length, 0) });
      assert.equal(notice!.stream, 'stderr');
      assert.equal(notice!.data.toString(), cutNotice(notice!.cut!, CAP));
      assert.match(notice!.data.toString(), /^\[gantry\] \d+(\.\d)? KiB of earlier output cut \(\d+ chunks; log cap 8 KiB\)\n$/);
      const total = lines(0, 1000);
      assert.deepEqual(await store.outputSoFar('t-cut'), {
        chunks: 1000,
        stdout: total.filter((c) => c.stream === 'stdout').reduce((sum, c) => sum + c.data.length, 0),
        stderr: total.filter((c) => c.stream === 'stderr').reduce((sum, c) => sum + c.data.length, 0),
      }, 'the totals count the cut output, for agents resuming after a re-registration');
      assert.deepEqual(await new TaskLogStore(dir, { maxBytesPerTask: CAP }).outputSoFar('t-cut'), await store.outputSoFar('t-cut'), 'a new store reads the same totals from the files');
    });

    it('sizes read as people read them', () => {
      assert.deepEqual([0, 1, 1023, 1024, 1536, 10 * 1024 * 1024, 1.25 * 1024 ** 3].map(formatBytes), ['0 bytes', '1 byte', '1023 bytes', '1 KiB', '1.5 KiB', '10 MiB', '1.3 GiB']);
    });

    it('a retried batch after a cut is not written twice, by this store or a new one over the same files', async () => {
      await writeLines('t-retry', 0, 600);
      const before = await readAll(store, 't-retry');
      await store.append('t-retry', 590, lines(590, 10));
      await store.append('t-retry', 0, lines(0, 600));
      assert.deepEqual(shown(await readAll(store, 't-retry')), shown(before), 'nothing written again');

      const restarted = new TaskLogStore(dir, { maxBytesPerTask: CAP, filesPerTask: 2 });
      await restarted.append('t-retry', 595, lines(595, 10));
      const after = await readAll(restarted, 't-retry');
      assert.deepEqual(after.slice(-6).map(numberOf), [599, 600, 601, 602, 603, 604], 'only the new chunks, numbered on from the cut ones');
      await assert.rejects(restarted.append('t-retry', 700, [out('x')]), /has 605 chunks; a batch from 700 would leave a gap/);
    });

    it('resuming from the offset after any chunk gives exactly the chunks after it, across files', async () => {
      await writeLines('t-resume', 0, 400);
      assert.equal((await store.filesOf('t-resume')).length, 2, 'read across two files');
      const all = await readAll(store, 't-resume');
      for (let i = 0; i < all.length; i++) {
        await store.checkResumeOffset('t-resume', all[i]!.endOffset);
        assert.deepEqual(shown(await readAll(store, 't-resume', { fromOffset: all[i]!.endOffset })), shown(all.slice(i + 1)), `after chunk ${i}`);
      }
      const end = all.at(-1)!.endOffset;
      for (const bad of [end + 1, end - 1, all[5]!.endOffset - 2]) await assert.rejects(store.checkResumeOffset('t-resume', bad), /is not where a chunk/, `offset ${bad}`);
    });

    it('a reader whose offset was cut since is told, then goes on at the oldest output kept', async () => {
      await store.append('t-late', 0, lines(0, 20));
      const early = await readAll(store, 't-late');
      const offset = early[4]!.endOffset; // after line 4
      await store.append('t-late', 20, lines(20, 1000));
      await store.checkResumeOffset('t-late', offset);
      const [notice, first, ...rest] = await readAll(store, 't-late', { fromOffset: offset });
      assert.ok(notice?.cut, 'first what was cut');
      assert.equal(numberOf(first!), notice.cut!.chunks, 'then the oldest line kept');
      assert.equal(rest.length + 2, (await readAll(store, 't-late')).length);
      const afterNotice = await readAll(store, 't-late', { fromOffset: notice.endOffset });
      assert.equal(numberOf(afterNotice[0]!), numberOf(first!), 'resuming after the notice: no second notice, the same next line');
    });

    it('a reader following from 0 while the writer goes past several cuts sees every kept line once, in order', async () => {
      let complete = false;
      let releaseReader!: () => void;
      const readerHeld = new Promise<void>((resolve) => (releaseReader = resolve));
      const seen: StoredChunk[] = [];
      const reading = (async () => {
        for await (const chunk of store.read('t-follow', { follow: true, isComplete: async () => complete })) {
          seen.push(chunk);
          if (seen.length === 3) await readerHeld; // falls behind while the writer cuts the log under it
        }
      })();
      await writeLines('t-follow', 0, 60);
      await waitUntil(() => seen.length === 3);
      await writeLines('t-follow', 60, 2000);
      releaseReader();
      await writeLines('t-follow', 2000, 4000); // while it reads: it follows the rolls live
      complete = true;
      store.notify('t-follow');
      await reading;

      const data = seen.filter((c) => !c.cut);
      const numbers = data.map(numberOf);
      for (let i = 1; i < seen.length; i++) {
        const [previous, chunk] = [seen[i - 1]!, seen[i]!];
        if (chunk.cut || previous.cut) continue;
        assert.equal(numberOf(chunk), numberOf(previous) + 1, `line ${numberOf(previous)} is followed by ${numberOf(chunk)} with no notice of a cut between`);
      }
      assert.ok(seen.some((c) => c.cut), 'it fell behind a cut and was told');
      assert.deepEqual(numbers, [...new Set(numbers)].sort((a, b) => a - b), 'no line twice, in order');
      assert.ok(seen.every((c, i) => i === 0 || c.endOffset > seen[i - 1]!.endOffset), 'offsets only grow');
      const kept = (await readAll(store, 't-follow')).filter((c) => !c.cut).map(numberOf);
      assert.deepEqual(numbers.slice(-kept.length), kept, 'every line the log keeps, read live');
    });

    it('tasks whose ids differ by a dot keep their own files, also as listed by a new store', async () => {
      await writeLines('t', 0, 400);
      await writeLines('t.jsonl', 0, 300);
      await writeLines('t.1', 0, 200);
      const restarted = new TaskLogStore(dir, { maxBytesPerTask: CAP });
      for (const [id, total] of [['t', 400], ['t.jsonl', 300], ['t.1', 200]] as const) {
        const [notice, ...kept] = await readAll(restarted, id);
        assert.equal(notice!.cut!.chunks + kept.length, total, id);
        assert.equal(numberOf(kept.at(-1)!), total - 1, id);
        assert.equal((await restarted.outputSoFar(id)).chunks, total, id);
      }
    });

    it('refuses caps too small to hold anything and fewer than two files', () => {
      assert.throws(() => new TaskLogStore(dir, { maxBytesPerTask: 1000 }), /under 1024 bytes a file/);
      assert.throws(() => new TaskLogStore(dir, { maxBytesPerTask: 0 }), /under 1024 bytes a file/);
      assert.throws(() => new TaskLogStore(dir, { maxBytesPerTask: CAP, filesPerTask: 1 }), /at least 2 files/);
    });
  });
});
