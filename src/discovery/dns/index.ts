// The DNS surface main.ts and the CLI use: the authoritative server over the service catalog, its
// zone (pure, for tests and views), the naming of apps in DNS, and a small client.
export { DnsServer, type DnsServerOptions } from './dns-server.ts';
export { DnsZone, buildZone, DEFAULT_TTL_SECONDS, type ZoneAnswer, type ZoneOptions, type ZoneQuestion, type ZoneRcode } from './zone.ts';
export { queryDns, type DnsQueryOptions, type DnsQueryResult } from './dns-query.ts';
export { respond, RCODES, EDNS_UDP_LIMIT, type Rcode, type Response, type Transport } from './responder.ts';
export {
  DEFAULT_DOMAIN,
  appDnsName,
  appDnsNames,
  canonicalName,
  instanceDnsName,
  isValidName,
  labelOf,
  qualifyName,
  srvDnsName,
  zoneApex,
  type AppDnsNames,
} from './names.ts';
