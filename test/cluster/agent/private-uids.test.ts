// Private uids for the default user's tasks: one uid per task (per workspace for a CI run's steps),
// handed out round robin, freed when the holder goes, read back after an agent restart; an ended
// task's sandbox sealed so that the next holder of its uid finds nothing.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PRIVATE_UIDS, parseUidRange, PrivateUids, reclaimPrivateUids, sealSandbox } from '../../../src/cluster/agent/private-uids.ts';
import { TaskUsers } from '../../../src/cluster/agent/task-users.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const isRoot = process.getuid?.() === 0;
const plain = { name: 'gantry-task', uid: 999, gid: 995, groups: [995] };
const ci = { name: 'ci', uid: 2001, gid: 2001, groups: [2001, 105] };

describe('private task uids', () => {
  it('reads a range as given: FIRST-LAST, "off", or the default when empty; refuses the rest naming the source', () => {
    assert.deepEqual(parseUidRange('', '--task-uids'), DEFAULT_PRIVATE_UIDS);
    assert.deepEqual(parseUidRange(' 70000-70009 ', '--task-uids'), { first: 70000, last: 70009 });
    assert.equal(parseUidRange('off', '--task-uids'), null);
    for (const bad of ['10-20', '70009-70000', 'a-b', '70000', '70000-4294967295']) {
      assert.throws(() => parseUidRange(bad, 'GANTRY_TASK_UIDS'), (err: Error) => err.message.startsWith(`GANTRY_TASK_UIDS: "${bad}": give a uid range FIRST-LAST`), bad);
    }
  });

  it('gives each task its own uid, the same one again to the same task, and the steps of one workspace one uid', () => {
    const uids = new PrivateUids({ first: 70000, last: 70009 }, 70000);
    const a = uids.claim({ taskId: 'a' });
    const b = uids.claim({ taskId: 'b' });
    assert.notEqual(a, b);
    assert.equal(uids.claim({ taskId: 'a' }), a, 'a restart or a probe of the same task');
    const step1 = uids.claim({ taskId: 's1', workspace: 'run-7' });
    const step2 = uids.claim({ taskId: 's2', workspace: 'run-7' });
    assert.equal(step1, step2, 'steps of a run share their workspace and its uid');
    assert.ok(![a, b].includes(step1));
    assert.equal(uids.size, 3);
  });

  it('reuses a freed uid only after the rest of the range, never one still held, and says when all are held', () => {
    const uids = new PrivateUids({ first: 70000, last: 70002 }, 70000);
    assert.equal(uids.claim({ taskId: 'a' }), 70000);
    assert.equal(uids.claim({ taskId: 'b' }), 70001);
    uids.release({ taskId: 'a' });
    assert.equal(uids.claim({ taskId: 'c' }), 70002, 'the freed 70000 waits its turn');
    assert.equal(uids.claim({ taskId: 'd' }), 70000);
    assert.throws(() => uids.claim({ taskId: 'e' }), /every private uid of 70000-70002 is held by a task: widen --task-uids/);
    uids.release({ taskId: 'b' });
    assert.equal(uids.claim({ taskId: 'e' }), 70001);
  });

  it('runs the default user\'s exec tasks under private uids with the user\'s groups; a named user as itself', () => {
    const users = new TaskUsers([plain, ci], true, new PrivateUids({ first: 70000, last: 70009 }, 70005));
    const first = users.runAs({}, { taskId: 'a' });
    assert.deepEqual(first, { ...plain, uid: 70005, umask: 0o002 }, 'the default user\'s name, group and groups; a uid of its own; files group-writable');
    assert.equal(users.runAs({}, { taskId: 'b' }).uid, 70006);
    assert.equal(users.runAs({ user: 'ci' }, { taskId: 'c' }), ci, 'an operator\'s grant is that very user');
    assert.equal(users.runAs({ user: 'gantry-task' }, { taskId: 'd' }), plain, 'naming the default user shares it on purpose');
    users.release({ taskId: 'a' });
    assert.equal(users.privateUids!.size, 1);
    const shared = new TaskUsers([plain], true);
    assert.equal(shared.runAs({}, { taskId: 'a' }), plain, '--task-uids off: the user\'s own uid');
  });

  describe('on disk, as root', () => {
    before(function () {
      if (!isRoot) this.skip(); // chown is root's
    });

    it('seals an ended task\'s sandbox: root\'s, 0700; a root-owned one is left as it is', async () => {
      const dir = tempDir('seal');
      const sandbox = path.join(dir, 'task-1');
      mkdirSync(sandbox, { mode: 0o700 });
      writeFileSync(path.join(sandbox, 'note'), 'secret');
      chownSync(sandbox, 70001, 995);
      await sealSandbox(sandbox);
      const sealed = statSync(sandbox);
      assert.deepEqual([sealed.uid, sealed.gid, sealed.mode & 0o7777], [0, 0, 0o700]);
      await sealSandbox(path.join(dir, 'gone')); // a task that never got a sandbox
    });

    it('after a restart, holds again the uids of workspaces and running tasks and seals the sandboxes of tasks that ended meanwhile', async () => {
      const dir = tempDir('reclaim');
      const sandboxRoot = path.join(dir, 'sandboxes');
      const workspaceRoot = path.join(dir, 'workspaces');
      const make = (root: string, name: string, uid: number): string => {
        const at = path.join(root, name);
        mkdirSync(at, { recursive: true, mode: 0o700 });
        chownSync(at, uid, 995);
        return at;
      };
      make(workspaceRoot, 'run-1', 70003);
      make(sandboxRoot, 'step-1', 70003); // a running CI step in run-1
      make(sandboxRoot, 'app-1', 70004); // a running task
      const ended = make(sandboxRoot, 'old-1', 70005); // ended while the agent was down
      make(sandboxRoot, 'named-1', 2001); // a task that named its user: not a private uid, left alone
      const uids = new PrivateUids({ first: 70000, last: 70009 }, 70003);
      const sealed = await reclaimPrivateUids(uids, { sandboxRoot, workspaceRoot }, new Set(['step-1', 'app-1', 'named-1']));
      assert.equal(sealed, 1);
      assert.equal(statSync(ended).uid, 0);
      assert.equal(statSync(path.join(sandboxRoot, 'named-1')).uid, 2001);
      assert.equal(uids.claim({ taskId: 'step-2', workspace: 'run-1' }), 70003, 'the run\'s next step gets its workspace\'s uid');
      assert.equal(uids.claim({ taskId: 'app-1' }), 70004, 'a recovered task keeps its uid (its restarts and probes)');
      assert.equal(uids.claim({ taskId: 'new' }), 70005, 'the ended task\'s uid is free again, its sandbox sealed');
    });
  });
});
