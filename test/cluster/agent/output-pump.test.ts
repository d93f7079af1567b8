import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pumpOutput } from '../../../src/cluster/agent/output-pump.ts';
import { redactedOutput } from '../../../src/cluster/agent/redacted-output.ts';
import type { OutputChunk } from '../../../src/cluster/drivers/driver.ts';
import type { OutputBatch } from '../../../src/cluster/protocol.ts';
import { MASK } from '../../../src/shared/redactor.ts';

const out = (text: string): OutputChunk => ({ stream: 'stdout', data: Buffer.from(text) });
const err = (text: string): OutputChunk => ({ stream: 'stderr', data: Buffer.from(text) });

function joined(chunks: readonly OutputChunk[], stream: 'stdout' | 'stderr'): string {
  return Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data)).toString();
}

/** Chunks as a driver gives them, with a pause (ms) where a number stands. */
async function* paced(items: Array<OutputChunk | number>): AsyncGenerator<OutputChunk> {
  for (const item of items) {
    if (typeof item === 'number') await new Promise((r) => setTimeout(r, item));
    else yield item;
  }
}

describe('agent output pump: secrets are masked before output leaves the agent', () => {
  it('masks a secret split between chunks, on each stream, and numbers the batches without gaps', async () => {
    const batches: OutputBatch[] = [];
    const output = Readable.from([out('token=hun'), err('err: hunt'), out('ter2\n'), err('er2!'), out('bye hunter2')]);
    await pumpOutput('t-1', output, async (batch) => void batches.push(batch), () => false, ['hunter2']);
    const chunks = batches.flatMap((b) => b.chunks);
    assert.equal(joined(chunks, 'stdout'), `token=${MASK}\nbye ${MASK}`);
    assert.equal(joined(chunks, 'stderr'), `err: ${MASK}!`);
    let next = 0;
    for (const batch of batches) {
      assert.equal(batch.from, next);
      next += batch.chunks.length;
    }
    assert.ok(chunks.every((c) => c.data.length > 0), 'no empty chunks are sent');
  });

  it('without values to redact, chunks pass as they are', async () => {
    const chunks = [out('a'), err('b'), out('c')];
    const seen: OutputChunk[] = [];
    for await (const chunk of redactedOutput(paced(chunks), [])) seen.push(chunk);
    assert.deepEqual(seen, chunks);
  });

  it('a held tail is released when the task is quiet, so live output is not stuck', async () => {
    const seen: Array<{ at: number; text: string }> = [];
    const started = Date.now();
    for await (const chunk of redactedOutput(paced([out('prompt> hun'), 400, out('gry\n')]), ['hunter2'], 100)) {
      seen.push({ at: Date.now() - started, text: chunk.data.toString() });
    }
    assert.deepEqual(seen.map((s) => s.text), ['prompt> ', 'hun', 'gry\n']);
    assert.ok(seen[1]!.at >= 90 && seen[1]!.at < 350, `the held "hun" came out after ${seen[1]!.at} ms`);
  });

  it('a pause shorter than the quiet delay inside a secret still masks it', async () => {
    const seen: OutputChunk[] = [];
    for await (const chunk of redactedOutput(paced([out('pw=hun'), 30, out('ter2.')]), ['hunter2'], 200)) seen.push(chunk);
    assert.equal(joined(seen, 'stdout'), `pw=${MASK}.`);
  });

  it('multi-line secrets: whole, and one line at a time', async () => {
    const key = '-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\n-----END KEY-----';
    const seen: OutputChunk[] = [];
    const chunks = [out(`${key.slice(0, 25)}`), out(`${key.slice(25)}\n`), err('bad line: AAAAB3Nza'), err('C1yc2EAAAADAQAB\n')];
    for await (const chunk of redactedOutput(paced(chunks), [key])) seen.push(chunk);
    assert.equal(joined(seen, 'stdout'), `${MASK}\n`);
    assert.equal(joined(seen, 'stderr'), `bad line: ${MASK}\n`);
  });
});

describe('agent output pump: a recovered task resumes after what the master holds', () => {
  it('skips the bytes already held on each stream (counted masked) and numbers on from the chunks held', async () => {
    const batches: OutputBatch[] = [];
    // Read from the start again after a restart, chunked differently than the first time.
    const output = Readable.from([out('hel'), out('lo hunter2 '), err('E1'), out('world'), err('E2')]);
    // The master holds 2 chunks: stdout "hello " + the masked secret (6 + MASK.length bytes), stderr "E1".
    const held = { chunks: 2, stdout: 6 + MASK.length, stderr: 2 };
    await pumpOutput('t-1', output, async (batch) => void batches.push(batch), () => false, ['hunter2'], held);
    assert.equal(batches[0]?.from, 2);
    const chunks = batches.flatMap((b) => b.chunks);
    assert.equal(joined(chunks, 'stdout'), ' world');
    assert.equal(joined(chunks, 'stderr'), 'E2');
  });
});
