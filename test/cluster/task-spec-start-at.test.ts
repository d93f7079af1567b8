import assert from 'node:assert/strict';
import { parseTaskSpec } from '../../src/cluster/task-spec.ts';

describe('task spec: startAt', () => {
  it('is kept as an ISO instant in UTC', () => {
    const spec = parseTaskSpec({ cmd: 'true', startAt: '2026-11-24T10:00:00.5+01:00' }, 'user:test');
    assert.equal(spec.startAt, '2026-11-24T09:00:00.500Z');
    assert.equal(parseTaskSpec({ cmd: 'true' }, 'user:test').startAt, undefined);
  });

  it('is refused when it is not an instant, or more than 5 minutes ahead', () => {
    assert.throws(() => parseTaskSpec({ cmd: 'true', startAt: 'tomorrow' }, 'user:test'), /invalid task: startAt: /);
    const later = new Date(Date.now() + 6 * 60_000).toISOString();
    assert.throws(() => parseTaskSpec({ cmd: 'true', startAt: later }, 'user:test'), /"startAt" is at most 5 minutes ahead/);
  });
});
