// The agent's task users: the list as given (`--task-users a,b`), the user each task runs as, which
// users can use the Docker socket, and, as root, users looked up and the default one created.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { dockerSocketUsers } from '../../../src/cluster/agent/docker-socket-users.ts';
import { createSystemUser, lookUpUser } from '../../../src/cluster/agent/system-user.ts';
import { parseTaskUsers, resolveTaskUsers, TaskUsers } from '../../../src/cluster/agent/task-users.ts';
import { unreachableWorkDir } from '../../../src/cluster/agent/work-dir-reach.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const isRoot = process.getuid?.() === 0;
const silent = pino({ level: 'silent' });
const ci = { name: 'ci', uid: 2001, gid: 2001, groups: [2001, 105] };
const plain = { name: 'gantry-task', uid: 999, gid: 995, groups: [995] };

describe('agent task users', () => {
  it('reads a list as given on the command line: trimmed, without duplicates, names checked', () => {
    assert.deepEqual(parseTaskUsers(' gantry-task, ci ,,ci', '--task-users'), ['gantry-task', 'ci']);
    assert.deepEqual(parseTaskUsers('', '--task-users'), []);
    assert.throws(() => parseTaskUsers('ok,not ok', '--task-users'), (err: Error) => /^--task-users: "not ok": a user name is/.test(err.message));
  });

  it('runs a task as the user it names, else as the first (the default), and refuses one not in the list', () => {
    const users = new TaskUsers([plain, ci], true);
    assert.deepEqual(users.names, ['gantry-task', 'ci']);
    assert.equal(users.forTask({}), plain);
    assert.equal(users.forTask({ user: 'ci' }), ci);
    assert.throws(() => users.forTask({ user: 'root' }), /this agent does not allow tasks to run as root \(allowed: gantry-task, ci\)/);
  });

  it('without task users, an agent runs tasks as its own user and does not switch', () => {
    const own = TaskUsers.own();
    assert.equal(own.switches, false);
    assert.equal(own.users.length, 1);
    assert.equal(own.users[0]!.uid, process.getuid?.());
  });

  it('names the users who can use the Docker socket: root, its owner, its group when the group may write', async () => {
    const socket = path.join(tempDir('docker-socket'), 'docker.sock');
    writeFileSync(socket, '');
    chmodSync(socket, 0o660);
    if (isRoot) chownSync(socket, 0, 105);
    const root = { name: 'root', uid: 0, gid: 0, groups: [0] };
    const found = await dockerSocketUsers([plain, ci, root], socket);
    assert.deepEqual(found, { socket, users: isRoot ? ['ci', 'root'] : ['root'] });
    assert.equal(await dockerSocketUsers([ci], path.join(path.dirname(socket), 'none.sock')), null, 'no socket here');
  });

  it('finds a directory on the way to the work dir that a task user cannot pass through', async () => {
    const parent = path.join(tempDir('work-dir-reach'), 'closed');
    mkdirSync(path.join(parent, 'agent', 'sandboxes'), { recursive: true });
    chmodSync(parent, 0o700);
    const sandboxes = path.join(parent, 'agent', 'sandboxes');
    assert.deepEqual(await unreachableWorkDir(sandboxes, [plain]), { directory: parent, user: 'gantry-task' });
    assert.equal(await unreachableWorkDir(sandboxes, [{ name: 'root', uid: 0, gid: 0, groups: [0] }]), null, 'root passes anywhere');
    chmodSync(parent, 0o711);
    assert.equal(await unreachableWorkDir(sandboxes, [plain, ci]), null);
    assert.equal(await unreachableWorkDir(path.join(parent, 'not-made-yet', 'sandboxes'), [plain]), null);
  });

  describe('as root', () => {
    before(function () {
      if (!isRoot) this.skip();
    });

    it('creates a system user with a group of its own, no other group, no login shell; looks users up', async () => {
      const name = 'gantry-test-made';
      try {
        const made = await createSystemUser(name);
        assert.ok(made.uid > 0 && made.uid < 1000, `a system uid: ${made.uid}`);
        assert.deepEqual(made.groups, [made.gid]);
        assert.equal(execFileSync('getent', ['group', String(made.gid)], { encoding: 'utf8' }).split(':')[0], name, 'its own group');
        assert.match(execFileSync('getent', ['passwd', name], { encoding: 'utf8' }), /:\/nonexistent:\/(usr\/)?sbin\/nologin\n$/);
        assert.deepEqual(await lookUpUser(name), made);
        assert.deepEqual(await createSystemUser(name), made, 'made again (another agent was first): the same user');
      } finally {
        execFileSync('userdel', [name]);
      }
      assert.equal(await lookUpUser(name), null);
    });

    it('refuses an unknown user, naming it; root and listed users in order, the default first', async () => {
      await assert.rejects(resolveTaskUsers(['root', 'gantry-test-nosuch'], silent), (err: Error) => err.message === 'unknown task user "gantry-test-nosuch": no such user on this host');
      const users = await resolveTaskUsers(['root'], silent);
      assert.deepEqual(users.names, ['root']);
      assert.equal(users.switches, true);
      assert.equal(users.forTask({}).uid, 0);
    });
  });
});
