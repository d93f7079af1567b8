// The numbered task changes behind list-then-watch: a cursor gives exactly the changes after it, a
// cursor too old or from another run of the master is refused with 410 so the client lists again.
import assert from 'node:assert/strict';
import { TaskChanges } from '../../../src/cluster/master/task-changes.ts';
import type { TaskRecord } from '../../../src/cluster/types.ts';

const task = (id: string): TaskRecord => ({ id }) as TaskRecord;
const ids = (changes: ReadonlyArray<{ task: TaskRecord }>): string[] => changes.map((c) => c.task.id);

describe('task changes (list-then-watch cursors)', () => {
  it('gives the changes after a cursor, oldest first, and none after the latest', () => {
    const changes = new TaskChanges(100, 'e1');
    const start = changes.cursor;
    const first = changes.record(task('a'));
    changes.record(task('b'));
    changes.record(task('a'));
    assert.deepEqual(ids(changes.since(start)), ['a', 'b', 'a']);
    assert.deepEqual(ids(changes.since(first.cursor)), ['b', 'a']);
    assert.deepEqual(changes.since(changes.cursor), []);
  });

  it('keeps the last `capacity` changes: a cursor within them works, one before them is 410', () => {
    const changes = new TaskChanges(10, 'e1');
    const cursors = [changes.cursor];
    for (let i = 0; i < 40; i++) cursors.push(changes.record(task(`t${i}`)).cursor);
    assert.deepEqual(ids(changes.since(cursors[30]!)), Array.from({ length: 10 }, (_, i) => `t${30 + i}`));
    assert.throws(() => changes.since(cursors[0]!), (err: Error & { status?: number }) => err.status === 410 && /no longer kept \(the last 10 are\)/.test(err.message));
  });

  it('refuses a cursor of another run of the master (410), and ones that are not cursors or ahead of the latest (400)', () => {
    const changes = new TaskChanges(10, 'e2');
    changes.record(task('a'));
    const earlier = new TaskChanges(10, 'e1').cursor;
    assert.throws(() => changes.since(earlier), (err: Error & { status?: number }) => err.status === 410 && /earlier run/.test(err.message));
    for (const bad of ['', 'e2', 'e2.x', 'e2.-1', '../e2.1']) {
      assert.throws(() => changes.since(bad), (err: Error & { status?: number }) => err.status === 400, bad);
    }
    assert.throws(() => changes.since('e2.5'), (err: Error & { status?: number }) => err.status === 400 && /ahead of the latest/.test(err.message));
  });
});
