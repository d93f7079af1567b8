// Registry garbage collection benchmark (issue 7): a registry of 10,000 tags in 200 repositories (each
// tag its own image: a small config and a layer shared by its repository), half of the images deleted,
// then a dry run and a real collection: time, and the peak RSS of the process that collects. While
// gantry's real collection runs, a client pushes images (a blob and a manifest each, one after the
// other) and their latency is compared with the same pushes on the idle registry (goal: p99 within 2×).
//
// Peer in the same run: CNCF distribution 2.8 (Debian's docker-registry) with the same content; its
// `garbage-collect` works only on a stopped (or read-only) registry, so there is no push during it.
//
// Usage: npm run bench:registry-gc [-- --repos 200 --tags 50 --pushes 200 --only gantry,distribution]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pool } from '../shared/pool.ts';
import { memoryKiB } from '../shared/proc.ts';
import { summarize, type Summary } from '../shared/stats.ts';
import { checkTools, distributionVersion, DISTRIBUTION_BINARY, GANTRY_ADMIN_TOKEN, startDistribution, startGantry, type RunningRegistry } from '../registry/servers.ts';

const { values } = parseArgs({
  options: {
    repos: { type: 'string', default: '200' },
    tags: { type: 'string', default: '50' },
    pushes: { type: 'string', default: '200' },
    only: { type: 'string', default: 'gantry,distribution' },
  },
});
const repoCount = Number(values.repos);
const tagCount = Number(values.tags);
const pushCount = Number(values.pushes);
const parts = new Set(values.only.split(','));
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONCURRENCY = 16;

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

/** Samples a process's RSS every 20 ms while `work` runs; the highest sample (VmHWM covers its whole life). */
async function peakRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakKiB: number }> {
  let peak = memoryKiB(pid)?.rss ?? 0;
  const timer = setInterval(() => (peak = Math.max(peak, memoryKiB(pid)?.rss ?? 0)), 20);
  try {
    const result = await work();
    return { result, peakKiB: Math.max(peak, memoryKiB(pid)?.rss ?? 0) };
  } finally {
    clearInterval(timer);
  }
}

class Client {
  constructor(private readonly reg: RunningRegistry) {}

  async blob(repo: string, bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    const res = await fetch(`${this.reg.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { authorization: this.reg.authorization, 'content-type': 'application/octet-stream' }, body: bytes });
    if (res.status === 202) {
      // distribution 2.8 has no monolithic POST: a session, then PUT with the bytes.
      const location = new URL(res.headers.get('location')!, this.reg.url);
      location.searchParams.set('digest', digest);
      const put = await fetch(location, { method: 'PUT', headers: { authorization: this.reg.authorization, 'content-type': 'application/octet-stream' }, body: bytes });
      if (put.status !== 201) throw new Error(`${this.reg.name}: PUT blob ${put.status} ${await put.text()}`);
    } else if (res.status !== 201) throw new Error(`${this.reg.name}: POST blob ${res.status} ${await res.text()}`);
    return digest;
  }

  async manifest(repo: string, tag: string, config: Buffer, layer: Buffer): Promise<string> {
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }));
    const res = await fetch(`${this.reg.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { authorization: this.reg.authorization, 'content-type': OCI_MANIFEST }, body: bytes });
    if (res.status !== 201) throw new Error(`${this.reg.name}: PUT manifest ${res.status} ${await res.text()}`);
    return sha256(bytes);
  }

  async deleteManifest(repo: string, digest: string): Promise<void> {
    const res = await fetch(`${this.reg.url}/v2/${repo}/manifests/${digest}`, { method: 'DELETE', headers: { authorization: this.reg.authorization } });
    if (res.status !== 202) throw new Error(`${this.reg.name}: DELETE manifest ${res.status} ${await res.text()}`);
  }

  /** A push as a client does it: one new blob, then a manifest naming it (and the repository's layer). */
  async push(repo: string, tag: string, layer: Buffer): Promise<number> {
    const started = performance.now();
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(8).toString('hex') }));
    await this.blob(repo, config);
    await this.manifest(repo, tag, config, layer);
    return performance.now() - started;
  }
}

/** 200 repositories × 50 tags, each tag its own image; returns half of the images to delete. */
async function populate(client: Client): Promise<{ layers: Map<string, Buffer>; doomed: Array<{ repo: string; digest: string }>; seconds: number }> {
  const started = performance.now();
  const layers = new Map<string, Buffer>();
  const repos = Array.from({ length: repoCount }, (_, i) => `team${i % 20}/app${i}`);
  await pool(repos, CONCURRENCY, async (repo) => {
    const layer = randomBytes(4096);
    layers.set(repo, layer);
    await client.blob(repo, layer);
  });
  const jobs = repos.flatMap((repo) => Array.from({ length: tagCount }, (_, t) => ({ repo, tag: `v${t}` })));
  const doomed: Array<{ repo: string; digest: string }> = [];
  await pool(jobs, CONCURRENCY, async ({ repo, tag }) => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', repo, tag }));
    await client.blob(repo, config);
    const digest = await client.manifest(repo, tag, config, layers.get(repo)!);
    if (Number(tag.slice(1)) % 2 === 0) doomed.push({ repo, digest });
  });
  return { layers, doomed, seconds: (performance.now() - started) / 1000 };
}

async function pushLatencies(client: Client, layers: Map<string, Buffer>, label: string, until?: Promise<unknown>): Promise<number[]> {
  const repos = [...layers.keys()];
  const latencies: number[] = [];
  let done = false;
  void until?.then(() => (done = true));
  for (let i = 0; i < pushCount && !done; i++) {
    const repo = repos[i % repos.length]!;
    latencies.push(await client.push(repo, `${label}-${i}`, layers.get(repo)!));
  }
  return latencies;
}

interface Figures {
  populateS: number;
  doomed: number;
  dryMs: number;
  dryPeakKiB: number;
  realMs: number;
  realPeakKiB: number;
  freed: string;
  idle?: Summary;
  during?: Summary;
  rssBeforeKiB: number;
}

async function benchGantry(): Promise<Figures> {
  const reg = await startGantry();
  try {
    const client = new Client(reg);
    const { layers, doomed, seconds } = await populate(client);
    await pool(doomed, CONCURRENCY, (d) => client.deleteManifest(d.repo, d.digest));
    const idle = await pushLatencies(client, layers, 'idle');
    const gc = (dryRun: boolean) =>
      fetch(`${reg.apiUrl}/api/v1/registry/gc`, { method: 'POST', headers: { authorization: `Bearer ${GANTRY_ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ dryRun, grace: '0s' }) }).then(
        async (r) => {
          if (!r.ok) throw new Error(`gc: ${r.status} ${await r.text()}`);
          return (await r.json()) as { blobs: unknown[]; bytesFreed: number; inodesFreed: number };
        },
      );
    const rssBeforeKiB = memoryKiB(reg.pid)?.rss ?? NaN;
    let started = performance.now();
    const dry = await peakRssDuring(reg.pid, () => gc(true));
    const dryMs = performance.now() - started;
    started = performance.now();
    let collection!: Promise<unknown>;
    const real = await peakRssDuring(reg.pid, async () => {
      collection = gc(false);
      const during = await pushLatencies(client, layers, 'during', collection);
      return { collected: await collection, during };
    });
    const realMs = performance.now() - started;
    const collected = real.result.collected as { blobs: unknown[]; bytesFreed: number; inodesFreed: number };
    if ((dry.result.blobs as unknown[]).length !== collected.blobs.length) console.log(`  note: dry run listed ${dry.result.blobs.length} blobs, the real run deleted ${collected.blobs.length} (pushes ran meanwhile)`);
    return {
      populateS: seconds,
      doomed: doomed.length,
      dryMs,
      dryPeakKiB: dry.peakKiB,
      realMs,
      realPeakKiB: real.peakKiB,
      freed: `${collected.blobs.length} blobs, ${(collected.bytesFreed / 1024 / 1024).toFixed(1)} MiB, ${collected.inodesFreed} inodes`,
      idle: summarize(idle),
      during: summarize(real.result.during),
      rssBeforeKiB,
    };
  } finally {
    await reg.stop();
  }
}

/** `docker-registry garbage-collect [--dry-run] CONFIG` on the stopped registry: its time, peak RSS and last line. */
function distributionGc(config: string, dryRun: boolean): Promise<{ ms: number; peakKiB: number; summary: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(DISTRIBUTION_BINARY, ['garbage-collect', ...(dryRun ? ['--dry-run'] : []), config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, memoryKiB(child.pid!)?.hwm ?? 0)), 10);
    child.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`garbage-collect exited ${code}: ${out.slice(-2000)}`));
      const eligible = out.split('\n').filter((l) => /eligible for deletion/i.test(l)).length;
      resolve({ ms: performance.now() - started, peakKiB: peak, summary: `${eligible} blobs${dryRun ? ' eligible' : ' deleted'}` });
    });
  });
}

async function benchDistribution(): Promise<Figures> {
  const reg = await startDistribution();
  try {
    const client = new Client(reg);
    const { layers, doomed, seconds } = await populate(client);
    await pool(doomed, CONCURRENCY, (d) => client.deleteManifest(d.repo, d.digest));
    const idle = await pushLatencies(client, layers, 'idle');
    const rssBeforeKiB = memoryKiB(reg.pid)?.rss ?? NaN;
    // Offline only: stop the server (its data stays until stop() below), collect, done.
    process.kill(reg.pid, 'SIGTERM');
    for (let i = 0; i < 100 && memoryKiB(reg.pid) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
    const dry = await distributionGc(reg.config!, true);
    const real = await distributionGc(reg.config!, false);
    return { populateS: seconds, doomed: doomed.length, dryMs: dry.ms, dryPeakKiB: dry.peakKiB, realMs: real.ms, realPeakKiB: real.peakKiB, freed: real.summary, idle: summarize(idle), rssBeforeKiB };
  } finally {
    await reg.stop();
  }
}

checkTools();
console.log(`registry GC benchmark: ${repoCount} repositories × ${tagCount} tags = ${(repoCount * tagCount).toLocaleString('en-US')} tags, half of the images deleted; ${pushCount} pushes idle and during the collection`);
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, distribution ${distributionVersion()}\n`);
const results: Record<string, Figures> = {};
if (parts.has('gantry')) results.gantry = await benchGantry();
if (parts.has('distribution')) results.distribution = await benchDistribution();

const names = Object.keys(results);
const row = (label: string, cell: (f: Figures) => string) => console.log(`${label.padEnd(48)} ${names.map((n) => cell(results[n]!).padEnd(36)).join(' ')}`);
console.log(`${'figure'.padEnd(48)} ${names.map((n) => n.padEnd(36)).join(' ')}`);
row(`populate ${(repoCount * tagCount).toLocaleString('en-US')} tags (s)`, (f) => f.populateS.toFixed(1));
row('images deleted before the collection', (f) => String(f.doomed));
row('server RSS before collecting', (f) => mib(f.rssBeforeKiB));
row('dry run: time', (f) => ms(f.dryMs));
row('dry run: peak RSS of the collecting process', (f) => mib(f.dryPeakKiB));
row('collection: time', (f) => ms(f.realMs));
row('collection: peak RSS of the collecting process', (f) => mib(f.realPeakKiB));
row('collected', (f) => f.freed.slice(0, 34));
row('push latency idle p50 / p99', (f) => (f.idle ? `${ms(f.idle.p50)} / ${ms(f.idle.p99)}` : '-'));
row('push latency during collection p50 / p99', (f) => (f.during ? `${ms(f.during.p50)} / ${ms(f.during.p99)} (${f.during.count})` : 'n/a: registry stopped'));
if (results.gantry?.idle && results.gantry.during) {
  const ratio = results.gantry.during.p99 / results.gantry.idle.p99;
  console.log(`\ngoal: push p99 during a collection within 2× of idle: ${ratio.toFixed(2)}× ${ratio <= 2 ? 'met' : 'NOT met'}`);
}
