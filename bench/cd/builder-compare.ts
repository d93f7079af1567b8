// The daemonless builder (src/cluster/image-builder) against `docker build` + `docker push` for the same
// files-onto-base image (a page onto the small httpd image), build and push to the same bundled
// registry, measured in the same run:
// - cold: into a repository the registry has never seen (the base's layers are in the registry under
//   the base's own repository; the builder mounts them, docker uploads what it has locally);
// - warm: the next change of the page into the same repository (the base's layers are there already).
// Each round writes a new page, so neither side can answer from a cache of the whole image.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildImage } from '../../src/cluster/image-builder/index.ts';
import { ADMIN_TOKEN, pollUntil, startServer } from '../apps/gantry.ts';
import { docker } from '../apps/image.ts';
import { summarize } from '../shared/stats.ts';

const exec = promisify(execFile);

export interface BuilderSettings {
  baseImage: string;
  rounds: number;
}

export async function runBuilderCompare(s: BuilderSettings): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-cd-builder-'));
  const server = await startServer({ dataDir, agentResources: null, logLevel: 'warn' });
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-cd-builder-work-'));
  const dockerConfig = await mkdtemp(path.join(os.tmpdir(), 'bench-cd-builder-docker-'));
  process.env.DOCKER_CONFIG = dockerConfig;
  const times = { builderCold: [] as number[], builderWarm: [] as number[], dockerCold: [] as number[], dockerWarm: [] as number[] };
  let registry = '';
  try {
    await pollUntil(async () => {
      registry = /Registry listening on http:\/\/(\S+)/.exec(server.output())?.[1] ?? '';
      return registry !== '';
    }, { timeoutMs: 30_000, everyMs: 100, what: 'the registry' });
    await docker(['login', registry, '-u', 'admin', '-p', ADMIN_TOKEN]);
    // The base in the registry, where the builder reads it (docker builds FROM its local copy).
    await exec('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_TOKEN}`, `docker-daemon:${s.baseImage}`, `docker://${registry}/bench/base:1`]);
    const access = { url: `http://${registry}`, username: 'admin', password: ADMIN_TOKEN };
    await writeFile(path.join(work, 'Dockerfile'), `FROM ${s.baseImage}\nCOPY www/ /www/\n`);
    await mkdir(path.join(work, 'www'), { recursive: true });
    let page = 0;
    const newPage = async (): Promise<void> => writeFile(path.join(work, 'www', 'index.html'), `page ${++page}\n`);

    for (let round = 1; round <= s.rounds; round++) {
      for (const temperature of ['cold', 'warm'] as const) {
        await newPage();
        const repo = `bench/daemonless-${round}`;
        let t = performance.now();
        await buildImage({ registry: access, from: 'bench/base:1', image: repo, tags: ['1'], root: work, files: [{ src: 'www', dest: '/www' }], sourceDateEpoch: 1_700_000_000 });
        times[temperature === 'cold' ? 'builderCold' : 'builderWarm'].push(performance.now() - t);

        const tag = `${registry}/bench/docker-${round}:${temperature}`;
        t = performance.now();
        await docker(['build', '-q', '-t', tag, work]);
        await docker(['push', tag]);
        times[temperature === 'cold' ? 'dockerCold' : 'dockerWarm'].push(performance.now() - t);
      }
      process.stdout.write(`  round ${round}: builder cold ${ms(times.builderCold.at(-1)!)} warm ${ms(times.builderWarm.at(-1)!)}; docker cold ${ms(times.dockerCold.at(-1)!)} warm ${ms(times.dockerWarm.at(-1)!)}\n`);
    }
    const p50 = (values: number[]): string => ms(summarize(values).p50);
    process.stdout.write(`\n| files onto base, build + push (p50 of ${s.rounds}) | cold (new repository) | warm (base layers there) |\n| --- | --- | --- |\n`);
    process.stdout.write(`| Gantry's daemonless builder | ${p50(times.builderCold)} | ${p50(times.builderWarm)} |\n`);
    process.stdout.write(`| docker build + docker push | ${p50(times.dockerCold)} | ${p50(times.dockerWarm)} |\n`);
    const faster = summarize(times.builderCold).p50 < summarize(times.dockerCold).p50 && summarize(times.builderWarm).p50 < summarize(times.dockerWarm).p50;
    process.stdout.write(`goal (faster than Docker on both): ${faster ? 'met' : 'NOT met'}\n`);
  } finally {
    const built = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${registry}/bench/*`]).catch(() => '')).split('\n').filter(Boolean);
    if (built.length > 0) await docker(['rmi', '-f', ...built]).catch(() => '');
    delete process.env.DOCKER_CONFIG;
    await server.stop();
    for (const dir of [work, dockerConfig, dataDir]) await rm(dir, { recursive: true, force: true });
  }
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}
