// Unprivileged tasks, as an operator meets them: a server (root) whose embedded agent runs tasks as
// gantry-task (which it creates at start), each with a private uid of its own; a remote agent that allows two more users (one of them in
// the `docker` group); an agent that allows root, joined later. A task runs as its agent's default user
// unless it names an allowed one; it reads neither the store, nor another task's sandbox (of another
// user, or of the same default user), nor the Docker socket (unless its user was granted it); a user no agent allows is refused with 400.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { DEFAULT_PRIVATE_UIDS } from '../../src/cluster/agent/private-uids.ts';
import { ADMIN_TOKEN, GANTRY, JOIN_TOKEN, api, killAll, runCli, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';
import { ensureUser, findUser } from '../helpers/system-users.ts';

const isRoot = process.getuid?.() === 0;
const DOCKER_SOCKET = '/var/run/docker.sock';
const TERMINAL = new Set(['finished', 'failed', 'killed', 'lost']);

describe('task users: tasks run unprivileged', function () {
  this.timeout(120_000);
  const dir = tempDir('task-users');
  const dataDir = path.join(dir, 'server');
  const started: Started[] = [];
  let client: ReturnType<typeof api>;
  let url = '';
  let nodeB: Started;
  const dockerGroup = (() => {
    try {
      execFileSync('getent', ['group', 'docker'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const otherUsers = ['gantry-test-other', ...(dockerGroup ? ['gantry-test-docker'] : [])];
  const hadDefaultUser = findUser('gantry-task') !== null;

  before(async function () {
    if (!isRoot) this.skip(); // switching users is root's; an agent that is not root runs tasks as itself
    ensureUser('gantry-test-other');
    if (dockerGroup) ensureUser('gantry-test-docker', ['docker']);
    const server = await startGantry(
      ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-hostname', 'node-a',
        '--agent-resources', 'cpus:4;mem:2048;disk:1024', '--log-level', 'info'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    started.push(server);
    url = server.match[1]!;
    client = api(url);
    // gantry-task exists once the server started (it makes it when missing): the remote agent names it.
    nodeB = await startGantry(
      ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', 'node-b', '--resources', 'cpus:4;mem:2048;disk:1024',
        '--data-dir', path.join(dir, 'node-b'), '--task-users', ['gantry-task', ...otherUsers].join(',')],
      {},
      /joined/,
    );
    started.push(nodeB);
  });

  after(async () => {
    for (const process of started.reverse()) await process.stop();
    killAll();
  });

  /** Runs a task to its end; its record and its output (stdout and stderr, as the API gives them). */
  async function run(body: Record<string, unknown>): Promise<{ task: TaskRecord; out: string }> {
    const submitted = await submitTask(client, { killGraceMs: 500, ...body });
    const task = await waitFor(`task ${submitted.id} to end`, async () => {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${submitted.id}`)).body;
      return TERMINAL.has(now.state) ? now : undefined;
    }, 60_000);
    const logs = await client.get<string>(`/api/v1/tasks/${task.id}/logs?format=raw`);
    return { task, out: String(logs.body) };
  }

  const onNode = (hostname: string) => [`hostname:IS:${hostname}`];

  const privateUid = (uid: number) => uid >= DEFAULT_PRIVATE_UIDS.first && uid <= DEFAULT_PRIVATE_UIDS.last;

  it('creates gantry-task (a system user with a group of its own and no other) and runs a task naming no user as it, with a uid of its own', async () => {
    const user = findUser('gantry-task');
    assert.ok(user, 'the server made gantry-task');
    assert.deepEqual(user.groups, [user.gid], 'in no other group');
    assert.ok(user.uid > 0 && user.uid < 1000, `a system uid (${user.uid})`);
    assert.match(execFileSync('getent', ['passwd', 'gantry-task'], { encoding: 'utf8' }), /:\/usr\/sbin\/nologin\n$/);
    if (!hadDefaultUser) assert.match(started[0]!.output(), /created the system user gantry-task to run tasks as/);
    const uids: number[] = [];
    for (const node of ['node-a', 'node-a', 'node-b']) {
      const { task, out } = await run({ cmd: 'id -u; id -g; id -G; echo "$HOME $USER"', constraints: onNode(node) });
      assert.equal(task.state, 'finished', out);
      const [uid, gid, groups, env] = out.trim().split('\n');
      assert.ok(privateUid(Number(uid)), `on ${node}: a private uid (${uid}), not gantry-task's own`);
      assert.equal(Number(gid), user.gid, 'gantry-task\'s group');
      assert.equal(groups, String(user.gid), 'and no other');
      assert.match(env!, new RegExp(`/sandboxes/${task.id} gantry-task$`), 'HOME is its sandbox; USER names the default user');
      uids.push(Number(uid));
    }
    assert.notEqual(uids[0], uids[1], 'two tasks on one agent: two uids');
  });

  it('keeps the data directory out of its reach: the store, logs, secrets, registry and CI mirrors', async () => {
    const files = ['gantry.sqlite', 'logs', 'secrets/registry-robot.token', 'secrets/ci-mirror.key', 'registry', 'ci', 'ci/mirrors', 'agent/agent-id', 'agent/sandboxes', 'agent/redact'];
    const { out } = await run({ cmd: `cd ${dataDir}; ls . 2>&1; for f in ${files.join(' ')}; do cat "$f" >/dev/null 2>&1 && echo "read $f"; [ -d "$f" ] && ls "$f" >/dev/null 2>&1 && echo "listed $f"; done; echo end`, constraints: onNode('node-a') });
    assert.match(out, /^ls: cannot open directory '\.': Permission denied\nend\n$/, out);
    // As root sees them: the data directory traversable, nothing in it open but the agent's work dir and ci/.
    const mode = (p: string) => statSync(path.join(dataDir, p)).mode & 0o7777;
    assert.equal(mode('.'), 0o711);
    for (const name of readdirSync(dataDir).filter((n) => n !== 'agent' && n !== 'ci')) assert.equal(mode(name) & 0o077, 0, `${name} is the server's alone`);
    // A passage to the CI mirrors, which a clone step reaches by a name it is handed (ci-mirror-unprivileged.test.ts).
    assert.equal(mode('ci'), 0o711);
    assert.equal(mode('ci/mirrors'), 0o711);
    for (const name of ['logs', 'registry', 'secrets', 'ci']) assert.ok(existsSync(path.join(dataDir, name)), `${name} is made (closed) at start`);
    assert.equal(mode('agent'), 0o711);
    assert.equal(mode('agent/sandboxes'), 0o711);
    assert.equal(mode('agent/workspaces'), 0o711);
    assert.equal(mode('agent/agent-id'), 0o600);
  });

  it('cannot read the sandbox of a task of another user; a task naming a user lands where it is allowed', async () => {
    const a = await run({ cmd: 'echo secret > "$GANTRY_SANDBOX/note"; id -un', user: 'gantry-test-other' });
    assert.equal(a.task.state, 'finished', a.out);
    assert.equal(a.out, 'gantry-test-other\n');
    const agents = (await client.get<{ agents: Array<{ id: string; hostname: string; taskUsers: string[] }> }>('/api/v1/agents')).body.agents;
    const nodeBRecord = agents.find((x) => x.hostname === 'node-b')!;
    assert.equal(a.task.agentId, nodeBRecord.id, 'only node-b allows gantry-test-other');
    assert.deepEqual(nodeBRecord.taskUsers, ['gantry-task', ...otherUsers], 'the agent registered its users, its default first');
    const sandbox = path.join(dir, 'node-b', 'sandboxes', a.task.id);
    assert.equal(readFileSync(path.join(sandbox, 'note'), 'utf8'), 'secret\n');
    const b = await run({ cmd: `cat ${sandbox}/note; ls ${path.dirname(sandbox)}`, constraints: onNode('node-b') });
    assert.equal(b.task.state, 'failed');
    assert.match(b.out, /cat: \S+\/note: Permission denied/);
    assert.match(b.out, /ls: cannot open directory '\S+sandboxes': Permission denied/);
  });

  it('cannot reach another task of the same default user: its sandbox, its environment, its processes; an ended task\'s sandbox is sealed', async () => {
    const holder = await submitTask(client, {
      cmd: 'echo secret > "$GANTRY_SANDBOX/note"; echo $$ > "$GANTRY_SANDBOX/pid"; echo ready; exec sleep 120',
      env: { SECRET_TOKEN: 'hunter2' },
      constraints: onNode('node-a'),
      killGraceMs: 500,
    });
    await waitFor('the holder to write its note', async () => {
      const logs = await client.get<string>(`/api/v1/tasks/${holder.id}/logs?format=raw`);
      return String(logs.body).includes('ready');
    }, 30_000);
    const sandbox = path.join(dataDir, 'agent', 'sandboxes', holder.id);
    const pid = readFileSync(path.join(sandbox, 'pid'), 'utf8').trim();
    // One pipe for both streams, so that a message the shell writes in two pieces is not split by a line of stdout.
    const other = await run({
      cmd: `exec 2>&1; cat ${sandbox}/note; tr '\\0' '\\n' < /proc/${pid}/environ | grep SECRET; ls /proc/${pid}/cwd/; kill -0 ${pid} && echo signalled; echo end`,
      constraints: onNode('node-a'),
    });
    assert.doesNotMatch(other.out, /^secret$|hunter2|signalled|^pid$/m, other.out);
    assert.match(other.out, /cat: \S+\/note: Permission denied/);
    assert.match(other.out, /environ: Permission denied/);
    assert.match(other.out, /kill: .*(Operation not permitted|No such process)/i);
    // Outside their sandboxes they still share what the default user's tasks share: its group (umask 002).
    const shared = path.join(dir, 'shared-log');
    const first = await run({ cmd: `echo one >> ${shared}`, constraints: onNode('node-a') });
    const second = await run({ cmd: `echo two >> ${shared}; cat ${shared}`, constraints: onNode('node-a') });
    assert.equal(first.task.state, 'finished', first.out);
    assert.equal(second.out, 'one\ntwo\n', 'a later task of the user appends to a file an earlier one made');
    await client.post(`/api/v1/tasks/${holder.id}/kill`, {});
    await waitFor('the holder to end and its sandbox to be sealed', async () => {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${holder.id}`)).body;
      const info = statSync(sandbox);
      return TERMINAL.has(now.state) && info.uid === 0 && (info.mode & 0o777) === 0o700;
    }, 30_000);
  });

  it('cannot use the Docker socket, unless its user is in the socket\'s group (which the agent warns about)', async function () {
    if (!existsSync(DOCKER_SOCKET)) this.skip();
    const probe = `test -r ${DOCKER_SOCKET} && echo readable || echo denied; curl -s --max-time 5 --unix-socket ${DOCKER_SOCKET} http://docker/version >/dev/null 2>&1 && echo connected || echo refused`;
    const plain = await run({ cmd: probe, constraints: onNode('node-a') });
    assert.equal(plain.out, 'denied\nrefused\n');
    if (!dockerGroup) return;
    const granted = await run({ cmd: probe, user: 'gantry-test-docker' });
    assert.equal(granted.out, 'readable\nconnected\n', 'setpriv gives the task its user\'s supplementary groups');
    assert.match(nodeB.output(), /task users with access to the Docker socket \S+ \(root on this host\): gantry-test-docker/);
  });

  it('refuses a task naming a user no agent allows with 400 naming the allowed ones, and stores nothing', async () => {
    const before = (await client.get<TaskRecord[]>('/api/v1/tasks?limit=1000')).body;
    for (const user of ['nobody', 'root']) {
      const answer = await client.post('/api/v1/tasks', { cmd: 'id', user });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.message, `invalid task: no agent allows user "${user}" (allowed: ${['gantry-task', ...otherUsers].sort().join(', ')}; see gantry agent --task-users)`);
    }
    const invalid = await client.post('/api/v1/tasks', { cmd: 'id', user: 'no spaces' });
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.message, /user: a user name is letters/);
    assert.equal((await client.get<TaskRecord[]>('/api/v1/tasks?limit=1000')).body.length, before.length, 'nothing stored');
  });

  it('runs a task as root only on an agent that allows root', async () => {
    const rootAgent = await startGantry(
      ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', 'node-root', '--resources', 'cpus:1;mem:512;disk:512',
        '--data-dir', path.join(dir, 'node-root'), '--task-users', 'gantry-task,root'],
      {},
      /joined/,
    );
    started.push(rootAgent);
    const asRoot = await run({ cmd: 'id -u; echo "$HOST"', user: 'root' });
    assert.equal(asRoot.out, '0\nnode-root\n');
    const byDefault = await run({ cmd: 'id -u; echo $USER', constraints: onNode('node-root') });
    const [uid, name] = byDefault.out.trim().split('\n');
    assert.ok(privateUid(Number(uid)) && name === 'gantry-task', `root only when the task names it: ${byDefault.out}`);
  });

  it('refuses to start an agent (remote or embedded) with an unknown user in its task users, in one line', async () => {
    const result = await runCli(['agent', '--master', url, '--join-token', JOIN_TOKEN, '--data-dir', path.join(dir, 'bad-agent'), '--task-users', 'gantry-task,gantry-test-nosuch'], {});
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr.trim().split('\n').filter((l) => l.startsWith('gantry:')).length, 1, result.stderr);
    assert.match(result.stderr, /gantry: cannot start the agent: unknown task user "gantry-test-nosuch": no such user on this host/);
    const server = await runCli(['server', '--data-dir', path.join(dir, 'bad-server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-task-users', 'gantry-test-nosuch'], {});
    assert.notEqual(server.code, 0);
    assert.equal(server.stderr, 'gantry: unknown task user "gantry-test-nosuch": no such user on this host\n', 'the server too, before it listens');
  });

  it('shares a workspace between the tasks of the default user; emptied, the agent removes it', async () => {
    const workspace = path.join(dataDir, 'agent', 'workspaces', 'ws-users');
    const writer = await run({ cmd: 'echo built > artifact; id -u', workspace: 'ws-users', constraints: onNode('node-a') });
    const uid = Number(writer.out.trim());
    assert.ok(privateUid(uid), writer.out);
    assert.equal(statSync(workspace).uid, uid);
    assert.equal(statSync(workspace).mode & 0o777, 0o700);
    const reader = await run({ cmd: 'cat artifact; id -u', workspace: 'ws-users', constraints: onNode('node-a') });
    assert.equal(reader.out, `built\n${uid}\n`, 'the steps of a workspace share its uid');
    // What a CI run's cleanup does (src/ci/runs/run-engine.ts): the task empties it, the agent removes it.
    const cleanup = await run({ cmd: 'cd / && find "$GANTRY_WORKSPACE" -mindepth 1 -delete', workspace: 'ws-users', constraints: onNode('node-a') });
    assert.equal(cleanup.task.state, 'finished', cleanup.out);
    await waitFor('the emptied workspace removed', async () => !existsSync(workspace));
  });

  it('an agent not running as root runs tasks as itself and allows only its own user, saying so', async () => {
    const nobody = findUser('nobody')!;
    const agentDir = path.join(dir, 'node-nobody');
    const child = spawn(GANTRY, ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', 'node-nobody', '--resources', 'cpus:1;mem:512;disk:512',
      '--data-dir', agentDir, '--task-users', 'gantry-task'], { uid: nobody.uid, gid: nobody.gid, env: { ...process.env, HOME: dir, GANTRY_DRAIN_ON_STOP: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor('the agent to join', async () => /joined/.test(output) || child.exitCode !== null, 30_000);
      assert.match(output, /not running as root: tasks run as nobody, the only task user this agent allows/);
      const { task, out } = await run({ cmd: 'id -un; echo "$HOST"', user: 'nobody' });
      assert.equal(out, 'nobody\nnode-nobody\n', JSON.stringify(task));
      const agents = (await client.get<{ agents: Array<{ hostname: string; taskUsers: string[] }> }>('/api/v1/agents')).body.agents;
      assert.deepEqual(agents.find((a) => a.hostname === 'node-nobody')?.taskUsers, ['nobody']);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('a memory limit still kills an unprivileged task that allocates past it', async () => {
    // `tail` keeps a line in memory until its end: 300 MiB without a newline needs 300 MiB.
    const { task, out } = await run({ cmd: 'id -u; head -c 300000000 /dev/zero | tail -n 1 > /dev/null && echo survived', mem: 32, constraints: onNode('node-a') });
    if (/^not enforced/.test(task.limits ?? '')) return; // no cgroups on this host
    assert.ok(privateUid(Number(out.split('\n')[0])), out);
    assert.doesNotMatch(out, /survived/);
    assert.equal(task.state, 'failed');
    assert.match(task.reason ?? '', /OOM killer: memory limit exceeded/);
  });
});
