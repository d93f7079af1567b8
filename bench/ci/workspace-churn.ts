// What a CI agent's churn of workspaces does to the cost of its next workspace, with the workspaces'
// root flagged for spreading (chattr +T, as Gantry's agent does: src/shared/spread-directories.ts)
// and without (a plain root, as Jenkins, Buildbot and Woodpecker's local backend lay theirs out).
//
// Each round creates one workspace-like tree in each root (a directory, 4 subdirectories, 45 small
// files: about what `git init` plus the checkout of bench/ci's repository create), times it, and
// deletes it; the two roots take turns, so the machine's noise falls on both. Rounds are a second
// apart, as runs on a busy agent are: ext4 does not count an inode freed in the current second as
// recently freed. On ext4 without a journal, the plain root's creates slow down as the freed inodes
// pile up (ext4 skips an inode for 60-300 s after it is freed, and walks past every one of them); on
// other filesystems both columns should stay alike, which is worth knowing too.
//
// Usage: npm run bench:workspaces [-- --rounds 120 --interval-ms 1000 --dir /var/lib/gantry]
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spreadNewSubdirectories } from '../../src/shared/spread-directories.ts';
import { percentile, printTable } from './measure.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '120' },
    'interval-ms': { type: 'string', default: '1000' },
    dir: { type: 'string', default: os.tmpdir() },
  },
});
const ROUNDS = Number(values.rounds);
const INTERVAL_MS = Number(values['interval-ms']);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, not "${values.rounds}"`);
if (!Number.isFinite(INTERVAL_MS) || INTERVAL_MS < 0) throw new Error(`--interval-ms must be a number of milliseconds, not "${values['interval-ms']}"`);

const FILES = 45;
const SUBDIRS = 4;
const INODES = 1 + SUBDIRS + FILES;

/** Creates one workspace-like tree under `root`; returns its path and the ms it took. */
function createTree(root: string, name: string): { dir: string; ms: number } {
  const started = performance.now();
  const dir = path.join(root, name);
  mkdirSync(dir);
  for (let d = 0; d < SUBDIRS; d++) mkdirSync(path.join(dir, `d${d}`));
  for (let f = 0; f < FILES; f++) {
    const fd = openSync(path.join(dir, `d${f % SUBDIRS}`, `f${f}.ts`), 'w');
    writeSync(fd, `export const value = ${f};\n`);
    closeSync(fd);
  }
  return { dir, ms: performance.now() - started };
}

function filesystemOf(dir: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

// Both roots under one scratch directory that is itself flagged, so that each starts in a block
// group of its own, away from whatever this machine freed before the run.
const scratch = mkdtempSync(path.join(values.dir, 'bench-workspaces-'));
const flaggedScratch = (await spreadNewSubdirectories(scratch)).spread;
const plainRoot = path.join(scratch, 'plain');
const spreadRoot = path.join(scratch, 'spread');
mkdirSync(plainRoot);
mkdirSync(spreadRoot);
const spreadFlagged = (await spreadNewSubdirectories(spreadRoot)).spread;

console.log(`workspace churn: ${ROUNDS} rounds ${INTERVAL_MS} ms apart, one tree of ${INODES} inodes created and deleted in each root, under ${scratch} (${filesystemOf(scratch)})`);
if (!spreadFlagged) console.log('  the filesystem refused the flag (chattr +T): the two columns measure the same thing here');
if (!flaggedScratch) console.log('  the scratch directory could not be flagged: the two roots may share a block group');

const times = { plain: [] as number[], spread: [] as number[] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which root goes first, so neither always follows the other's deletion.
    const order = round % 2 === 0 ? (['plain', 'spread'] as const) : (['spread', 'plain'] as const);
    for (const which of order) {
      const root = which === 'plain' ? plainRoot : spreadRoot;
      const { dir, ms } = createTree(root, `ws-${round}`);
      times[which].push(ms);
      rmSync(dir, { recursive: true });
    }
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const span = (list: number[], from: number, to: number) => list.slice(from, to);
const cell = (list: number[]) => (list.length ? `${percentile(list, 0.5).toFixed(1)} / ${percentile(list, 0.99).toFixed(1)} ms` : 'n/a');
const perInode = (list: number[]) => (list.length ? `${((percentile(list, 0.5) * 1000) / INODES).toFixed(0)} µs` : 'n/a');
const tenth = Math.max(1, Math.floor(ROUNDS / 10));
const rows = [
  [`rounds 1-${tenth}`, cell(span(times.plain, 0, tenth)), cell(span(times.spread, 0, tenth))],
  [`rounds ${ROUNDS - tenth + 1}-${ROUNDS}`, cell(span(times.plain, ROUNDS - tenth, ROUNDS)), cell(span(times.spread, ROUNDS - tenth, ROUNDS))],
  ['all rounds', cell(times.plain), cell(times.spread)],
  ['per inode, all rounds (p50)', perInode(times.plain), perInode(times.spread)],
];
console.log('');
printTable(['creating one workspace tree, p50 / p99', 'plain root (Jenkins, Buildbot)', 'root flagged +T (Gantry)'], rows);
