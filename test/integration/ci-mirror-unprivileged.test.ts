// The clone step borrows the server's git mirror when it runs as the embedded agent's unprivileged
// default task user, as steps do by default: a real `gantry server` (root, as an operator runs it,
// started with umask 077 as hardened hosts have it) whose embedded agent runs steps as gantry-task, a
// push delivered as GitHub signs it, the steps' logs as the API gives them. The repository is root's,
// over file://: git would refuse to fetch it as another user ("dubious ownership"), so a clone that
// fetched would fail here. The data directory stays closed: a step lists neither `<data>/ci` nor
// `<data>/ci/mirrors`, nor reads the key the mirrors are named with. A mirror an earlier version made
// (named by sha256 of the URL, private) is moved to its keyed name and opened at its first use.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { CiServer, GitRepo, step, stepStates, type RunView } from '../helpers/ci.ts';
import { killAll, tempDir } from '../helpers/processes.ts';
import { findUser } from '../helpers/system-users.ts';

const isRoot = process.getuid?.() === 0;

describe('CI: the clone step borrows the server mirror as an unprivileged task user', function () {
  this.timeout(120_000);
  let server: CiServer;
  let repo: GitRepo;
  let pipeline = '';

  const mirrors = () => path.join(server.dataDir, 'ci', 'mirrors');
  const keyFile = () => path.join(server.dataDir, 'secrets', 'ci-mirror.key');
  const mode = (file: string) => statSync(file).mode & 0o7777;

  before(async function () {
    if (!isRoot) this.skip(); // switching users is root's: an agent that is not root runs tasks as itself
    repo = new GitRepo(tempDir('ci-mirror-unprivileged-repo'));
    server = await CiServer.start('ci-mirror-unprivileged', {}, { unprivileged: true, umask: 0o077 });
    // What a step as the task user can see of the data directory (each command may fail: the step goes on).
    pipeline = `steps:
  - name: probe
    commands:
      - id -u; id -g
      - ls ${server.dataDir}/ci 2>&1 || echo "no listing of ci"
      - ls ${mirrors()} 2>&1 || echo "no listing of mirrors"
      - cat ${keyFile()} 2>&1 || echo "no key"
      - git cat-file -t HEAD
      - cat VERSION
`;
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  /** Pushes a new commit of main with the probing pipeline; the run once it has ended. */
  async function pushAndRun(version: string): Promise<{ run: RunView; commit: string }> {
    const commit = repo.branch('main').commit({ '.gantry.yml': pipeline, VERSION: `${version}\n` }, `version ${version}`);
    const before = repo.head('main~1');
    repo.push('main');
    const delivery = await server.push(repo, 'acme/app', 'refs/heads/main', before);
    assert.equal(delivery.status, 202, JSON.stringify(delivery.body));
    const run = await server.finished((await server.runOf(delivery.id)).id, 60_000);
    return { run, commit };
  }

  /** The clone step took the commit from the server's mirror, fetching nothing. */
  async function assertClonedFromMirror(run: RunView, commit: string): Promise<void> {
    const clone = await server.stepLog(run, 'clone');
    assert.equal(step(run, 'clone').state, 'success', clone);
    assert.match(clone, /^\+ objects shared with the server mirror of the repository\n/, clone);
    assert.match(clone, new RegExp(`\\n\\+ refs/heads/main at ${commit} is in the server mirror: nothing to fetch\\n${commit} version `), clone);
    assert.doesNotMatch(clone, /git fetch|dubious ownership/, clone);
  }

  it('checks the commit out from the mirror as the task user, who can list neither ci/ nor the mirrors, nor read the key', async () => {
    const { run, commit } = await pushAndRun('1.0.0');
    assert.deepEqual(stepStates(run), { clone: 'success', probe: 'success' }, JSON.stringify(run));
    await assertClonedFromMirror(run, commit);

    const probe = await server.stepLog(run, 'probe');
    const [uid, gid] = probe.split('\n').filter((line) => /^\d+$/.test(line)).map(Number);
    assert.notEqual(uid, 0, `the step ran as root:\n${probe}`);
    assert.equal(gid, findUser('gantry-task')!.gid, 'the default task user\'s group');
    assert.match(probe, /ls: cannot open directory '\S+\/ci': Permission denied\nno listing of ci\n/, probe);
    assert.match(probe, /ls: cannot open directory '\S+\/ci\/mirrors': Permission denied\nno listing of mirrors\n/, probe);
    assert.match(probe, /cat: \S+\/ci-mirror\.key: Permission denied\nno key\n/, probe);
    assert.match(probe, /\+ git cat-file -t HEAD\ncommit\n\+ cat VERSION\n1\.0\.0\n$/, probe);

    // As root sees it: a passage, not a listing; one mirror, under a keyed name; the key the server's alone.
    assert.equal(mode(path.join(server.dataDir, 'ci')), 0o711);
    assert.equal(mode(mirrors()), 0o711);
    assert.equal(mode(path.join(server.dataDir, 'secrets')), 0o700);
    assert.equal(mode(keyFile()), 0o600);
    assert.match(readFileSync(keyFile(), 'utf8'), /^[0-9a-f]{64}\n$/);
    const names = readdirSync(mirrors());
    assert.equal(names.length, 1, names.join(', '));
    assert.match(names[0]!, /^[0-9a-f]{32}\.git$/);
    assert.notEqual(names[0], `${legacyName(repo.cloneUrl)}.git`, 'not a name anyone could compute from the URL');
    // Made under umask 077, the mirror is still readable by all (core.sharedRepository).
    const mirror = path.join(mirrors(), names[0]!);
    assert.equal(mode(mirror) & 0o755, 0o755);
    for (const file of walk(path.join(mirror, 'objects'))) assert.equal(mode(file) & 0o444, 0o444, file);
  });

  it('moves a mirror an earlier version made (sha256 name, private) to its keyed name at its first use, without fetching it again', async () => {
    await server.stop();
    const [name] = readdirSync(mirrors());
    const legacy = path.join(mirrors(), `${legacyName(repo.cloneUrl)}.git`);
    // As the previous version left it: under the old name, without the shared setting, made under umask 077.
    renameSync(path.join(mirrors(), name!), legacy);
    execFileSync('git', ['-C', legacy, 'config', '--unset', 'core.sharedRepository']);
    execFileSync('chmod', ['-R', 'go-rwx', legacy]);
    const { ino } = statSync(legacy);
    const packs = readdirSync(path.join(legacy, 'objects', 'pack'));
    await server.launch();

    const { run, commit } = await pushAndRun('1.0.1');
    assert.deepEqual(stepStates(run), { clone: 'success', probe: 'success' }, JSON.stringify(run));
    await assertClonedFromMirror(run, commit);
    assert.match(await server.stepLog(run, 'probe'), /\+ cat VERSION\n1\.0\.1\n$/);
    assert.equal(existsSync(legacy), false, 'the old name is gone');
    assert.deepEqual(readdirSync(mirrors()), [name], 'moved to its keyed name');
    const mirror = path.join(mirrors(), name!);
    assert.equal(statSync(mirror).ino, ino, 'the same directory, moved, not made again');
    for (const pack of packs) assert.ok(existsSync(path.join(mirror, 'objects', 'pack', pack)), `${pack} kept`);
    assert.equal(execFileSync('git', ['-C', mirror, 'config', 'core.sharedRepository'], { encoding: 'utf8' }).trim(), '0644');
    for (const file of walk(path.join(mirror, 'objects'))) assert.equal(mode(file) & 0o444, 0o444, file);
  });
});

/** The name (without .git) mirrors had before they were keyed: sha256 of the clone URL, 24 hex digits. */
function legacyName(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 24);
}

/** Every file and directory under `dir`, `dir` included. */
function walk(dir: string): string[] {
  const found = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(full));
    else found.push(full);
  }
  return found;
}
