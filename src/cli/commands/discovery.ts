// `gantry services`, `gantry lb ls|haproxy-config` and `gantry dns lookup`: reaching apps from the
// terminal, over /api/v1/services, /api/v1/lb and /api/v1/dns/lookup.
import type { Command } from 'commander';
import type { LbState, Service } from '../../discovery/index.ts';
import { ApiClient } from '../client.ts';
import { formatTable, printJson } from '../table.ts';

type ServiceJson = Service & { dns: { a: string; srv: string[] } };

interface LookupAnswer {
  rcode: string;
  answers: Array<{ name: string; type: string; ttl?: number; data: unknown }>;
  authority: Array<{ name: string; type: string; ttl?: number; data: unknown }>;
}

export function registerDiscoveryCommands(program: Command): void {
  program
    .command('services')
    .description('the service catalog: each app\'s DNS name, service ports and the instances that serve (up) or drain')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { services } = await new ApiClient().get<{ services: ServiceJson[] }>('/api/v1/services');
      if (flags.json) return printJson(services);
      const rows = services.map((s) => [
        s.appId,
        s.dns.a,
        s.ports.map((p) => (p.servicePort === null ? '-' : `${p.servicePort}/${p.mode}`)).join(',') || '-',
        String(s.backends.filter((b) => b.state === 'up').length),
        String(s.backends.filter((b) => b.state === 'draining').length),
        s.backends.filter((b) => b.state === 'up').map((b) => `${b.address}:${b.ports.join(',')}`).join(' ') || '-',
      ]);
      process.stdout.write(formatTable(['APP', 'DNS', 'SERVICE PORTS', 'UP', 'DRAINING', 'ADDRESSES'], rows) + '\n');
    });

  const lb = program.command('lb').description('the load balancer: service ports, virtual hosts and their backends');
  lb.command('ls')
    .description('each listener and route with its backends, their state and open connections')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const state = await new ApiClient().get<LbState>('/api/v1/lb');
      if (flags.json) return printJson(state);
      process.stdout.write(`load balancer: ${state.kind}, ${state.healthy ? 'healthy' : `NOT HEALTHY: ${state.message}`}\n`);
      const status = new Map(state.servers.map((s) => [s.id, s]));
      const rows: string[][] = [];
      for (const listener of state.model?.listeners ?? []) {
        for (const route of listener.routes) {
          const match = [route.hosts.join(',') || '*', route.pathPrefix ?? ''].join('');
          if (route.servers.length === 0) rows.push([String(listener.port), listener.mode, route.name, match, route.appIds.join(','), '-', 'no backend', '-']);
          for (const server of route.servers) {
            const seen = status.get(server.id);
            const stateText = seen ? seen.state + (seen.reason ? ` (${seen.reason})` : '') : server.draining ? 'draining' : 'up';
            rows.push([String(listener.port), listener.mode, route.name, match, server.appId, `${server.address}:${server.port}`, stateText, String(seen?.connections ?? 0)]);
          }
        }
      }
      process.stdout.write(formatTable(['PORT', 'MODE', 'ROUTE', 'MATCH', 'APP', 'BACKEND', 'STATE', 'CONNS'], rows) + '\n');
    });

  lb.command('haproxy-config')
    .description('print an HAProxy configuration of the catalog as it is, for operators who run HAProxy themselves')
    .action(async () => {
      process.stdout.write(await new ApiClient().getText('/api/v1/lb/haproxy-config'));
    });

  const dns = program.command('dns').description('the platform\'s DNS server');
  dns
    .command('lookup')
    .description('ask the platform\'s DNS server for a name (web.prod, web.prod.gantry, _web._tcp.prod or /prod/web)')
    .argument('<name>')
    .option('-t, --type <type>', 'A, AAAA, SRV, SOA, NS or ANY', 'A')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { type: string; json?: boolean }) => {
      const answer = await new ApiClient().get<LookupAnswer>(`/api/v1/dns/lookup?name=${encodeURIComponent(name)}&type=${encodeURIComponent(flags.type)}`);
      if (flags.json) return printJson(answer);
      if (answer.rcode !== 'NOERROR') {
        process.stderr.write(`${name}: ${answer.rcode}\n`);
        process.exitCode = 1;
        return;
      }
      if (answer.answers.length === 0) process.stdout.write(`${name}: no ${flags.type.toUpperCase()} record\n`);
      for (const record of answer.answers) process.stdout.write(`${record.name}\t${record.ttl ?? ''}\t${record.type}\t${dataText(record.data)}\n`);
    });
}

function dataText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data && typeof data === 'object' && 'target' in data) {
    const srv = data as { priority: number; weight: number; port: number; target: string };
    return `${srv.priority} ${srv.weight} ${srv.port} ${srv.target}`;
  }
  return JSON.stringify(data);
}
