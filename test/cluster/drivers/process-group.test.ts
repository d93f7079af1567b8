import assert from 'node:assert/strict';
import { groupMembers, isSameProcessAlive, parseProcStat, readProcStat } from '../../../src/cluster/drivers/process-group.ts';

describe('process groups through /proc', () => {
  it('parses /proc/PID/stat, even with spaces and parentheses in the command name', () => {
    const line = '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615';
    assert.deepEqual(parseProcStat(4242, line), { pid: 4242, state: 'S', ppid: 1, pgrp: 4242, startTime: 987654 });
    assert.equal(parseProcStat(1, 'garbage'), null);
  });

  it('reads this process and sees it in its own process group', async () => {
    const stat = await readProcStat(process.pid);
    assert.ok(stat);
    assert.equal(await isSameProcessAlive(process.pid, stat.startTime), true);
    assert.equal(await isSameProcessAlive(process.pid, stat.startTime + 1), false, 'another start time is another process');
    assert.ok((await groupMembers(stat.pgrp)).includes(process.pid));
  });
});
