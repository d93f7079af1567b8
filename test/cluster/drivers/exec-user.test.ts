// The exec driver running a task as another user (TaskLaunch.user): the task's identity (uid, gid,
// the user's supplementary groups, HOME, USER), its sandbox and workspace made the user's, its cgroups
// joined before the switch (limits hold), and the driver's own files in the user's sandbox never
// trusted or written through what the user could have put there. Root only (the driver switches users
// only as root); the users are made by test/helpers/system-users.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, linkSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskUser } from '../../../src/cluster/drivers/driver.ts';
import { launchArgv } from '../../../src/cluster/drivers/exec.ts';
import { readOwnFile } from '../../../src/cluster/drivers/own-file.ts';
import { readTaskRecord } from '../../../src/cluster/drivers/task-record.ts';
import { ensureUser } from '../../helpers/system-users.ts';
import { collect, isRoot, launch, text, useExecDriver } from './exec-helpers.ts';

describe('exec driver: tasks run as another user', function () {
  this.timeout(60_000);
  const { driver, startLaunch, sandboxes: root } = useExecDriver();
  let user: TaskUser;

  before(function () {
    if (!isRoot) this.skip();
    user = ensureUser('gantry-test-exec', ['users']);
    // The sandboxes' parent must be traversable, as the agent's sandboxes root is (0711).
  });
  beforeEach(() => execFileSync('chmod', ['0711', root.dir]));

  const run = async (overrides: Parameters<typeof launch>[1], env?: Record<string, string>, workingDir?: string) => {
    const l = { ...launch(root.dir, overrides, env), user, ...(workingDir ? { workingDir } : {}) };
    const handle = await startLaunch(l);
    const exit = await handle.wait();
    const chunks = await collect(handle.logs());
    return { l, handle, exit, stdout: text(chunks, 'stdout'), stderr: text(chunks, 'stderr') };
  };

  it('runs cmd and args as the user, with its groups, HOME (the sandbox), USER and LOGNAME', async () => {
    const viaCmd = await run({ cmd: 'id -u; id -g; id -G; echo "$HOME $USER $LOGNAME"; pwd' });
    assert.equal(viaCmd.exit.exitCode, 0, viaCmd.stderr);
    const [uid, gid, groups, env, cwd] = viaCmd.stdout.trim().split('\n');
    assert.equal(Number(uid), user.uid);
    assert.equal(Number(gid), user.gid);
    assert.deepEqual(groups!.split(' ').map(Number).sort(), [...user.groups].sort(), 'its supplementary groups (users), and no other');
    assert.equal(env, `${viaCmd.l.sandboxDir} ${user.name} ${user.name}`);
    assert.equal(cwd, viaCmd.l.sandboxDir);
    const viaArgs = await run({ args: ['id', '-un'] });
    assert.equal(viaArgs.stdout, `${user.name}\n`);
    const missing = await run({ args: ['no-such-command-gantry'] });
    assert.equal(missing.exit.exitCode, 127, 'a missing program is still 127');
  });

  it('makes the sandbox the user\'s (0700); the output files stay root\'s and the task writes them all the same', async () => {
    const { l, stdout } = await run({ cmd: 'echo written; touch "$HOME/mine"; (echo more >> "$HOME/stdout") 2>/dev/null || echo "cannot reopen stdout"' });
    const sandbox = statSync(l.sandboxDir);
    assert.equal(sandbox.uid, user.uid);
    assert.equal(sandbox.mode & 0o777, 0o700);
    assert.equal(statSync(path.join(l.sandboxDir, 'mine')).uid, user.uid);
    assert.equal(statSync(path.join(l.sandboxDir, 'stdout')).uid, 0);
    assert.equal(stdout, 'written\ncannot reopen stdout\n');
  });

  it('makes a workspace it creates the user\'s, and leaves one that exists as it is', async () => {
    const fresh = path.join(root.dir, 'workspaces', 'run-1');
    mkdirSync(path.dirname(fresh), { mode: 0o711 });
    const first = await run({ cmd: 'echo shared > file' }, undefined, fresh);
    assert.equal(first.exit.exitCode, 0, first.stderr);
    assert.equal(statSync(fresh).uid, user.uid);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    const second = await run({ cmd: 'cat file' }, undefined, fresh);
    assert.equal(second.stdout, 'shared\n', 'the next task of the same user shares it');

    const existing = path.join(root.dir, 'workspaces', 'someone-elses');
    mkdirSync(existing, { mode: 0o700 });
    writeFileSync(path.join(existing, 'secret'), 'root only\n');
    const denied = await run({ cmd: 'cat secret' }, undefined, existing);
    assert.notEqual(denied.exit.exitCode, 0, 'another user\'s workspace is not taken over');
    assert.match(denied.stderr, /Permission denied/);
    assert.equal(statSync(existing).uid, 0);
  });

  it('joins its cgroups as root before the switch: a memory limit still kills it', async function () {
    const inCgroup = await run({ args: ['cat', '/proc/self/cgroup'], mem: 48 });
    const record = await readTaskRecord(inCgroup.l.sandboxDir);
    if (!record?.cgroups.memory) this.skip(); // no cgroups here
    const memory = record!.cgroups.memory!;
    const line = memory.version === 1 ? /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m : /^0::(.*)$/m;
    assert.ok(memory.dir.endsWith(line.exec(inCgroup.stdout)?.[1] ?? '<none>'), `${memory.dir} vs\n${inCgroup.stdout}`);
    // `tail` keeps a line in memory until its end: 300 MiB without a newline needs 300 MiB.
    const big = await run({ cmd: 'head -c 300000000 /dev/zero | tail -n 1 > /dev/null && echo survived', mem: 32 });
    assert.equal(big.exit.oomKilled, true, JSON.stringify(big.exit));
    assert.doesNotMatch(big.stdout, /survived/);
  });

  it('never writes through a link the user left in its sandbox, nor trusts a record it forged', async () => {
    const victim = path.join(root.dir, 'victim');
    writeFileSync(victim, 'root only\n', { mode: 0o600 });
    const l = { ...launch(root.dir, { cmd: 'echo hello' }), user };
    mkdirSync(l.sandboxDir, { mode: 0o700 });
    chownSync(l.sandboxDir, user.uid, user.gid);
    for (const name of ['stdout', 'stderr', 'task.json.tmp', 'exit.json.tmp']) symlinkSync(victim, path.join(l.sandboxDir, name));
    const handle = await startLaunch(l);
    assert.equal((await handle.wait()).exitCode, 0);
    assert.equal(text(await collect(handle.logs()), 'stdout'), 'hello\n');
    assert.equal(readFileSync(victim, 'utf8'), 'root only\n', 'the link was replaced, not followed');
    assert.equal(lstatSync(path.join(l.sandboxDir, 'stdout')).isFile(), true);

    // A task.json the user wrote (or a link) names nothing the agent would act on.
    const forged = path.join(root.dir, 'forged');
    mkdirSync(forged);
    chownSync(forged, user.uid, user.gid);
    writeFileSync(path.join(forged, 'task.json'), JSON.stringify({ driver: 'exec', taskId: 'x', pid: 1, pgid: 1, startTime: 1, limits: '', cgroups: {} }));
    chownSync(path.join(forged, 'task.json'), user.uid, user.gid);
    assert.equal(await readTaskRecord(forged), null);
    assert.equal((await driver.recover(root.dir)).some((h) => h.taskId === 'x'), false);
  });

  it('reads its own files only: not through a link, not another user\'s, not a second link of a file, not a FIFO', async () => {
    const own = path.join(root.dir, 'own');
    writeFileSync(own, 'mine');
    assert.equal(await readOwnFile(own), 'mine');
    symlinkSync(own, path.join(root.dir, 'link'));
    assert.equal(await readOwnFile(path.join(root.dir, 'link')), null);
    linkSync(own, path.join(root.dir, 'hard'));
    assert.equal(await readOwnFile(path.join(root.dir, 'hard')), null);
    const theirs = path.join(root.dir, 'theirs');
    writeFileSync(theirs, 'theirs');
    chownSync(theirs, user.uid, user.gid);
    assert.equal(await readOwnFile(theirs), null);
    execFileSync('mkfifo', [path.join(root.dir, 'fifo')]);
    assert.equal(await readOwnFile(path.join(root.dir, 'fifo')), null, 'answers at once, no writer needed');
    assert.equal(await readOwnFile(path.join(root.dir, 'missing')), null);
  });

  it('puts setpriv after the cgroup prelude, in one shell for cmd and args', () => {
    const switchUser = ['/usr/bin/setpriv', '--reuid=7', '--regid=8', '--groups=8', '--'];
    assert.deepEqual(launchArgv({ cmd: 'echo $HOME' }, 'P; ', switchUser), ['/bin/sh', '-c', `P; exec '/usr/bin/setpriv' '--reuid=7' '--regid=8' '--groups=8' '--' "$@"`, 'gantry-exec', '/bin/sh', '-c', 'echo $HOME']);
    assert.deepEqual(launchArgv({ args: ['a', 'b c'] }, '', switchUser), [...switchUser, 'a', 'b c'], 'without a prelude, no shell');
    assert.deepEqual(launchArgv({ cmd: 'x' }, 'P; '), ['/bin/sh', '-c', 'P; x'], 'as before without a user');
  });
});
