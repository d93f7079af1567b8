// Load balancer and DNS benchmark (issue 20, "Reaching apps"), peers in the same run:
//
// 1. throughput: requests/s and p99 with wrk on loopback through the built-in proxy, through
//    Gantry-managed HAProxy, through a hand-written HAProxy configuration, and to a backend directly (the
//    limit), HTTP and TCP mode (throughput.ts). Goals: built-in ≥ 0.5× HAProxy; managed HAProxy ≥ 0.95×
//    the hand-written configuration.
// 2. churn: errors while the backend set changes 100 times a minute for 60 s under a steady keep-alive
//    load, for the built-in proxy, managed HAProxy, and the reload-based peer: the hand-written
//    configuration regenerated and HAProxy restarted on each change (churn.ts). Goal: 0 errors for both
//    of Gantry's data planes.
// 3. dns: a real `gantry server`: time from an instance failing its health check to its record gone
//    (goal ≤ 1 s; Mesos-DNS: up to its 60 s refresh + TTL), and queries/s with dnsperf (dns.ts).
//
// Needs Debian's wrk, dnsperf, haproxy (2.6) and dnsutils: `apt-get install -y wrk dnsperf haproxy
// dnsutils`. Exits non-zero on errors and on a missing tool, never because a figure missed its goal.
//
// Usage: node --import tsx bench/lb/run.ts [--only throughput,churn,dns]
//   [--wrk-seconds 5] [--warmup-seconds 1] [--connections 32] [--rounds 3] [--no-tcp]
//   [--churn-seconds 60] [--changes-per-minute 100] [--clients 8] [--churn-setups builtin,managed,restart[,reload-sf]]
//   [--dns-rounds 5] [--dnsperf-seconds 10] [--dnsperf-clients 4]
// Each default can also come from the environment: LB_BENCH_WRK_SECONDS, LB_BENCH_CHURN_SECONDS, ...
// (the option's name in upper case, `-` as `_`, after LB_BENCH_), for short development runs.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CHURN_SETUPS, runChurn, type ChurnResult, type ChurnSetup } from './churn.ts';
import { runDns, summarizeDns, type DnsResult } from './dns.ts';
import { startBackend, stopAll, type Backend } from './processes.ts';
import { runThroughput, type TargetResult } from './throughput.ts';
import { missingPackages } from './tools.ts';

const OPTIONS = {
  only: 'throughput,churn,dns',
  'wrk-seconds': '5',
  'warmup-seconds': '1',
  connections: '32',
  rounds: '3',
  'churn-seconds': '60',
  'changes-per-minute': '100',
  clients: '8',
  'churn-setups': 'builtin,managed,restart',
  'dns-rounds': '5',
  'dns-instances': '3',
  'dnsperf-seconds': '10',
  'dnsperf-clients': '4',
} as const;
type Option = keyof typeof OPTIONS;
const envName = (option: string): string => `LB_BENCH_${option.toUpperCase().replace(/-/g, '_')}`;

const { values } = parseArgs({
  options: {
    ...Object.fromEntries(Object.entries(OPTIONS).map(([name, fallback]) => [name, { type: 'string' as const, default: process.env[envName(name)] ?? fallback }])),
    'no-tcp': { type: 'boolean', default: process.env.LB_BENCH_NO_TCP === '1' },
  },
});
const text = (name: Option): string => (values as Record<string, unknown>)[name] as string;
const number = (name: Option, min = 1): number => {
  const n = Number(text(name));
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min} (got "${text(name)}")`);
  return n;
};
const parts = new Set(text('only').split(',').filter(Boolean));
for (const part of parts) if (!['throughput', 'churn', 'dns'].includes(part)) throw new Error(`--only takes throughput, churn, dns (got "${part}")`);
const setups = text('churn-setups').split(',').filter(Boolean) as ChurnSetup[];
for (const setup of setups) if (!CHURN_SETUPS.includes(setup)) throw new Error(`--churn-setups takes ${CHURN_SETUPS.join(', ')} (got "${setup}")`);

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number, digits = 1): string => `${n.toFixed(digits)} ms`;
const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');

async function main(): Promise<void> {
  const missing = missingPackages(parts);
  if (missing.length > 0) {
    process.stderr.write(`bench/lb needs ${missing.join(', ')} (Debian): apt-get install -y ${missing.join(' ')}\n`);
    process.exitCode = 2;
    return;
  }
  log(`bench/lb on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}, ${new Date().toISOString()}`);
  const backends: Backend[] = [];
  for (const name of ['b0', 'b1', 'b2', 'b3']) backends.push(await startBackend(name));
  let throughput: TargetResult[] | undefined;
  let churn: ChurnResult[] | undefined;
  let dns: DnsResult | undefined;
  try {
    if (parts.has('throughput')) {
      log(`\n1. throughput: wrk -t1 -c${text('connections')} -d${text('wrk-seconds')}s --latency, ${text('rounds')} rounds (the first after ${text('warmup-seconds')} s of warm-up), medians`);
      throughput = await runThroughput({
        backends: backends.slice(0, 2),
        seconds: number('wrk-seconds'),
        warmupSeconds: number('warmup-seconds', 0),
        connections: number('connections'),
        rounds: number('rounds'),
        tcp: !values['no-tcp'],
        log,
      });
    }
    if (parts.has('churn')) {
      log(`\n2. churn: ${text('changes-per-minute')} changes a minute for ${text('churn-seconds')} s, ${text('clients')} keep-alive clients, HTTP mode`);
      churn = await runChurn({ backends, setups, seconds: number('churn-seconds'), changesPerMinute: number('changes-per-minute'), clients: number('clients'), log });
    }
  } finally {
    await Promise.all(backends.map((b) => b.stop()));
  }
  if (parts.has('dns')) {
    log(`\n3. dns: a gantry server, ${text('dns-instances')} instances, HTTP health check every 1 s, ${text('dns-rounds')} rounds; dnsperf -l ${text('dnsperf-seconds')} -c ${text('dnsperf-clients')}`);
    dns = await runDns({ rounds: number('dns-rounds'), instances: number('dns-instances'), dnsperfSeconds: number('dnsperf-seconds'), dnsperfClients: number('dnsperf-clients'), log });
  }
  report(throughput, churn, dns);
  log(`\nbench/lb took ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

const started = performance.now();

function report(throughput: TargetResult[] | undefined, churn: ChurnResult[] | undefined, dns: DnsResult | undefined): void {
  log('\n## Summary');
  if (throughput) {
    log('\n| target | req/s | p50 | p99 | proxy CPU (cores) | proxy CPU per request | backends (cores) | machine busy | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const t of throughput) {
      const perRequest = Number.isFinite(t.proxyUsPerRequest) ? `${t.proxyUsPerRequest.toFixed(0)} µs` : '–';
      const proxy = Number.isFinite(t.proxyUsPerRequest) ? t.proxyCores.toFixed(2) : '–';
      log(`| ${t.target} | ${int(t.rps)} | ${ms(t.p50, 2)} | ${ms(t.p99, 2)} | ${proxy} | ${perRequest} | ${t.backendCores.toFixed(2)} | ${(t.machineBusy * 100).toFixed(0)}% | ${t.errors} |`);
    }
    const by = (target: string): TargetResult | undefined => throughput.find((t) => t.target === target);
    for (const mode of ['http', 'tcp']) {
      const builtin = by(`builtin ${mode}`);
      const managed = by(`managed HAProxy ${mode}`);
      const hand = by(`hand-written HAProxy ${mode}`);
      if (!builtin || !managed || !hand) continue;
      const r1 = builtin.rps / managed.rps;
      const r1h = builtin.rps / hand.rps;
      const r2 = managed.rps / hand.rps;
      log(`\n${mode}: built-in / managed HAProxy = ${r1.toFixed(2)}× (goal ≥ 0.5×: ${verdict(r1 >= 0.5)}; / hand-written ${r1h.toFixed(2)}×)`);
      log(`${mode}: managed / hand-written HAProxy = ${r2.toFixed(2)}× (goal ≥ 0.95×: ${verdict(r2 >= 0.95)})`);
      log(`${mode}: proxy CPU per request: built-in ${builtin.proxyUsPerRequest.toFixed(0)} µs, managed HAProxy ${managed.proxyUsPerRequest.toFixed(0)} µs, hand-written ${hand.proxyUsPerRequest.toFixed(0)} µs`);
    }
  }
  if (churn) {
    log('\n| setup | changes | requests | errors | changes with errors | error kinds | apply p50 / max | HAProxy processes replaced |\n| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |');
    for (const c of churn) log(`| ${c.setup} | ${c.changes} | ${int(c.requests)} | ${c.errors} | ${c.changesWithErrors} | ${c.kinds} | ${ms(c.applyP50)} / ${ms(c.applyMax)} | ${c.reloads} |`);
    for (const setup of ['builtin', 'managed'] as const) {
      const c = churn.find((r) => r.setup === setup);
      if (c) log(`${setup}: ${c.errors} errors during ${c.changes} changes (goal 0: ${verdict(c.errors === 0)})`);
    }
  }
  if (dns) {
    const s = summarizeDns(dns);
    log('\n| DNS, over ' + dns.rounds.length + ' rounds | p50 | max |\n| --- | ---: | ---: |');
    log(`| unhealthy verdict in the API → record gone | ${ms(s.verdictToGone.p50)} | ${ms(s.verdictToGone.max)} |`);
    log(`| flag file → verdict in the API | ${ms(s.fileToVerdict.p50, 0)} | ${ms(s.fileToVerdict.max, 0)} |`);
    log(`| flag file → record gone | ${ms(s.fileToGone.p50, 0)} | ${ms(s.fileToGone.max, 0)} |`);
    log(`| flag removed → record back | ${ms(s.back.p50, 0)} | ${ms(s.back.max, 0)} |`);
    log(`verdict → gone ≤ 1 s (goal): ${verdict(s.verdictToGone.max <= 1000)}; file → gone max ${ms(s.fileToGone.max, 0)} ${s.fileToGone.max <= 1000 ? '(also ≤ 1 s)' : '(includes the wait for the next check, 1 s interval)'}`);
    log(`dnsperf: ${int(dns.dnsperf.qps)} queries/s, average latency ${ms(dns.dnsperf.avgLatencyMs, 2)}, ${dns.dnsperf.completed} completed, ${dns.dnsperf.lost} lost, ${dns.dnsperf.rcodes}`);
  }
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping what the bench started\n`);
    void stopAll().finally(() => process.exit(130));
  });
}

main()
  .catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
