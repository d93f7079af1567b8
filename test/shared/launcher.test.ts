// The launcher helper: processes started by a small helper process instead of by us (no fork of the
// caller), their output and exit, errors, and what happens when the helper dies.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LaunchError, ProcessLauncher } from '../../src/shared/launcher/launcher.ts';

describe('process launcher', function () {
  this.timeout(20_000);
  let dir: string;
  let launcher: ProcessLauncher;
  const logged: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-launcher-'));
    launcher = new ProcessLauncher((m) => logged.push(m));
  });
  afterEach(async () => {
    launcher.close();
    await rm(dir, { recursive: true, force: true });
  });

  const detached = (script: string, extra: { cwd?: string } = {}) => ({
    argv: ['/bin/sh', '-c', script],
    cwd: extra.cwd ?? dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hello' },
    stdoutPath: path.join(dir, 'stdout'),
    stderrPath: path.join(dir, 'stderr'),
    exitFile: path.join(dir, 'exit.json'),
  });

  it('runs a command with its output, exit code, input, working directory and environment', async () => {
    const result = await launcher.run(['/bin/sh', '-c', 'cat; echo " $PWD $ONLY" ; echo oops >&2; exit 4'], {
      cwd: dir,
      env: { PATH: process.env.PATH, ONLY: 'this' },
      input: 'from stdin',
    });
    assert.equal(result.stdout.toString(), `from stdin ${dir} this\n`);
    assert.equal(result.stderr.toString(), 'oops\n');
    assert.equal(result.exitCode, 4);
    assert.equal(result.signal, null);
    assert.equal(result.truncated, false);
  });

  it('keeps binary output intact and cuts it at maxBuffer', async () => {
    const result = await launcher.run(['/bin/sh', '-c', 'printf "\\000\\377abc"; head -c 100000 /dev/zero'], { maxBuffer: 1000 });
    assert.equal(result.stdout.length, 1000);
    assert.deepEqual([...result.stdout.subarray(0, 5)], [0, 0xff, 0x61, 0x62, 0x63]);
    assert.equal(result.truncated, true);
    assert.equal(result.exitCode, 0);
  });

  it('kills a command that outlives its timeout', async () => {
    const result = await launcher.run(['/bin/sleep', '10'], { timeoutMs: 100 });
    assert.equal(result.signal, 'SIGKILL');
    assert.equal(result.exitCode, null);
  });

  it('says why a command cannot start, with its errno code', async () => {
    await assert.rejects(launcher.run(['/no/such/program']), (err: LaunchError) => err instanceof LaunchError && err.code === 'ENOENT');
    await assert.rejects(
      launcher.spawnDetached(detached('true', { cwd: path.join(dir, 'missing') })),
      (err: LaunchError) => err instanceof LaunchError && err.code === 'ENOENT',
    );
    await assert.rejects(
      launcher.spawnDetached({ ...detached('true'), stdoutPath: path.join(dir, 'no', 'dir', 'stdout') }),
      (err: LaunchError) => err.code === 'ENOENT' && /stdout/.test(err.message),
    );
  });

  it('starts a detached process in its own group, output to files, and reports its exit in exit.json too', async () => {
    const started = await launcher.spawnDetached(detached('echo $GREETING; echo err >&2; ps -o pgid= -p $$ | tr -d " "; exit 9'));
    assert.ok(started.pid > 1);
    assert.ok(started.startTime > 0);
    assert.deepEqual(await started.exited, { exitCode: 9, signal: null });
    assert.equal(await readFile(path.join(dir, 'stdout'), 'utf8'), `hello\n${started.pid}\n`, 'its own process group');
    assert.equal(await readFile(path.join(dir, 'stderr'), 'utf8'), 'err\n');
    const status = JSON.parse(await readFile(path.join(dir, 'exit.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(status.pid, started.pid);
    assert.equal(status.startTime, started.startTime);
    assert.equal(status.code, 9);
  });

  it('writes the record file with the pid before it answers; a process it cannot record is killed, not run', async () => {
    const marker = path.join(dir, 'ran');
    const recordFile = path.join(dir, 'task.json');
    const started = await launcher.spawnDetached({ ...detached('sleep 30'), recordFile, record: { taskId: 't1' } });
    // Read at once, with nothing awaited in between: written before the answer, not after it.
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(record, { taskId: 't1', pid: started.pid, pgid: started.pid, startTime: started.startTime });
    process.kill(-started.pid, 'SIGKILL');

    await assert.rejects(
      launcher.spawnDetached({ ...detached(`sleep 0.3; touch ${marker}`), recordFile: path.join(dir, 'no', 'dir', 'task.json'), record: {} }),
      (err: LaunchError) => err.code === 'ENOENT' && /cannot write .*task\.json/.test(err.message),
    );
    await new Promise((r) => setTimeout(r, 600));
    await assert.rejects(readFile(marker), /ENOENT/, 'the unrecorded process was killed before its command ran');
  });

  it('reports a signal as the end of a process killed by one', async () => {
    const started = await launcher.spawnDetached(detached('sleep 30'));
    process.kill(-started.pid, 'SIGTERM');
    assert.deepEqual(await started.exited, { exitCode: null, signal: 'SIGTERM' });
  });

  it('makes directories with their files, again when they exist, and says why a setup failed', async () => {
    const a = path.join(dir, 'a');
    const results = await launcher.makeDirs([
      { dir: a, files: [{ name: 'one', content: '1' }, { name: 'no/such/dir', content: 'x', optional: true }] },
      { dir: a, files: [{ name: 'two', content: '2' }] }, // the same directory: kept, not made again
      { dir: path.join(dir, 'b'), files: [{ name: 'missing/file', content: 'x' }] },
      { dir: path.join(dir, 'no', 'parent'), files: [] },
    ]);
    assert.deepEqual(results.slice(0, 2), [null, null]);
    assert.match(results[2]!, /^open .*\/b\/missing\/file: ENOENT$/);
    assert.match(results[3]!, /^mkdir .*\/no\/parent: ENOENT$/);
    assert.equal(await readFile(path.join(a, 'one'), 'utf8'), '1');
    assert.equal(await readFile(path.join(a, 'two'), 'utf8'), '2');
    // An empty directory left by an earlier run is made again; one that is in use (not empty) is an error.
    await rm(path.join(a, 'one'));
    await rm(path.join(a, 'two'));
    assert.deepEqual(await launcher.makeDirs([{ dir: a, files: [{ name: 'three', content: '3' }] }]), [null]);
    assert.match((await launcher.makeDirs([{ dir: a, files: [] }]))[0]!, /^rmdir .*: ENOTEMPTY$/);
  });

  it('when the helper dies: pending exits resolve null, and the next request starts a new helper', async () => {
    const started = await launcher.spawnDetached(detached('sleep 30'));
    const helperPid = Number((await readFile(`/proc/${started.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[1]);
    assert.notEqual(helperPid, process.pid, 'the helper, not this process, is the parent');
    process.kill(helperPid, 'SIGKILL');
    assert.equal(await started.exited, null);
    assert.ok(logged.some((m) => /helper exited \(SIGKILL\)/.test(m)), logged.join('\n'));
    process.kill(-started.pid, 'SIGKILL');
    const result = await launcher.run(['/bin/echo', 'again']);
    assert.equal(result.stdout.toString(), 'again\n');
  });
});
