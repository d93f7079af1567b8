// The platform's DNS zone, built from one catalog snapshot: which names exist and what each answers,
// so that the server only looks up and encodes. Pure (no I/O): the server builds a new zone when the
// catalog changes and swaps it whole, as Mesos-DNS regenerates its record set on every refresh.
//
// What is in it (names.ts has the naming):
// - the apex `gantry.`: SOA (serial = the catalog version) and NS → `ns1.gantry.`, which has the
//   server's own address;
// - per app with up instances, `web.prod.gantry.`: an A (AAAA for IPv6) per distinct address of its
//   up backends; `<instanceId>.web.prod.gantry.`: that instance's address; `_web._tcp.prod.gantry.`
//   (`_udp` for UDP ports): an SRV per up backend and port, targeting the instance's name; and
//   `_<port name>._web._tcp.prod.gantry.` with that port only.
//
// Draining backends are in none of it: they get no new clients. An app with no up instance has no
// names at all (NXDOMAIN), as in Mesos-DNS, which makes records only from TASK_RUNNING tasks
// (records/generator.go `taskRecords`) and answers NXDOMAIN for a name with none
// (resolver/resolver.go `handleEmpty`).
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer, SoaAnswer } from 'dns-packet';
import { Invalid } from '../../shared/errors.ts';
import type { CatalogSnapshot, Service } from '../model.ts';
import { appDnsName, canonicalName, isValidName, labelOf, MAX_LABEL, MAX_NAME, srvDnsName, zoneApex } from './names.ts';

export interface ZoneOptions {
  /** The zone's domain: `gantry` (the default) serves `*.gantry.`. */
  domain?: string;
  /** Every record's TTL and the SOA's minimum (the negative-caching TTL). Default 5 s: the catalog changes often. */
  ttlSeconds?: number;
  /** The server itself, named by the apex's NS and SOA: `ns1.<domain>.` by default; its A (AAAA) when `address` is set. */
  nameserver?: { name?: string; address?: string | null };
}

export const DEFAULT_TTL_SECONDS = 5;

/** SOA timers. Nothing transfers this zone (no secondaries), so they only need to be sane; these are Mesos-DNS's defaults. */
const SOA_REFRESH = 60;
const SOA_RETRY = 600;
const SOA_EXPIRE = 86_400;

export type ZoneRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface ZoneQuestion {
  name: string;
  /** dns-packet's type name: `A`, `SRV`, `ANY`, `UNKNOWN_65`. */
  type: string;
  /** dns-packet's class name: `IN` (the default), `ANY`, `CH`, `UNKNOWN_42`. */
  class?: string;
}

export interface ZoneAnswer {
  rcode: ZoneRcode;
  /** AA: the answer comes from this zone's data. Not for REFUSED: the name is not ours to answer for. */
  authoritative: boolean;
  answers: readonly Answer[];
  authority: readonly Answer[];
  additional: readonly Answer[];
}

const NONE: readonly Answer[] = [];

const REFUSED: ZoneAnswer = { rcode: 'REFUSED', authoritative: false, answers: NONE, authority: NONE, additional: NONE };

export class DnsZone {
  /** `gantry.` */
  readonly apex: string;
  /** The SOA serial: the catalog version, modulo 2^32 (RFC 1982 serial arithmetic handles the wrap). */
  readonly serial: number;
  readonly ttlSeconds: number;
  /** How many records it holds (the SOA, NS and glue included). */
  readonly recordCount: number;
  /** Apps left out because a name of theirs is too long for DNS (a label over 63 characters, a name over 253). */
  readonly skippedApps: readonly string[];
  private readonly soa: SoaAnswer;
  /** name → type → records; every name canonical (lower case, root dot). */
  private readonly records: ReadonlyMap<string, ReadonlyMap<string, readonly Answer[]>>;
  /** Every name that exists: those with records and the empty non-terminals above them (`prod.gantry.`). */
  private readonly names: ReadonlySet<string>;

  constructor(snapshot: CatalogSnapshot, options: ZoneOptions = {}) {
    const builder = new ZoneBuilder(zoneApex(options.domain), ttlOf(options.ttlSeconds));
    this.apex = builder.apex;
    this.ttlSeconds = builder.ttl;
    this.serial = snapshot.version >>> 0;
    const nsName = canonicalName(options.nameserver?.name ?? `ns1.${this.apex}`);
    if (!isValidName(nsName)) throw new Invalid(`"${options.nameserver?.name}" is not a valid name server name`);
    this.soa = {
      name: this.apex,
      type: 'SOA',
      class: 'IN',
      ttl: builder.ttl,
      data: { mname: nsName, rname: `root.${nsName}`, serial: this.serial, refresh: SOA_REFRESH, retry: SOA_RETRY, expire: SOA_EXPIRE, minimum: builder.ttl },
    };
    builder.put(this.soa);
    builder.put({ name: this.apex, type: 'NS', class: 'IN', ttl: builder.ttl, data: nsName });
    const nsAddress = options.nameserver?.address ?? null;
    if (nsAddress !== null && builder.inZone(nsName)) builder.addAddress(nsName, nsAddress);
    for (const service of snapshot.services) {
      // A colour of a blue-green switch taking no new requests is not named; one taking some is named
      // under its group's id too (`web.prod.gantry.` for /prod/web-green of group /prod/web).
      if (service.share === 0) continue;
      builder.addService(service);
      if (service.deploymentGroup !== service.appId && service.deploymentGroup.startsWith('/')) builder.addService({ ...service, appId: service.deploymentGroup });
    }
    this.records = builder.records;
    this.names = builder.names;
    this.recordCount = builder.count;
    this.skippedApps = builder.skipped;
  }

  /**
   * The answer to one question. In the zone: the records at the name of the type asked (every record for
   * ANY); NODATA (NOERROR, no answer, the SOA in authority) for a name that exists without that type;
   * NXDOMAIN with the SOA for a name that does not exist. Outside the zone: REFUSED, as an
   * authoritative-only server (no recursion) answers.
   */
  lookup(question: ZoneQuestion): ZoneAnswer {
    // A class other than IN (or ANY, which means "any class"): REFUSED, as BIND answers a class it has no
    // view for ("no matching view in class", lib/ns/client.c). NOTIMP would say the server does not
    // implement a kind of request; this is an ordinary query about data the server just does not hold.
    if (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY') return REFUSED;
    const name = canonicalName(question.name);
    if (!this.inZone(name)) return REFUSED;
    // Zone transfers are not offered (nothing needs a secondary of a zone rebuilt every few seconds):
    // refused, as BIND refuses a transfer its `allow-transfer` does not permit.
    if (question.type === 'AXFR' || question.type === 'IXFR') return REFUSED;
    if (!this.names.has(name)) return { rcode: 'NXDOMAIN', authoritative: true, answers: NONE, authority: [this.soa], additional: NONE };
    const atName = this.records.get(name);
    const answers = question.type === 'ANY' ? [...(atName?.values() ?? [])].flat() : (atName?.get(question.type) ?? NONE);
    if (answers.length === 0) return { rcode: 'NOERROR', authoritative: true, answers: NONE, authority: [this.soa], additional: NONE };
    return { rcode: 'NOERROR', authoritative: true, answers, authority: NONE, additional: this.additionalFor(answers) };
  }

  /** Whether a (canonical) name is at or under the apex. */
  inZone(name: string): boolean {
    return name === this.apex || name.endsWith(`.${this.apex}`);
  }

  /** The addresses of the names SRV and NS answers point to, so that the client needs no second query. */
  private additionalFor(answers: readonly Answer[]): readonly Answer[] {
    const targets = new Set<string>();
    for (const answer of answers) {
      if (answer.type === 'SRV') targets.add(answer.data.target);
      else if (answer.type === 'NS') targets.add(answer.data);
    }
    if (targets.size === 0) return NONE;
    const additional: Answer[] = [];
    for (const target of targets) {
      const atTarget = this.records.get(target);
      additional.push(...(atTarget?.get('A') ?? NONE), ...(atTarget?.get('AAAA') ?? NONE));
    }
    return additional;
  }
}

/** Builds a zone from a snapshot; `new DnsZone(snapshot, options)` reads better at the call site. */
export function buildZone(snapshot: CatalogSnapshot, options: ZoneOptions = {}): DnsZone {
  return new DnsZone(snapshot, options);
}

function ttlOf(ttlSeconds: number | undefined): number {
  const ttl = ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647) throw new Invalid(`the DNS TTL must be a whole number of seconds from 0 to 2147483647, not ${ttlSeconds}`);
  return ttl;
}

/**
 * Collects records once per snapshot: maps keyed by name, so that a lookup is two map reads. Built for
 * 10,000 backends in tens of milliseconds: no key strings per record (duplicates are looked for only
 * where they can be: an address shared by instances, an instance id seen twice, two port specs with one
 * port number), and the two SRV names of a named port share their record data.
 */
class ZoneBuilder {
  readonly records = new Map<string, Map<string, Answer[]>>();
  readonly names = new Set<string>();
  readonly skipped: string[] = [];
  count = 0;

  constructor(
    readonly apex: string,
    readonly ttl: number,
  ) {
    this.names.add(apex);
  }

  inZone(name: string): boolean {
    return name === this.apex || name.endsWith(`.${this.apex}`);
  }

  addService(service: Service): void {
    const appName = appDnsName(service.appId, this.apex);
    const srvNames = service.ports.map((port) => ({
      index: port.index,
      names: [srvDnsName(service.appId, port.protocol, this.apex), ...(port.name === null ? [] : [srvDnsName(service.appId, port.protocol, this.apex, port.name)])],
    }));
    if (!isValidName(appName) || srvNames.some((port) => !port.names.every(isValidName))) {
      this.skipped.push(service.appId);
      return;
    }
    const addresses = new Set<string>();
    const instances = new Set<string>();
    for (const backend of service.backends) {
      const type = backend.state === 'up' ? addressType(backend.address) : null;
      if (type === null) continue;
      const label = labelOf(backend.instanceId);
      // labelOf leaves only letters, digits, `-` and `_`: the lengths are all there is to check.
      if (label.length === 0 || label.length > MAX_LABEL || label.length + appName.length > MAX_NAME + 1) continue;
      const instanceName = `${label}.${appName}`;
      const repeated = instances.has(label);
      instances.add(label);
      if (!addresses.has(backend.address)) {
        addresses.add(backend.address);
        this.put({ name: appName, type, class: 'IN', ttl: this.ttl, data: backend.address });
      }
      if (!repeated || !this.holds(instanceName, type, (record) => record.type === type && record.data === backend.address)) this.put({ name: instanceName, type, class: 'IN', ttl: this.ttl, data: backend.address });
      const added: Array<{ name: string; port: number }> = [];
      for (const port of srvNames) {
        const number = backend.ports[port.index];
        if (number === undefined || !Number.isInteger(number) || number < 1 || number > 65_535) continue;
        // Priority 0, weight 1: every instance equal; the load balancer, not DNS, does weighting.
        const data = { priority: 0, weight: 1, port: number, target: instanceName };
        for (const name of port.names) {
          if (added.some((srv) => srv.name === name && srv.port === number)) continue;
          if (repeated && this.holds(name, 'SRV', (record) => record.type === 'SRV' && record.data.target === instanceName && record.data.port === number)) continue;
          added.push({ name, port: number });
          this.put({ name, type: 'SRV', class: 'IN', ttl: this.ttl, data });
        }
      }
    }
  }

  /** An A record for an IPv4 address, an AAAA for IPv6; anything else is not an address and is left out. */
  addAddress(name: string, address: string): void {
    const type = addressType(address);
    if (type !== null && !this.holds(name, type, (record) => record.type === type && record.data === address)) this.put({ name, type, class: 'IN', ttl: this.ttl, data: address });
  }

  put(record: Answer): void {
    let atName = this.records.get(record.name);
    if (atName === undefined) {
      atName = new Map();
      this.records.set(record.name, atName);
      this.exists(record.name);
    }
    const ofType = atName.get(record.type);
    if (ofType === undefined) atName.set(record.type, [record]);
    else ofType.push(record);
    this.count += 1;
  }

  private holds(name: string, type: string, same: (record: Answer) => boolean): boolean {
    return this.records.get(name)?.get(type)?.some(same) ?? false;
  }

  /** The name and every name between it and the apex exist (RFC 8020: an empty non-terminal is not NXDOMAIN). */
  private exists(name: string): void {
    let current = name;
    while (!this.names.has(current) && this.inZone(current)) {
      this.names.add(current);
      current = current.slice(current.indexOf('.') + 1);
    }
  }
}

function addressType(address: string): 'A' | 'AAAA' | null {
  if (isIPv4(address)) return 'A';
  if (isIPv6(address)) return 'AAAA';
  return null;
}
