// Reaching apps through the API: the service catalog (`/api/v1/services`: each app's DNS names, ports
// with their service ports, and the instances up or draining), the load balancer's state
// (`/api/v1/lb`, `gantry lb ls`), its HAProxy configuration for operators who run HAProxy themselves,
// and DNS lookups through the platform's own DNS server (`gantry dns lookup`).
import Router from '@koa/router';
import { z } from 'zod';
import type { Discovery, Service } from '../../discovery/index.ts';
import { NotFound } from '../../shared/errors.ts';
import { parseInput } from '../parse.ts';

const DNS_TYPES = ['A', 'AAAA', 'SRV', 'SOA', 'NS', 'ANY', 'TXT', 'MX', 'CNAME', 'PTR'] as const;
const lookupQuery = z.object({
  name: z.string().min(1).max(253),
  type: z.string().transform((t) => t.toUpperCase()).pipe(z.enum(DNS_TYPES)).default('A'),
});

export function discoveryRoutes(discovery: Discovery): Router {
  const router = new Router();

  router.get('/api/v1/services', (ctx) => {
    const snapshot = discovery.snapshot();
    ctx.body = { version: snapshot.version, services: snapshot.services.map((s) => serviceJson(discovery, s)) };
  });

  router.get('/api/v1/services/*id', (ctx) => {
    const appId = `/${ctx.params.id!.replace(/^\/+/, '')}`;
    const service = discovery.snapshot().services.find((s) => s.appId === appId);
    if (!service) throw new NotFound(`no service ${appId}: no such app`);
    ctx.body = serviceJson(discovery, service);
  });

  router.get('/api/v1/lb', async (ctx) => {
    ctx.body = await discovery.lbState();
  });

  router.get('/api/v1/lb/haproxy-config', async (ctx) => {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = await discovery.haproxyConfig();
  });

  router.get('/api/v1/dns/lookup', async (ctx) => {
    const { name, type } = parseInput(lookupQuery, ctx.query);
    ctx.body = await discovery.lookup(name, type);
  });

  return router;
}

function serviceJson(discovery: Discovery, service: Service): Record<string, unknown> {
  return { appId: service.appId, dns: discovery.dnsNames(service), deploymentGroup: service.deploymentGroup, share: service.share, ports: service.ports, backends: service.backends };
}
