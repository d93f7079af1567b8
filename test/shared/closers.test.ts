import assert from 'node:assert/strict';
import { Closers } from '../../src/shared/closers.ts';

describe('closers', () => {
  it('stop what was started in the reverse order, each once', async () => {
    const closers = new Closers();
    const stopped: string[] = [];
    for (const part of ['store', 'master', 'listener', 'agent']) closers.add(() => void stopped.push(part));
    await closers.close();
    await closers.close();
    assert.deepEqual(stopped, ['agent', 'listener', 'master', 'store']);
  });

  it('wait for each closer before the next, and run them all when one fails, throwing the first failure', async () => {
    const closers = new Closers();
    const stopped: string[] = [];
    closers.add(() => void stopped.push('store'));
    closers.add(() => {
      throw new Error('batch would not stop');
    });
    closers.add(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      stopped.push('ci');
      throw new Error('ci would not stop');
    });
    await assert.rejects(closers.close(), /ci would not stop/);
    assert.deepEqual(stopped, ['ci', 'store']);
  });
});
