// Part 3: DNS freshness and throughput on a real `./bin/gantry server` (its DNS server on a free
// loopback port, the load balancer off: not measured here), with one app of 3 instances (node:http
// servers on the embedded agent) whose HTTP health check (every second, 1 s timeout) fails while a flag
// file named after the instance exists. maxConsecutiveFailures 0: the first failed check turns the
// instance unhealthy and it is not killed (Marathon's "never kill"), so removing the file brings it back
// and the rounds need no replacement. Per round, one instance turns sick:
//   (a) verdict → gone: from the moment the API reports the task `health: unhealthy` (a long poll of
//       GET /api/v1/tasks/changes, answered on the master's task event) to the first SRV answer
//       without the instance (a UDP query every 5 ms);
//   (b) file → gone: from the flag file's creation: (a) plus the wait for the probe's next try (up to
//       its 1 s interval; the 503 itself comes back at once) and the agent's report to the master;
//   (c) back: file removed → the instance in the SRV answer again (its next passing check).
// Then dnsperf on the same server: A of the app, SRV of the app, A of an instance, and a name that does
// not exist (NXDOMAIN), in equal parts.
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { labelOf } from '../../src/discovery/dns/index.ts';
// The app the discovery tests run: a node:http server on PORT0 whose /health is 503 while SICK/<instance> exists.
import { serverCommand } from '../../test/helpers/discovery.ts';
import { discardDataDir } from '../apps/gantry.ts';
import { apiCall } from '../shared/api-call.ts';
import { spawnGantryServer, waitFor, type GantryServer } from '../shared/gantry-process.ts';
import { summarize } from '../shared/stats.ts';
import { register } from './processes.ts';
import { dnsperf, type DnsperfResult } from './tools.ts';

const ADMIN_TOKEN = 'gat_bench-lb-admin-token-0123456789abcdef';
const JOIN_TOKEN = 'gjt_bench-lb-join-token-0123456789abcdef';
const APP = '/bench/web';
const SRV_NAME = '_web._tcp.bench.gantry';
const A_NAME = 'web.bench.gantry';

export interface DnsOptions {
  rounds: number;
  instances: number;
  dnsperfSeconds: number;
  dnsperfClients: number;
  log: (line: string) => void;
}

export interface DnsResult {
  rounds: Array<{ verdictToGoneMs: number; fileToGoneMs: number; fileToVerdictMs: number; backMs: number }>;
  dnsperf: DnsperfResult;
  /** One SRV answer of the app (dig-like lines), for the record. */
  sample: string;
  serverStartMs: number;
}

interface Task {
  id: string;
  state: string;
  health: string | null;
  killRequested: boolean;
  spec: { env: Record<string, string> };
  allocation: { ports: number[] } | null;
}

/** A UDP client on one socket: SRV targets of a name, or null when the server did not answer in time. */
class DnsProbe {
  private readonly socket = dgram.createSocket('udp4');
  private id = 0;
  private readonly waiting = new Map<number, (packet: dnsPacket.DecodedPacket) => void>();

  constructor(private readonly server: { host: string; port: number }) {
    this.socket.on('message', (message) => {
      try {
        const packet = dnsPacket.decode(message);
        const resolve = this.waiting.get(packet.id ?? -1);
        if (resolve) {
          this.waiting.delete(packet.id!);
          resolve(packet);
        }
      } catch {
        // not a DNS answer: ignored
      }
    });
  }

  async srvTargets(name: string, timeoutMs = 500): Promise<string[] | null> {
    this.id = (this.id + 1) & 0xffff;
    const id = this.id;
    const query = dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: 'SRV', name, class: 'IN' }] });
    const answer = await new Promise<dnsPacket.DecodedPacket | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(id, (packet) => {
        clearTimeout(timer);
        resolve(packet);
      });
      this.socket.send(query, this.server.port, this.server.host);
    });
    if (answer === null) return null;
    return (answer.answers ?? []).flatMap((record) => (record.type === 'SRV' ? [`${record.data.target.toLowerCase().replace(/\.$/, '')}`] : []));
  }

  close(): void {
    this.socket.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runDns(options: DnsOptions): Promise<DnsResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-lb-dns-'));
  const sickDir = path.join(dataDir, 'sick');
  mkdirSync(sickDir, { recursive: true });
  let server: GantryServer | undefined;
  let probe: DnsProbe | undefined;
  let unregister = (): void => undefined;
  try {
    server = await spawnGantryServer({
      serverArgs: [
        '--data-dir', path.join(dataDir, 'server'),
        '--listen', '127.0.0.1:0',
        '--registry-listen', '127.0.0.1:0',
        '--agent-resources', 'cpus:4;mem:4096;ports:[41000-41199]',
        '--agent-task-users', 'root',
        '--drain-on-stop',
        '--lb', 'off',
        '--log-level', 'warn',
      ],
      env: { ...process.env, GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, GANTRY_DNS_LISTEN: '127.0.0.1:0' },
      localAgent: true,
    });
    unregister = register(server);
    const url = server.url;
    const dnsLine = /DNS for apps on (\S+):(\d+)/.exec(server.output());
    if (dnsLine === null) throw new Error(`the server did not say where its DNS listens:\n${server.output()}`);
    const dns = { host: dnsLine[1]!, port: Number(dnsLine[2]) };
    options.log(`  gantry server ready in ${(server.startMs / 1000).toFixed(1)} s, DNS on ${dns.host}:${dns.port}`);
    const api = <T = any>(method: string, route: string, body?: unknown) => apiCall<T>(ADMIN_TOKEN, url, method, route, body);

    const created = await api('POST', '/v2/apps', {
      id: APP,
      cmd: serverCommand(sickDir),
      instances: options.instances,
      cpus: 0.1,
      mem: 48,
      portDefinitions: [{ port: 0, name: 'http' }],
      healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 0 }],
    });
    if (created.status !== 201) throw new Error(`POST /v2/apps: ${created.status} ${JSON.stringify(created.body)}`);
    probe = new DnsProbe(dns);
    const srv = async (): Promise<string[]> => (await probe!.srvTargets(SRV_NAME)) ?? [];
    await waitFor(async () => (await srv()).length === options.instances, 90_000, `${options.instances} instances in DNS`, 100);
    const tasks = async (): Promise<Task[]> => (await api<{ tasks: Task[] }>('GET', `/api/v1/apps${APP}/tasks`)).body.tasks.filter((t) => t.state === 'running' && !t.killRequested);

    const rounds: DnsResult['rounds'] = [];
    for (let round = 0; round < options.rounds; round++) {
      const running = await tasks();
      const victim = running[round % running.length]!;
      const instance = victim.spec.env.GANTRY_APP_INSTANCE!;
      const target = `${labelOf(instance)}.${A_NAME}`;
      if (!(await srv()).includes(target)) throw new Error(`round ${round + 1}: ${target} is not in the SRV answer: ${(await srv()).join(', ')}`);

      // The watch starts from a list's cursor: it sees every change after it.
      const listed = await api<{ cursor: string }>('GET', `/api/v1/tasks?limit=1`);
      let cursor = listed.body.cursor;
      let verdictAt = NaN;
      let watching = true;
      const watch = (async () => {
        while (watching && Number.isNaN(verdictAt)) {
          const answer = await api<{ changes: Array<{ task: Task }>; cursor: string }>('GET', `/api/v1/tasks/changes?cursor=${encodeURIComponent(cursor)}&waitMs=5000`);
          const now = performance.now();
          if (answer.status !== 200) throw new Error(`GET /api/v1/tasks/changes: ${answer.status} ${JSON.stringify(answer.body)}`);
          cursor = answer.body.cursor;
          if (answer.body.changes.some((c) => c.task.id === victim.id && c.task.health === 'unhealthy')) verdictAt = now;
        }
      })();
      let goneAt = NaN;
      const poll = (async () => {
        while (Number.isNaN(goneAt)) {
          const targets = await probe!.srvTargets(SRV_NAME);
          if (targets !== null && !targets.includes(target)) goneAt = performance.now();
          else await sleep(5);
        }
      })();
      const fileAt = performance.now();
      writeFileSync(path.join(sickDir, instance), '');
      await Promise.race([poll, sleep(20_000).then(() => Promise.reject(new Error(`round ${round + 1}: ${target} still in DNS 20 s after its check began to fail`)))]);
      await Promise.race([waitFor(() => !Number.isNaN(verdictAt), 10_000, 'the unhealthy verdict in the API', 5), watch]);
      watching = false;

      // Back: the file removed, the next passing check puts it in DNS again.
      const backFrom = performance.now();
      unlinkSync(path.join(sickDir, instance));
      await waitFor(async () => (await probe!.srvTargets(SRV_NAME) ?? []).includes(target), 20_000, `${target} back in DNS`, 5);
      const backMs = performance.now() - backFrom;
      const result = { verdictToGoneMs: goneAt - verdictAt, fileToGoneMs: goneAt - fileAt, fileToVerdictMs: verdictAt - fileAt, backMs };
      rounds.push(result);
      options.log(`  round ${round + 1}: file → verdict in the API ${result.fileToVerdictMs.toFixed(0)} ms, verdict → gone from DNS ${result.verdictToGoneMs.toFixed(1)} ms, file → gone ${result.fileToGoneMs.toFixed(0)} ms, healthy again → back ${backMs.toFixed(0)} ms`);
      await watch.catch(() => undefined);
      // Spread the rounds over the probe's phase.
      await sleep(300 + Math.random() * 700);
    }

    // dnsperf: the app's A and SRV, one instance's A, and a name that does not exist.
    const instance = (await tasks())[0]!.spec.env.GANTRY_APP_INSTANCE!;
    const queries = path.join(dataDir, 'queries.txt');
    writeFileSync(queries, [`${A_NAME} A`, `${SRV_NAME} SRV`, `${labelOf(instance)}.${A_NAME} A`, `nothing.bench.gantry A`, ''].join('\n'));
    const sample = (await srv()).join(', ');
    const perf = await dnsperf(dns.host, dns.port, queries, { seconds: options.dnsperfSeconds, clients: options.dnsperfClients });
    options.log(`  dnsperf: ${Math.round(perf.qps).toLocaleString('en-US')} queries/s, average latency ${perf.avgLatencyMs.toFixed(2)} ms, ${perf.completed} completed, ${perf.lost} lost (${perf.rcodes})`);

    await api('DELETE', `/v2/apps${APP}?force=true`);
    return { rounds, dnsperf: perf, sample, serverStartMs: server.startMs };
  } finally {
    probe?.close();
    unregister();
    await server?.stop();
    await discardDataDir(dataDir).catch(() => rmSync(dataDir, { recursive: true, force: true }));
  }
}

export function summarizeDns(result: DnsResult): { verdictToGone: ReturnType<typeof summarize>; fileToGone: ReturnType<typeof summarize>; fileToVerdict: ReturnType<typeof summarize>; back: ReturnType<typeof summarize> } {
  return {
    verdictToGone: summarize(result.rounds.map((r) => r.verdictToGoneMs)),
    fileToGone: summarize(result.rounds.map((r) => r.fileToGoneMs)),
    fileToVerdict: summarize(result.rounds.map((r) => r.fileToVerdictMs)),
    back: summarize(result.rounds.map((r) => r.backMs)),
  };
}
