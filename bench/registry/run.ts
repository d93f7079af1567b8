// Registry benchmark: Gantry's bundled registry against CNCF distribution (Debian's docker-registry
// 2.8), both started in this run on free loopback ports with fresh temporary data directories, driven
// by the same client, one registry at a time (the other idle):
//   1. upload of a large blob (default 1 GiB): POST + one streamed PATCH + PUT ?digest= (docker's way),
//      and monolithic POST ?digest= where the registry supports it
//   2. download of that blob (GET, drained), DOWNLOADS times per registry, alternating, median shown
//   3. manifest GET (by tag, with Accept) requests/s under wrk, blob HEAD under ab -k -i (wrk cannot
//      count HEAD answers that carry a Content-Length)
//   4. inodes used per pushed 3-layer image (10 distinct images)
//   5. server RSS sampled every 100 ms during the large upload, the download and the manifest GETs
// Needs docker-registry, wrk and ab (it says how to install them). Exits non-zero only on errors.
// Usage: npm run bench:registry [-- --size-mib 1024 --duration 10 --connections 32]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { blobDigest, download, OCI_MANIFEST, pushImage, uploadMonolithic, uploadStreamed } from './client.ts';
import { countInodes, mbPerSecond, runAbHead, runWrk, withRss } from './measure.ts';
import { checkTools, distributionVersion, startDistribution, startGantry, type RunningRegistry } from './servers.ts';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got "${text}")`);
  return n;
};
const size = positive('size-mib', values['size-mib']) * 2 ** 20;
const wrkOpts = { threads: 2, connections: positive('connections', values.connections), durationS: positive('duration', values.duration) };
const IMAGES = 10;
const DOWNLOADS = 3;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

checkTools();
const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`registry benchmark: ${size / 2 ** 20} MiB blob, wrk -t${wrkOpts.threads} -c${wrkOpts.connections} -d${wrkOpts.durationS}s (HEAD: ab -k -c${wrkOpts.connections}), ${IMAGES} images for inodes`);
console.log(`machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, distribution ${distributionVersion()}, data in ${os.tmpdir()}\n`);

process.stdout.write('hashing the test blobs... ');
const streamedSeed = 1;
const monolithicSeed = 2;
const streamedDigest = blobDigest(size, streamedSeed);
const monolithicDigest = blobDigest(size, monolithicSeed);
console.log('done');

type Row = { label: string; unit: string; higherIsBetter: boolean; values: Map<string, number | undefined> };
const rows: Row[] = [];
const row = (label: string, unit: string, higherIsBetter = true): Row => {
  const r: Row = { label, unit, higherIsBetter, values: new Map() };
  rows.push(r);
  return r;
};
const flushDisk = (): void => void spawnSync('sync');

const registries: RunningRegistry[] = [];
try {
  registries.push(await startGantry(), await startDistribution());
  const [upload, rssBefore, rssMax, rssAfter] = [row('upload POST+PATCH+PUT', 'MB/s'), row('  server RSS before', 'MiB', false), row('  server RSS max during', 'MiB', false), row('  server RSS after', 'MiB', false)];
  const [mono, monoRss, down, downRss] = [
    row('upload monolithic POST ?digest=', 'MB/s'),
    row('  server RSS max during', 'MiB', false),
    row(`download GET, median of ${DOWNLOADS}`, 'MB/s'),
    row('  server RSS max during', 'MiB', false),
  ];
  const [manifests, manifestRss, heads, inodes] = [
    row('manifest GET by tag', 'req/s'),
    row('  server RSS max during', 'MiB', false),
    row('blob HEAD (ab)', 'req/s'),
    row('inodes per 3-layer image', 'inodes', false),
  ];

  for (const reg of registries) {
    flushDisk();
    const r = await withRss(reg.pid, () => uploadStreamed(reg, 'bench/big', size, streamedSeed, streamedDigest));
    upload.values.set(reg.name, mbPerSecond(size, r.ms));
    rssBefore.values.set(reg.name, r.rss.beforeMiB);
    rssMax.values.set(reg.name, r.rss.maxMiB);
    rssAfter.values.set(reg.name, r.rss.afterMiB);
    console.log(`${reg.name}: streamed upload ${mbPerSecond(size, r.ms).toFixed(0)} MB/s, RSS ${r.rss.beforeMiB.toFixed(0)} → max ${r.rss.maxMiB.toFixed(0)} MiB`);
  }
  for (const reg of registries) {
    // Probe with a small blob first: a registry without monolithic POST would answer 202 and ignore 1 GiB.
    const probe = await uploadMonolithic(reg, 'bench/probe', 4096, 99, blobDigest(4096, 99));
    if (!probe) {
      console.log(`${reg.name}: no monolithic POST ?digest= (answers 202, a session)`);
      continue;
    }
    flushDisk();
    const r = await withRss(reg.pid, () => uploadMonolithic(reg, 'bench/mono', size, monolithicSeed, monolithicDigest));
    mono.values.set(reg.name, mbPerSecond(size, r.ms));
    monoRss.values.set(reg.name, r.rss.maxMiB);
    console.log(`${reg.name}: monolithic upload ${mbPerSecond(size, r.ms).toFixed(0)} MB/s, RSS max ${r.rss.maxMiB.toFixed(0)} MiB`);
  }
  // One download is at the mercy of whatever else the 2 cores do in that second: take the median of
  // DOWNLOADS, the registries taking turns so that a slow stretch hits both.
  const speeds = new Map<string, number[]>();
  for (let round = 0; round < DOWNLOADS; round++) {
    for (const reg of registries) {
      const r = await withRss(reg.pid, () => download(reg, 'bench/big', streamedDigest));
      if (r.value !== size) throw new Error(`${reg.name}: downloaded ${r.value} bytes, expected ${size}`);
      speeds.set(reg.name, [...(speeds.get(reg.name) ?? []), mbPerSecond(size, r.ms)]);
      downRss.values.set(reg.name, Math.max(downRss.values.get(reg.name) ?? 0, r.rss.maxMiB));
      console.log(`${reg.name}: download ${mbPerSecond(size, r.ms).toFixed(0)} MB/s, RSS max ${r.rss.maxMiB.toFixed(0)} MiB`);
    }
  }
  for (const [name, list] of speeds) down.values.set(name, median(list));
  for (const reg of registries) {
    const { layers } = await pushImage(reg, 'bench/small', 'v1', 1);
    const { value: m, rss } = await withRss(reg.pid, () => runWrk(`${reg.url}/v2/bench/small/manifests/v1`, 'GET', { Accept: OCI_MANIFEST }, wrkOpts));
    manifestRss.values.set(reg.name, rss.maxMiB);
    const h = await runAbHead(`${reg.url}/v2/bench/small/blobs/${layers[0]}`, wrkOpts);
    for (const [name, w] of [['manifest GET', m], ['blob HEAD', h]] as const) {
      if (w.errors > 0) throw new Error(`${reg.name} ${name}: ${w.errors} errors under wrk`);
      console.log(`${reg.name}: ${name} ${w.requestsPerSecond.toFixed(0)} req/s (${w.requests} requests, p50 ${w.latencyP50}, p99 ${w.latencyP99})`);
    }
    manifests.values.set(reg.name, m.requestsPerSecond);
    heads.values.set(reg.name, h.requestsPerSecond);
  }
  for (const reg of registries) {
    const before = await countInodes(reg.blobDir);
    for (let i = 0; i < IMAGES; i++) await pushImage(reg, 'bench/inodes', `i${i}`, 100 + i);
    const after = await countInodes(reg.blobDir);
    inodes.values.set(reg.name, (after - before) / IMAGES);
    console.log(`${reg.name}: ${after - before} inodes for ${IMAGES} images under ${reg.blobDir} (${before} before)`);
  }
} finally {
  for (const reg of registries) await reg.stop();
}

printTable();

function printTable(): void {
  const cell = (v: number | undefined): string => (v === undefined ? 'n/a' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
  console.log(`\n${'figure'.padEnd(40)}${'gantry'.padStart(12)}${'distribution'.padStart(14)}${'gantry/dist'.padStart(13)}`);
  for (const r of rows) {
    const g = r.values.get('gantry');
    const d = r.values.get('distribution');
    const ratio = g !== undefined && d !== undefined && d > 0 ? `${(g / d).toFixed(2)}×` : '';
    console.log(`${`${r.label} (${r.unit})`.padEnd(40)}${cell(g).padStart(12)}${cell(d).padStart(14)}${ratio.padStart(13)}`);
  }
  console.log('\ngantry inodes count only <data>/registry: its metadata (repositories, tags, manifest links) lives in');
  console.log('the SQLite file, one file (plus -wal/-shm) for everything. distribution keeps it as files under its root.');
  const ratio = (r: Row): number => (r.values.get('gantry') ?? 0) / (r.values.get('distribution') ?? Infinity);
  const [upload, , rssMax, rssAfter] = rows;
  const manifests = rows.find((r) => r.label.startsWith('manifest'));
  if (upload && manifests && rssMax && rssAfter) {
    console.log(`\ngoals: upload ≥ 1.5× distribution: ${ratio(upload).toFixed(2)}× ${ratio(upload) >= 1.5 ? 'met' : 'NOT met'}; ` +
      `manifest GET ≥ distribution: ${ratio(manifests).toFixed(2)}× ${ratio(manifests) >= 1 ? 'met' : 'NOT met'}; ` +
      `gantry RSS during upload: max ${cell(rssMax.values.get('gantry'))} MiB`);
  }
}
