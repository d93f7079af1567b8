// The peer: Debian's cron daemon (Vixie cron 3.0pl1, package `cron`) with root's crontab holding the
// same job set (cron's resolution is a minute, so the frequent lines run every minute). Every line
// appends its name and the time its shell started to a file, as Gantry's jobs do.
//
// Root's crontab is saved before ours is installed and put back afterwards (or removed when there was
// none); the saved copy stays in a file until it is restored, and its path is printed. The daemon is
// started in the foreground (`cron -f`, as Debian's cron.service runs it) and stopped by its pid, unless
// one was already running: then that one is used and left running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dailyName, frequentName, type Workload } from './workload.ts';

const CRON = '/usr/sbin/cron';
const CRONTAB = '/usr/bin/crontab';
const PIDFILES = ['/run/crond.pid', '/var/run/crond.pid'];
const MAX_CRONTAB_LINES = 10_000;

/** Why the peer cannot run here (with how to fix it), or null when it can. */
export function cronUnavailable(): string | null {
  if (!existsSync(CRON) || !existsSync(CRONTAB)) return 'Debian\'s cron is not installed: sudo apt-get install -y cron   (or pass --peer off)';
  if (process.getuid?.() !== 0) return 'the cron peer needs root (it installs root\'s crontab and starts the daemon): run as root, or pass --peer off';
  return null;
}

export function cronVersion(): string {
  const out = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'cron'], { encoding: 'utf8' });
  return out.status === 0 ? `cron ${out.stdout.trim()}` : 'cron';
}

/** The pid of a cron daemon already running, if any. */
function runningDaemon(): number | undefined {
  for (const file of PIDFILES) {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'cron') return pid;
    } catch {
      // no such file or process
    }
  }
  return undefined;
}

/** `% ` must be escaped in a crontab command (an unescaped % ends the command and starts its stdin). */
const cronCommand = (name: string, file: string): string => `echo "${name} $(date +\\%s.\\%N)" >> ${file}`;

/**
 * One line per job and nothing else: Debian's crontab refuses a file of more than 10,000 lines
 * (comments and variables included), so 10,000 jobs is exactly its limit. No MAILTO is needed: the
 * commands print nothing, so cron has nothing to mail.
 */
export function crontabText(w: Workload, dayStart: number, file: string): string {
  if (w.total > MAX_CRONTAB_LINES) throw new Error(`Debian's crontab holds at most ${MAX_CRONTAB_LINES} lines: --jobs ${w.total} cannot be compared with cron (pass --peer off)`);
  const lines: string[] = [];
  for (let i = 0; i < w.frequent; i++) lines.push(`* * * * * ${cronCommand(frequentName(i), file)}`);
  for (const [i, second] of w.dailySeconds.entries()) {
    // The daemon reads times in its local zone (it inherits ours); the instant is the UTC one.
    const at = new Date(dayStart + second * 1000);
    lines.push(`${at.getMinutes()} ${at.getHours()} * * * ${cronCommand(dailyName(i), file)}`);
  }
  return lines.join('\n') + '\n';
}

export interface CronPeer {
  /** The daemon's pid (for /proc sampling). */
  pid: number;
  /** True when this benchmark started the daemon (and will stop it). */
  started: boolean;
  /** Stops the daemon if we started it and puts root's crontab back. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** Saves root's crontab, installs `text`, and starts the daemon (unless one runs). */
export async function startCron(text: string, workDir: string): Promise<CronPeer> {
  const backup = path.join(os.tmpdir(), `gantry-bench-batch-root-crontab.${process.pid}.bak`);
  const previous = spawnSync(CRONTAB, ['-l'], { encoding: 'utf8' });
  const hadCrontab = previous.status === 0;
  if (hadCrontab) writeFileSync(backup, previous.stdout);
  const ours = path.join(workDir, 'crontab');
  writeFileSync(ours, text);
  const installed = spawnSync(CRONTAB, [ours], { encoding: 'utf8' });
  if (installed.status !== 0) throw new Error(`crontab ${ours} failed: ${installed.stderr}`);

  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    const result = hadCrontab ? spawnSync(CRONTAB, [backup], { encoding: 'utf8' }) : spawnSync(CRONTAB, ['-r'], { encoding: 'utf8' });
    if (result.status !== 0) {
      console.error(`could not restore root's crontab (${result.stderr.trim()})${hadCrontab ? `; the saved copy is ${backup}` : ': remove ours with crontab -r'}`);
      return;
    }
    if (hadCrontab) rmSync(backup, { force: true });
  };

  const existing = runningDaemon();
  let child: ChildProcess | undefined;
  if (existing === undefined) {
    child = spawn(CRON, ['-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    // cron -f prints nothing when it starts well: give it a moment to fail (pid file locked, ...).
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode !== null) {
      restore();
      throw new Error(`cron -f exited with ${child.exitCode}: ${out}`);
    }
  } else {
    console.log(`a cron daemon is already running (pid ${existing}): using it, it picks up the crontab at the next minute`);
  }

  return {
    pid: child?.pid ?? existing ?? 0,
    started: child !== undefined,
    cleanup: async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child!.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      restore();
    },
  };
}
