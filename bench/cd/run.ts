// CD benchmark (issue 19): from git push to a running app, beside the same work done with the tools
// alone in the same run.
//
// 1. push: push → new version serving (every instance healthy on the new digest), p50 and p99 over N
//    pushes (10), Gantry (webhook → clone → build step → deploy step) beside docker build + docker push +
//    a scripted app update (push-to-serving.ts). Goal: Gantry's overhead ≤ 10% or 1 s, the larger.
// 2. builder: the daemonless builder against docker build + docker push for the same files-onto-base
//    image, build + push time cold and with the base already in the registry (builder-compare.ts).
//    Goal: faster than Docker on both.
//
// Usage: node --import tsx bench/cd/run.ts [--only push,builder] [--pushes 10] [--rounds 5] [--timeout 300]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { discardDataDir } from '../apps/gantry.ts';
import { docker, ensureHttpdImage } from '../apps/image.ts';
import { summarize } from '../shared/stats.ts';
import { runBuilderCompare } from './builder-compare.ts';
import { runPushToServing } from './push-to-serving.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'push,builder' },
    pushes: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    timeout: { type: 'string', default: '300' },
  },
});

const BASE = 'gantry-bench/cd-httpd:1';
const parts = new Set(values.only.split(','));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const made = await ensureHttpdImage(BASE);
  try {
    if (parts.has('push')) await pushPart();
    if (parts.has('builder')) await runBuilderCompare({ baseImage: BASE, rounds: Number(values.rounds) });
  } finally {
    if (made) await docker(['rmi', BASE]).catch(() => undefined);
  }
}

async function pushPart(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-cd-'));
  const pushes = Number(values.pushes);
  process.stdout.write(`push → serving: ${pushes} pushes, 2 instances, health checks every second, Gantry then by hand each time\n`);
  try {
    const result = await runPushToServing({ pushes, baseImage: BASE, dataDir, timeoutMs: Number(values.timeout) * 1000 });
    const gantry = summarize(result.gantry);
    const byHand = summarize(result.byHand);
    const overhead = gantry.p50 - byHand.p50;
    const allowed = Math.max(byHand.p50 * 0.1, 1000);
    process.stdout.write(`\n| push → all instances healthy on the new digest | p50 | p99 |\n| --- | --- | --- |\n`);
    process.stdout.write(`| Gantry (webhook, clone, build step, deploy step) | ${seconds(gantry.p50)} | ${seconds(gantry.p99)} |\n`);
    process.stdout.write(`| by hand (docker build, docker push, PUT /v2/apps, wait) | ${seconds(byHand.p50)} | ${seconds(byHand.p99)} |\n`);
    process.stdout.write(`\nGantry's overhead (p50): ${seconds(overhead)} (${((overhead / byHand.p50) * 100).toFixed(0)}%); goal ≤ ${seconds(allowed)}: ${overhead <= allowed ? 'met' : 'NOT met'}\n`);
    const keys = [...new Set(result.stages.flatMap((s) => Object.keys(s)))];
    process.stdout.write(`Gantry's stages (p50): ${keys.map((k) => `${k} ${seconds(summarize(result.stages.map((s) => s[k] ?? NaN)).p50)}`).join(', ')}\n`);
    for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
  } finally {
    await discardDataDir(dataDir).catch(() => rm(dataDir, { recursive: true, force: true }));
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
