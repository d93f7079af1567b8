// Starts and stops the two registries the benchmark compares, each on a free loopback port with its own
// fresh temporary data directory:
//   gantry        ./bin/gantry server (the node process itself is the server: bin/gantry is a node script)
//   distribution  CNCF distribution 2.8 from Debian's docker-registry package, filesystem storage, no auth,
//                 its in-memory blob descriptor cache (as its shipped config), log level warn, no access log
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../shared/ports.ts';

export interface RunningRegistry {
  name: 'gantry' | 'distribution';
  /** http://127.0.0.1:PORT */
  url: string;
  /** The server process: sample its /proc/PID/status. */
  pid: number;
  /** The directory holding the blobs (gantry: <data>/registry; distribution: its rootdirectory). */
  blobDir: string;
  /** Basic credentials for pushing (gantry: the admin token; distribution ignores them). */
  authorization: string;
  /** gantry: its platform API (http://127.0.0.1:PORT), where `/api/v1/registry/gc` is. */
  apiUrl?: string;
  /** distribution: its config file (`docker-registry garbage-collect CONFIG` reads it). */
  config?: string;
  stop(): Promise<void>;
}

/** The admin token gantry's server is started with (the platform API's bearer token too). */
export const GANTRY_ADMIN_TOKEN = 'bench-admin-token-0123456789';
export const DISTRIBUTION_BINARY = '/usr/bin/docker-registry';

const DISTRIBUTION = DISTRIBUTION_BINARY;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN_TOKEN = GANTRY_ADMIN_TOKEN;

/** The tools the benchmark needs; prints how to install them and exits 2 when one is missing. */
export function checkTools(): void {
  const missing: string[] = [];
  if (spawnSync(DISTRIBUTION, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('docker-registry');
  if (spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error) missing.push('wrk');
  if (spawnSync('ab', ['-V'], { stdio: 'ignore' }).error) missing.push('apache2-utils');
  if (missing.length === 0) return;
  console.error(`missing: ${missing.join(', ')} (the comparison needs CNCF distribution, wrk, and ab for HEAD).`);
  console.error(`install them with: sudo apt-get install -y ${missing.join(' ')}   (Debian/Ubuntu)`);
  process.exit(2);
}

export function distributionVersion(): string {
  const out = spawnSync(DISTRIBUTION, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return out.split(/\s+/).find((word) => /^v?\d+\.\d+/.test(word)) ?? out;
}

/** Resolves once `ready(line)` matches a line of the child's output; rejects if it exits first. */
function waitForLine(child: ChildProcess, name: string, ready: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const line = seen.split('\n').find(ready);
      if (line === undefined) return;
      clearTimeout(timer);
      resolve(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${seen}`));
    });
  });
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
}

export async function startGantry(): Promise<RunningRegistry> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-gantry-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/gantry'), 'server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--registry-listen', `127.0.0.1:${port}`, '--no-local-agent'],
    { cwd: ROOT, env: { ...process.env, GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_DNS_LISTEN: '127.0.0.1:0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let apiUrl: string | undefined;
  const line = await waitForLine(child, 'gantry', (l) => {
    if (l.startsWith('Gantry ')) apiUrl = /listening on (http:\/\/\S+)/.exec(l)?.[1] ?? apiUrl;
    return l.startsWith('Registry listening on ');
  });
  const url = /http:\/\/[^\s]+/.exec(line)?.[0] ?? `http://127.0.0.1:${port}`;
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    name: 'gantry',
    url,
    pid: child.pid ?? 0,
    blobDir: path.join(dataDir, 'registry'),
    authorization: `Basic ${Buffer.from(`bench:${ADMIN_TOKEN}`).toString('base64')}`,
    ...(apiUrl ? { apiUrl } : {}),
    stop: stopper(child, dataDir),
  };
}

export async function startDistribution(): Promise<RunningRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-distribution-'));
  const rootDir = path.join(dir, 'storage');
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      // Its Apache-style access log writes a line per request; gantry's registry logs nothing per
      // request, so it is off here too (otherwise distribution's figures would pay for a log gantry's don't).
      '  accesslog:',
      '    disabled: true',
      'storage:',
      // Its own in-memory cache of blob descriptors, as its shipped config.yml has: gantry keeps tag
      // resolutions and manifests in memory, so distribution gets its cache too.
      '  cache:',
      '    blobdescriptor: inmemory',
      '  filesystem:',
      `    rootdirectory: ${rootDir}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn(DISTRIBUTION, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, dir);
  // Log level warn prints nothing on start: poll GET /v2/ (200 without auth) instead.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/v2/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('docker-registry did not answer GET /v2/ within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name: 'distribution', url, pid: child.pid ?? 0, blobDir: rootDir, authorization: 'Basic YmVuY2g6YmVuY2g=', config, stop };
}
