// Reaching apps, assembled: the service catalog over apps' endpoints, the DNS server answering from
// it, and the load balancer's data plane (built-in or HAProxy) kept in step with it. The server builds
// one (main.ts) after the apps; routes read the catalog, the data plane's state and DNS through it.
import path from 'node:path';
import type { Logger } from 'pino';
import { Unavailable } from '../shared/errors.ts';
import { ServiceCatalog, type EndpointsSource } from './catalog/service-catalog.ts';
import { DnsServer, queryDns } from './dns/index.ts';
import { appDnsNames, qualifyName, zoneApex, type AppDnsNames } from './dns/names.ts';
import { LbApplier } from './lb-applier.ts';
import { lbModelOf } from './lb-model.ts';
import type { CatalogSnapshot, LbDataPlane, LbModel, LbServerStatus, Service } from './model.ts';
import { BuiltinDataPlane } from './proxy/index.ts';

export interface DiscoveryOptions {
  source: EndpointsSource;
  logger: Logger;
  /** Where the HAProxy data plane keeps its configuration and sockets. */
  dataDir: string;
  domain: string;
  /** null: no DNS server. */
  dnsListen: { host: string; port: number } | null;
  dnsTtlSeconds: number;
  lb: 'builtin' | 'haproxy' | 'off';
  lbBindHost: string;
  lbHttpPort: number;
  lbGroups: string[];
  haproxyBinary: string;
  /** Tests: how agents' hostnames resolve. */
  resolveHost?: (host: string) => Promise<string>;
}

export interface LbState {
  kind: 'builtin' | 'haproxy' | 'off';
  healthy: boolean;
  /** Why it is not healthy (a port it cannot bind, an HAProxy that failed to start or reload). */
  message: string | null;
  model: LbModel | null;
  servers: LbServerStatus[];
}

export class Discovery {
  readonly catalog: ServiceCatalog;
  private dns: DnsServer | undefined;
  private applier: LbApplier | undefined;
  /** Where the DNS server answers, once started. */
  dnsAddress: { host: string; port: number } | null = null;

  constructor(private readonly options: DiscoveryOptions) {
    this.catalog = new ServiceCatalog(options.source, options.logger.child({ part: 'catalog' }), options.resolveHost);
  }

  async start(): Promise<void> {
    const { options } = this;
    this.catalog.start();
    if (options.dnsListen) {
      this.dns = new DnsServer({ feed: this.catalog, host: options.dnsListen.host, port: options.dnsListen.port, domain: options.domain, ttlSeconds: options.dnsTtlSeconds, logger: options.logger.child({ part: 'dns' }) });
      this.dnsAddress = await this.dns.start();
    }
    const plane = await this.newPlane();
    if (plane) {
      this.applier = new LbApplier(this.catalog, plane, { httpPort: options.lbHttpPort, groups: options.lbGroups }, options.logger.child({ part: 'lb' }));
      await this.applier.start();
    }
  }

  async close(): Promise<void> {
    await this.applier?.stop();
    await this.applier?.plane.close();
    await this.dns?.close();
    this.catalog.stop();
  }

  snapshot(): CatalogSnapshot {
    return this.catalog.snapshot();
  }

  /** Settles once the load balancer took every catalog change so far (tests). */
  async idle(): Promise<void> {
    await this.applier?.idle();
  }

  async lbState(): Promise<LbState> {
    const kind = this.options.lb;
    if (!this.applier) return { kind, healthy: true, message: null, model: null, servers: [] };
    const status = await this.applier.plane.status();
    const message = [this.applier.lastError, status.message].filter((m): m is string => m !== null).join('; ') || null;
    return { kind, healthy: status.healthy && this.applier.lastError === null, message, model: this.applier.applied, servers: status.servers };
  }

  /** The HAProxy configuration of the catalog as it is, for operators who run HAProxy themselves. */
  async haproxyConfig(): Promise<string> {
    const model = lbModelOf(this.catalog.snapshot(), { httpPort: this.options.lbHttpPort, groups: this.options.lbGroups });
    const { renderHaproxyConfig } = await import('./haproxy/index.ts');
    return renderHaproxyConfig(model, { slots: false, bindHost: this.options.lbBindHost });
  }

  /** The DNS names an app answers at (whether or not an instance is up now). */
  dnsNames(service: Pick<Service, 'appId' | 'ports'>): AppDnsNames {
    return appDnsNames(service.appId, service.ports, zoneApex(this.options.domain));
  }

  /** Asks the platform's DNS server, as any resolver would (`gantry dns lookup`). */
  async lookup(name: string, type: string): Promise<Awaited<ReturnType<typeof queryDns>>> {
    if (!this.dnsAddress) throw new Unavailable('no DNS server runs here (discovery.dnsListen is off)');
    const fqdn = qualifyName(name, zoneApex(this.options.domain));
    const server = { host: this.dnsAddress.host === '0.0.0.0' ? '127.0.0.1' : this.dnsAddress.host === '::' ? '::1' : this.dnsAddress.host, port: this.dnsAddress.port };
    return queryDns({ server, name: fqdn, type: type as never, timeoutMs: 2000 });
  }

  /** The data plane asked for; HAProxy's modules are loaded only when it is the one. */
  private async newPlane(): Promise<LbDataPlane | undefined> {
    const { options } = this;
    const logger = options.logger.child({ part: 'lb', plane: options.lb });
    if (options.lb === 'builtin') return new BuiltinDataPlane({ bindHost: options.lbBindHost, logger });
    if (options.lb === 'haproxy') {
      const { HaproxyDataPlane } = await import('./haproxy/index.ts');
      return new HaproxyDataPlane({ workDir: path.join(options.dataDir, 'haproxy'), binary: options.haproxyBinary, bindHost: options.lbBindHost, logger });
    }
    return undefined;
  }
}
