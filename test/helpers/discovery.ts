// What the discovery tests share: the real `dig` (required in CI: GANTRY_REQUIRE_DIG=1), a free port
// in the service port range, and a steady stream of HTTP requests through a load balancer that records
// every answer (the "loses no request" tests).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function digAvailable(): boolean {
  return existsSync('/usr/bin/dig');
}

/** Skips the suite without dig, unless CI requires it: then it fails. */
export function requireDig(context: Mocha.Context): void {
  if (digAvailable()) return;
  if (process.env.GANTRY_REQUIRE_DIG === '1') throw new Error('GANTRY_REQUIRE_DIG=1 but dig (dnsutils) is not installed');
  context.skip();
}

export function haproxyAvailable(): boolean {
  return existsSync('/usr/sbin/haproxy');
}

/** `dig +short` at the server: the answer's lines, sorted. */
export async function dig(server: { host: string; port: number }, name: string, type = 'A', extra: string[] = []): Promise<string[]> {
  const { stdout } = await run('dig', [`@${server.host}`, '-p', String(server.port), name, type, '+short', '+time=2', '+tries=1', ...extra]);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .sort();
}

/** The full answer of dig (status line and sections), for rcodes and authority sections. */
export async function digFull(server: { host: string; port: number }, name: string, type = 'A'): Promise<string> {
  const { stdout } = await run('dig', [`@${server.host}`, '-p', String(server.port), name, type, '+time=2', '+tries=1']);
  return stdout;
}

/** A port in [min, max] nothing listens on right now. */
export async function freePortInRange(min: number, max: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${min}-${max}`);
}

export interface StreamResult {
  total: number;
  /** Every answer that was not a 2xx, or an error, with what it was. */
  failures: string[];
  /** Answer bodies seen, with their count. */
  bodies: Map<string, number>;
}

/**
 * `clients` loops of GET http://127.0.0.1:PORT/PATH, one request at a time each, on keep-alive
 * connections, until stop() is called.
 */
export function steadyStream(port: number, options: { clients?: number; path?: string; host?: string } = {}): { stop(): Promise<StreamResult>; result: StreamResult } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients ?? 4 });
  const result: StreamResult = { total: 0, failures: [], bodies: new Map() };
  let stopping = false;
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path: options.path ?? '/', agent, headers: options.host ? { host: options.host } : {} }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (d: string) => (body += d));
        response.on('end', () => {
          result.total += 1;
          if ((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300) result.bodies.set(body, (result.bodies.get(body) ?? 0) + 1);
          else result.failures.push(`${response.statusCode} ${body.slice(0, 200)}`);
          resolve();
        });
        response.on('error', (err) => {
          result.total += 1;
          result.failures.push(`response: ${err.message}`);
          resolve();
        });
      });
      request.setTimeout(10_000, () => request.destroy(new Error('no answer in 10 s')));
      request.on('error', (err) => {
        result.total += 1;
        result.failures.push(`request: ${err.message}`);
        resolve();
      });
    });
  const loops = Array.from({ length: options.clients ?? 4 }, async () => {
    while (!stopping) await once();
  });
  return {
    result,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

/** Answers `VERSION INSTANCE PID`; /health is 503 while the file SICK/<instance> exists; a SIGTERM closes it gracefully. */
export function serverCommand(sickDir: string): string {
  return `node -e '
const fs = require("fs"); const http = require("http");
const me = process.env.GANTRY_APP_INSTANCE;
const server = http.createServer((q, r) => {
  if (q.url === "/health") { r.statusCode = fs.existsSync("${sickDir}/" + me) ? 503 : 200; return r.end(); }
  r.end(process.env.VERSION + " " + me + " " + process.pid);
}).listen(process.env.PORT0);
process.on("SIGTERM", () => server.close(() => process.exit(0)));'`;
}
