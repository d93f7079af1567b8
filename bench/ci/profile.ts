// Summarizes a V8 .cpuprofile (node --cpu-prof) of the server: where its main thread's time went, by
// function (self time) and by module (a src/ file, a node_modules package, node's internals), with the
// idle share. Used for the analysis in bench/README.md.
//
// With --windows (the windows.json bench/ci/run.ts --cpu-prof writes beside the profile) it also shows,
// for each kind of measured stage (e.g. "step: task staged → running"), how much of that wall time the
// main thread was busy, and with what.
//
// Usage: node --import tsx bench/ci/profile.ts FILE.cpuprofile [--top 25] [--windows windows.json]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, windows: { type: 'string' } } });
const file = positionals[0];
if (!file) {
  console.error('usage: node --import tsx bench/ci/profile.ts FILE.cpuprofile [--top 25]');
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = profile.endTime - profile.startTime;

function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = clean.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (clean.startsWith('node:')) return 'node internals';
  const src = clean.indexOf('/src/');
  return src >= 0 ? clean.slice(src + 1) : path.basename(clean);
}

const byFunction = new Map<string, number>();
const byModule = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const mod = moduleOf(url, functionName);
  const key = `${functionName || '(anonymous)'}  ${url ? `${mod}:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byModule.set(mod, (byModule.get(mod) ?? 0) + us);
}
const idle = byFunction.get('(idle)  ') ?? 0;
const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s profiled, idle ${pct(idle)}, busy ${((totalUs - idle) / 1e6).toFixed(2)} s`);
console.log('\nby module (self time, share of the profiled wall time):');
for (const [mod, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${mod}`);
console.log('\nby function (self time):');
for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${fn}`);

// ---- windows --------------------------------------------------------------------------------------

if (values.windows) {
  const { wallMinusMonotonicMs, windows } = JSON.parse(readFileSync(values.windows, 'utf8')) as { wallMinusMonotonicMs: number; windows: Array<{ label: string; from: number; to: number }> };
  // Sample i ends at startTime + the sum of the deltas up to i (µs, monotonic); it stands for delta[i].
  const ends: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) ends.push((t += d));
  const wallOf = (us: number) => us / 1000 + wallMinusMonotonicMs;
  const labels = [...new Set(windows.map((w) => w.label))];
  console.log('\nthe main thread during the measured stages (summed over every occurrence of each):');
  for (const label of labels) {
    const mine = windows.filter((w) => w.label === label).sort((a, b) => a.from - b.from);
    const wallMs = mine.reduce((sum, w) => sum + (w.to - w.from), 0);
    const fns = new Map<string, number>();
    /** Inclusive time of the project's own functions (src/): what the busy time was spent under. */
    const inclusive = new Map<string, number>();
    let busyUs = 0;
    let j = 0;
    for (let i = 0; i < ends.length; i++) {
      const endMs = wallOf(ends[i]!);
      while (j < mine.length && mine[j]!.to < endMs) j++;
      // Windows of one label do not overlap much; a sample counts once if inside any of them.
      const inside = mine.slice(j, j + 3).some((w) => endMs >= w.from && endMs <= w.to);
      if (!inside) continue;
      const node = byId.get(profile.samples[i]!)!;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') continue;
      const us = profile.timeDeltas[i] ?? 0;
      busyUs += us;
      const key = `${functionName || '(anonymous)'}${url ? `  ${moduleOf(url, functionName)}:${lineNumber + 1}` : ''}`;
      fns.set(key, (fns.get(key) ?? 0) + us);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
        const frame = byId.get(id)!.callFrame;
        if (!frame.url.includes('/src/')) continue;
        const name = `${frame.functionName || '(anonymous)'}  ${moduleOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}`;
        if (seen.has(name)) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
    console.log(`\n${label}: ${mine.length} × , ${wallMs.toFixed(0)} ms of wall time, main thread busy ${(busyUs / 1000).toFixed(0)} ms (${((100 * busyUs) / 1000 / Math.max(1, wallMs)).toFixed(0)} %), per occurrence ${(wallMs / mine.length).toFixed(1)} ms wall, ${(busyUs / 1000 / mine.length).toFixed(1)} ms busy`);
    console.log('  self time:');
    for (const [fn, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`    ${(us / 1000 / mine.length).toFixed(2).padStart(7)} ms per occurrence  ${fn}`);
    console.log('  under these functions of src/ (inclusive):');
    for (const [fn, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`    ${(us / 1000 / mine.length).toFixed(2).padStart(7)} ms per occurrence  ${fn}`);
  }
}
