// A task's CPU and memory as the agent reports them: a process that burns CPU shows its CPU time
// growing, one that holds memory shows it resident; processes that are gone count nothing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { processesUsage } from '../../../src/cluster/drivers/task-usage.ts';
import { waitFor } from '../../helpers/processes.ts';

describe('task usage from /proc', function () {
  this.timeout(30_000);

  it('counts the CPU time a busy process burns and the memory it holds, and nothing for a pid that is gone', async () => {
    // Holds ~64 MiB (touched, so resident) and spins.
    const child = spawn(process.execPath, ['-e', 'const b = Buffer.alloc(64 * 1024 * 1024, 1); globalThis.keep = b; for (;;) {}'], { stdio: 'ignore' });
    try {
      const busy = await waitFor('0.3 s of CPU used', async () => {
        const usage = await processesUsage([child.pid!]);
        return usage.cpuSeconds >= 0.3 ? usage : undefined;
      });
      assert.ok(busy.memBytes >= 64 * 1024 * 1024, `resident ${busy.memBytes} bytes`);
      const later = await waitFor('more CPU used', async () => {
        const usage = await processesUsage([child.pid!]);
        return usage.cpuSeconds > busy.cpuSeconds ? usage : undefined;
      });
      assert.ok(later.cpuSeconds > busy.cpuSeconds);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    assert.deepEqual(await processesUsage([child.pid!]), { cpuSeconds: 0, memBytes: 0 });
  });
});
