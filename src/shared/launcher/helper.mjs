// The launcher helper: a small long-lived process that starts processes for Gantry's server and agents.
//
// Why a separate process: `spawn` blocks the calling thread while the kernel copies the caller's page
// tables (libuv forks), 4–10 ms from a 200–300 MiB server, and a tick of the batch scheduler or a CI
// burst starts tens of processes at once. This process is ~40 MiB, so its forks are cheap, and they
// never stall the server's event loop. It is plain JavaScript run by `node` without a loader, so it
// starts in ~50 ms.
//
// It also outlives its client: it runs in its own session, so when the agent dies (kill -9, a crash,
// an upgrade) it is still the parent of the tasks it started, reaps them, and writes each one's exit
// status to the file the client named (`exitFile`). A restarted agent reads the real exit code there
// instead of "unknown". Once its client is gone (stdin closed) it starts nothing, kills the short
// `run` commands (their caller is gone), and exits when its last detached task has ended.
//
// Protocol: one JSON object per line. Requests on stdin:
//   {op: 'spawn', id, argv, cwd, env, stdoutPath, stderrPath, exitFile?, recordFile?, record?, releaseAt?}
//       a detached task: its own process group and session, stdin /dev/null, stdout and stderr
//       appended to the files (made new: O_APPEND, as the task's processes share them).
//       The files in the sandbox are made new, never opened through what is there (O_EXCL, no link
//       followed): the sandbox may belong to the task's user, who could have left a link to a file of
//       root's in its place (src/cluster/drivers/exec-user.ts).
//       With recordFile, `record` plus {pid, pgid, startTime} is written there before the answer:
//       the client may die right after asking, and its successor must still find the task (a record
//       that cannot be written kills the task: an error answer, as if it had not started).
//       With releaseAt (ms since the epoch), stdin is a pipe on which one line is written at that
//       instant: the task's prelude waits for it (`read`), so its command starts then, however many
//       tasks were spawned ahead for the same instant.
//   {op: 'run', id, argv, cwd, env, input?, maxBuffer, timeoutMs?}
//       a short command whose output the caller wants (git): stdout and stderr captured (base64);
//       killed with SIGKILL after timeoutMs.
//   {op: 'mkdirs', id, setups: [{dir, files: [{name, content, optional?}]}]}
//       directories made and files written in them, synchronously (a task's cgroups: ~0.2 ms here
//       against 25–100 ms for the same 160 operations through a busy server's thread pool). A dir
//       that exists is removed and made again, unless an earlier setup of this request made it.
// Answers on stdout:
//   {id, op: 'spawned', pid, startTime}   the task runs (startTime: field 22 of /proc/PID/stat)
//   {id, op: 'exit', code, signal}        a spawned task ended (after its exitFile was written)
//   {id, op: 'done', code, signal, stdout, stderr, truncated}   a run ended
//   {id, op: 'made', results}             per setup: null, or why it failed ("mkdir PATH: EACCES")
//   {id, op: 'error', message, code}      the process could not be started
//   {op: 'log', message}                  something went wrong outside of a request (the helper's
//                                         stderr goes nowhere: a pipe it held would keep a parent's
//                                         reader waiting after the parent died)
// @ts-check
import { spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import readline from 'node:readline';

/** A new file, never one that is there (a link the sandbox's user left would be followed). */
const NEW_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const TASK_FILE_FLAGS = NEW_FILE_FLAGS | constants.O_APPEND;

/** @type {Set<number>} pids of the detached tasks still running */
const tasks = new Set();
/** @type {Set<import('node:child_process').ChildProcess>} the `run` commands still running */
const runs = new Set();
let orphaned = false;

/** @param {object} message */
function answer(message) {
  if (orphaned) return;
  process.stdout.write(JSON.stringify(message) + '\n');
}

function exitWhenIdle() {
  if (orphaned && tasks.size === 0) process.exit(0);
}

/** Field 22 of /proc/PID/stat (clock ticks since boot), read before the child can have been reaped. */
function startTimeOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]) || 0;
  } catch {
    return 0;
  }
}

/** Removes `file` (not what a link there points to); missing is fine. */
function removeFile(file) {
  try {
    unlinkSync(file);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
}

/** Opens a new `file` in place of whatever is there (see NEW_FILE_FLAGS). */
function openNewFile(file, flags = NEW_FILE_FLAGS) {
  removeFile(file);
  return openSync(file, flags, 0o644);
}

/** Writes a small JSON file whole (never half-written: a rename; the rename replaces a link itself). */
function writeJsonFile(file, value) {
  const fd = openNewFile(`${file}.tmp`);
  try {
    writeSync(fd, JSON.stringify(value) + '\n');
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
}

function writeExitFile(file, status) {
  try {
    writeJsonFile(file, status);
  } catch (err) {
    answer({ op: 'log', message: `cannot write ${file}: ${err.message}` });
  }
}

function startTask(req) {
  if (orphaned) return;
  let out, err;
  try {
    out = openNewFile(req.stdoutPath, TASK_FILE_FLAGS);
    err = openNewFile(req.stderrPath, TASK_FILE_FLAGS);
  } catch (e) {
    if (out !== undefined) closeSync(out);
    answer({ id: req.id, op: 'error', message: e.message, code: e.code });
    return;
  }
  let child;
  try {
    const stdin = req.releaseAt === undefined ? 'ignore' : 'pipe';
    child = spawn(req.argv[0], req.argv.slice(1), { cwd: req.cwd, env: req.env, detached: true, stdio: [stdin, out, err] });
  } catch (e) {
    answer({ id: req.id, op: 'error', message: e.message, code: e.code });
    return;
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const pid = child.pid;
  if (pid === undefined) {
    child.once('error', (e) => answer({ id: req.id, op: 'error', message: e.message, code: e.code }));
    return;
  }
  const startTime = startTimeOf(pid);
  if (req.recordFile) {
    try {
      writeJsonFile(req.recordFile, { ...req.record, pid, pgid: pid, startTime });
    } catch (e) {
      child.on('error', () => undefined);
      child.stdin?.destroy();
      try {
        process.kill(-pid, 'SIGKILL'); // the whole group: it has had no time to leave it
      } catch {
        // already gone
      }
      answer({ id: req.id, op: 'error', message: `cannot write ${req.recordFile}: ${e.message}`, code: e.code });
      return; // its exit is reaped by node; no exit file, no exit answer
    }
  }
  tasks.add(pid);
  if (child.stdin) {
    const gate = child.stdin;
    gate.on('error', () => undefined); // the task ended (or was killed) before its instant
    setTimeout(() => gate.end('\n'), Math.max(0, req.releaseAt - Date.now()));
  }
  child.on('error', () => undefined); // a failed kill() is not the task's end; 'exit' still comes
  child.once('exit', (code, signal) => {
    const status = { pid, startTime, code, signal, endedAt: new Date().toISOString() };
    if (req.exitFile) writeExitFile(req.exitFile, status);
    tasks.delete(pid);
    answer({ id: req.id, op: 'exit', code, signal });
    exitWhenIdle();
  });
  answer({ id: req.id, op: 'spawned', pid, startTime });
}

function runCommand(req) {
  if (orphaned) return;
  let child;
  try {
    child = spawn(req.argv[0], req.argv.slice(1), { cwd: req.cwd, env: req.env, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    answer({ id: req.id, op: 'error', message: e.message, code: e.code });
    return;
  }
  const maxBuffer = req.maxBuffer ?? 16 * 1024 * 1024;
  const captured = { stdout: [], stderr: [] };
  const sizes = { stdout: 0, stderr: 0 };
  let truncated = false;
  for (const name of /** @type {const} */ (['stdout', 'stderr'])) {
    child[name].on('data', (chunk) => {
      if (sizes[name] + chunk.length > maxBuffer) {
        truncated = true;
        chunk = chunk.subarray(0, Math.max(0, maxBuffer - sizes[name]));
      }
      sizes[name] += chunk.length;
      if (chunk.length > 0) captured[name].push(chunk);
    });
  }
  runs.add(child);
  const timer = req.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), req.timeoutMs) : null;
  let failed = false;
  child.once('error', (e) => {
    failed = true;
    runs.delete(child);
    answer({ id: req.id, op: 'error', message: e.message, code: e.code });
  });
  child.stdin.on('error', () => undefined); // a command that does not read its input
  child.stdin.end(req.input === undefined ? undefined : Buffer.from(req.input, 'base64'));
  child.once('close', (code, signal) => {
    if (timer) clearTimeout(timer);
    runs.delete(child);
    if (failed) return;
    answer({
      id: req.id,
      op: 'done',
      code,
      signal,
      stdout: Buffer.concat(captured.stdout).toString('base64'),
      stderr: Buffer.concat(captured.stderr).toString('base64'),
      truncated,
    });
  });
}

/** "SYSCALL PATH: CODE", as the TypeScript side words a failed file operation. */
function failure(e) {
  return e.code ? `${e.syscall ?? 'write'} ${e.path ?? ''}: ${e.code}`.replace(' :', ':') : String(e.message);
}

function makeDirs(req) {
  const made = new Set();
  const results = req.setups.map((setup) => {
    try {
      if (!made.has(setup.dir)) {
        try {
          mkdirSync(setup.dir);
        } catch (e) {
          if (e.code !== 'EEXIST') throw e;
          rmdirSync(setup.dir); // left by an earlier run of the same name; fails (EBUSY) if still in use
          mkdirSync(setup.dir);
        }
        made.add(setup.dir);
      }
      for (const file of setup.files) {
        try {
          writeFileSync(`${setup.dir}/${file.name}`, file.content);
        } catch (e) {
          if (!file.optional) throw e;
        }
      }
      return null;
    } catch (e) {
      return failure(e);
    }
  });
  answer({ id: req.id, op: 'made', results });
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    answer({ op: 'log', message: 'a request that is not JSON was ignored' });
    return;
  }
  if (req.op === 'spawn') startTask(req);
  else if (req.op === 'run') runCommand(req);
  else if (req.op === 'mkdirs') makeDirs(req);
  else answer({ id: req.id, op: 'error', message: `unknown op ${JSON.stringify(req.op)}`, code: 'EINVAL' });
});
lines.on('close', () => {
  // The client is gone: keep reaping the detached tasks (their exit files matter to the next agent),
  // stop the short commands nobody waits for.
  orphaned = true;
  for (const child of runs) child.kill('SIGKILL');
  exitWhenIdle();
});
// stdout is a pipe to a client that may be gone: never die of EPIPE while tasks still need reaping.
process.stdout.on('error', () => {
  orphaned = true;
  exitWhenIdle();
});
for (const signal of ['SIGHUP', 'SIGPIPE']) process.on(signal, () => undefined);
