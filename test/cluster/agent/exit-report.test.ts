import assert from 'node:assert/strict';
import { exitReport } from '../../../src/cluster/agent/exit-report.ts';
import type { TaskExit } from '../../../src/cluster/drivers/driver.ts';

const exit = (over: Partial<TaskExit>): TaskExit => ({ exitCode: 0, signal: null, oomKilled: false, killed: false, ...over });
const limits = 'cgroup v1: memory 32 MiB, cpu 0.1';

describe('how an agent reports a task\'s end', () => {
  const table: Array<[string, TaskExit, string | undefined, string, string]> = [
    ['exit 0', exit({}), undefined, 'finished', 'exited with code 0'],
    ['exit 3', exit({ exitCode: 3 }), undefined, 'failed', 'exited with code 3'],
    ['a signal', exit({ exitCode: null, signal: 'SIGSEGV' }), undefined, 'failed', 'terminated by signal SIGSEGV'],
    ['the OOM killer', exit({ exitCode: 137, oomKilled: true }), undefined, 'failed', `killed by the OOM killer: memory limit exceeded (${limits})`],
    ['a kill order', exit({ exitCode: null, signal: 'SIGTERM', killed: true }), 'killed by user', 'killed', 'killed by user'],
    ['OOM wins over a later kill', exit({ exitCode: null, oomKilled: true, killed: true }), 'killed by user', 'failed', `killed by the OOM killer: memory limit exceeded (${limits})`],
  ];
  for (const [what, taskExit, killReason, state, reason] of table) {
    it(what, () => {
      const report = exitReport('t-1', taskExit, killReason, limits);
      assert.equal(report.state, state);
      assert.equal(report.reason, reason);
      assert.equal(report.limits, limits);
    });
  }
});
