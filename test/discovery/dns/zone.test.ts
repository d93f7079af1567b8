// The DNS zone built from a catalog snapshot, without sockets: tables of questions and the rcode and
// records each gets (Mesos-DNS's names and negative answers, BIND's choices where Mesos-DNS has none).
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import { appDnsName, appDnsNames, buildZone, DnsZone, instanceDnsName, qualifyName, srvDnsName, zoneApex, type ZoneAnswer, type ZoneOptions } from '../../../src/discovery/dns/index.ts';
import type { CatalogSnapshot, Service, ServiceBackend, ServicePortSpec } from '../../../src/discovery/model.ts';

function port(index: number, name: string | null, protocol: 'tcp' | 'udp' = 'tcp'): ServicePortSpec {
  return { index, name, protocol, servicePort: null, mode: 'tcp', vhosts: [], path: null, balance: 'roundrobin', group: 'external' };
}

function backend(appId: string, instanceId: string, address: string, ports: number[], state: 'up' | 'draining' = 'up'): ServiceBackend {
  return { appId, instanceId, taskId: `${instanceId}.task`, host: 'agent-1', address, ports, state, weight: 1 };
}

function service(appId: string, ports: ServicePortSpec[], backends: Array<[string, string, number[], ('up' | 'draining')?]>): Service {
  return { appId, deploymentGroup: appId, share: null, ports, backends: backends.map(([instanceId, address, numbers, state]) => backend(appId, instanceId, address, numbers, state)) };
}

/** /prod/web: two up instances on one agent address and one elsewhere, one draining; a named tcp port and an unnamed udp one. */
const catalog: CatalogSnapshot = {
  version: 42,
  services: [
    service('/a/b/web', [port(0, null)], [['i-abw', '10.0.3.1', [7000]]]),
    service('/idle', [port(0, 'http')], [['i-idle', '10.0.9.9', [80], 'draining']]),
    service('/prod/web', [port(0, 'http'), port(1, null, 'udp')], [
      ['i-1', '10.0.0.1', [8000, 9000]],
      ['i-2', '10.0.0.1', [8001, 9001]],
      ['i-3', '10.0.0.2', [8002, 9002]],
      ['i-4', '10.0.0.3', [8003, 9003], 'draining'],
    ]),
    service('/v6', [port(0, null)], [['i-6', 'fd00::6', [6000]]]),
    service('/web', [port(0, 'http'), port(1, 'admin')], [['i-w', '10.0.1.1', [80]]]),
  ],
};

const options: ZoneOptions = { domain: 'gantry', ttlSeconds: 5, nameserver: { name: 'ns1.gantry.', address: '192.0.2.53' } };

/** One record as dig writes it, without TTL and class: `web.prod.gantry. A 10.0.0.1`. */
function show(record: Answer): string {
  switch (record.type) {
    case 'SRV':
      return `${record.name} SRV ${record.data.priority} ${record.data.weight} ${record.data.port} ${record.data.target}`;
    case 'SOA':
      return `${record.name} SOA ${record.data.mname} ${record.data.rname} ${record.data.serial} ${record.data.refresh} ${record.data.retry} ${record.data.expire} ${record.data.minimum}`;
    case 'A':
    case 'AAAA':
    case 'NS':
      return `${record.name} ${record.type} ${record.data}`;
    default:
      return `${record.name} ${record.type}`;
  }
}

function shown(answer: ZoneAnswer): { rcode: string; aa: boolean; answers: string[]; authority: string[]; additional: string[] } {
  return {
    rcode: answer.rcode,
    aa: answer.authoritative,
    answers: answer.answers.map(show).sort(),
    authority: answer.authority.map(show),
    additional: answer.additional.map(show).sort(),
  };
}

const SOA = 'gantry. SOA ns1.gantry. root.ns1.gantry. 42 60 600 86400 5';
const answered = (answers: string[], additional: string[] = []) => ({ rcode: 'NOERROR', aa: true, answers, authority: [], additional });
const nodata = { rcode: 'NOERROR', aa: true, answers: [], authority: [SOA], additional: [] };
const nxdomain = { rcode: 'NXDOMAIN', aa: true, answers: [], authority: [SOA], additional: [] };
const refused = { rcode: 'REFUSED', aa: false, answers: [], authority: [], additional: [] };

describe('discovery: DNS names', () => {
  it('reverse an app id\'s segments under the domain, Mesos-DNS style', () => {
    const table: Array<[string, string]> = [
      ['/prod/web', 'web.prod.gantry.'],
      ['/web', 'web.gantry.'],
      ['/a/b/web', 'web.b.a.gantry.'],
      ['/Prod/Web', 'web.prod.gantry.'],
    ];
    for (const [appId, name] of table) assert.equal(appDnsName(appId, 'gantry.'), name, appId);
    assert.equal(instanceDnsName('/prod/web', 'i-lx3k9c-1a2b', 'gantry.'), 'i-lx3k9c-1a2b.web.prod.gantry.');
    assert.equal(srvDnsName('/prod/web', 'tcp', 'gantry.'), '_web._tcp.prod.gantry.');
    assert.equal(srvDnsName('/web', 'udp', 'gantry.'), '_web._udp.gantry.');
    assert.equal(srvDnsName('/prod/web', 'tcp', 'gantry.', 'http'), '_http._web._tcp.prod.gantry.');
    assert.deepEqual(appDnsNames('/prod/web', [{ name: 'http', protocol: 'tcp' }, { name: null, protocol: 'tcp' }, { name: null, protocol: 'udp' }], 'gantry.'), {
      a: 'web.prod.gantry.',
      srv: ['_web._tcp.prod.gantry.', '_http._web._tcp.prod.gantry.', '_web._udp.prod.gantry.'],
    });
  });

  it('qualify what a user types (`gantry dns lookup web.prod`) with the domain', () => {
    const table: Array<[string, string]> = [
      ['web.prod', 'web.prod.gantry.'],
      ['web.prod.gantry', 'web.prod.gantry.'],
      ['WEB.prod.Gantry.', 'web.prod.gantry.'],
      ['/prod/web', 'web.prod.gantry.'],
      ['_web._tcp.prod', '_web._tcp.prod.gantry.'],
      ['example.com.', 'example.com.'],
      ['gantry', 'gantry.'],
    ];
    for (const [written, name] of table) assert.equal(qualifyName(written, 'gantry.'), name, written);
  });

  it('refuse a domain that is not a DNS name', () => {
    assert.equal(zoneApex('apps.example.com'), 'apps.example.com.');
    for (const bad of ['', '.', 'a..b', `${'x'.repeat(64)}.com`, 'has space']) assert.throws(() => zoneApex(bad), /not a valid DNS domain/, bad);
  });
});

describe('discovery: DNS zone', () => {
  const zone = buildZone(catalog, options);

  it('answer each question from the catalog: A, per instance, SRV with the targets\' addresses, the apex', () => {
    const table: Array<[string, string, ReturnType<typeof shown>]> = [
      // One A per distinct address of the up instances; the draining one (10.0.0.3) is not in DNS.
      ['web.prod.gantry.', 'A', answered(['web.prod.gantry. A 10.0.0.1', 'web.prod.gantry. A 10.0.0.2'])],
      ['web.gantry', 'A', answered(['web.gantry. A 10.0.1.1'])],
      ['web.b.a.gantry.', 'A', answered(['web.b.a.gantry. A 10.0.3.1'])],
      ['i-2.web.prod.gantry.', 'A', answered(['i-2.web.prod.gantry. A 10.0.0.1'])],
      [
        '_web._tcp.prod.gantry.',
        'SRV',
        answered(
          ['_web._tcp.prod.gantry. SRV 0 1 8000 i-1.web.prod.gantry.', '_web._tcp.prod.gantry. SRV 0 1 8001 i-2.web.prod.gantry.', '_web._tcp.prod.gantry. SRV 0 1 8002 i-3.web.prod.gantry.'],
          ['i-1.web.prod.gantry. A 10.0.0.1', 'i-2.web.prod.gantry. A 10.0.0.1', 'i-3.web.prod.gantry. A 10.0.0.2'],
        ),
      ],
      [
        '_web._udp.prod.gantry.',
        'SRV',
        answered(
          ['_web._udp.prod.gantry. SRV 0 1 9000 i-1.web.prod.gantry.', '_web._udp.prod.gantry. SRV 0 1 9001 i-2.web.prod.gantry.', '_web._udp.prod.gantry. SRV 0 1 9002 i-3.web.prod.gantry.'],
          ['i-1.web.prod.gantry. A 10.0.0.1', 'i-2.web.prod.gantry. A 10.0.0.1', 'i-3.web.prod.gantry. A 10.0.0.2'],
        ),
      ],
      // The named port alone; the unnamed udp port has no name of its own.
      [
        '_http._web._tcp.prod.gantry.',
        'SRV',
        answered(
          ['_http._web._tcp.prod.gantry. SRV 0 1 8000 i-1.web.prod.gantry.', '_http._web._tcp.prod.gantry. SRV 0 1 8001 i-2.web.prod.gantry.', '_http._web._tcp.prod.gantry. SRV 0 1 8002 i-3.web.prod.gantry.'],
          ['i-1.web.prod.gantry. A 10.0.0.1', 'i-2.web.prod.gantry. A 10.0.0.1', 'i-3.web.prod.gantry. A 10.0.0.2'],
        ),
      ],
      ['_web._tcp.gantry.', 'SRV', answered(['_web._tcp.gantry. SRV 0 1 80 i-w.web.gantry.'], ['i-w.web.gantry. A 10.0.1.1'])],
      // /web's `admin` port (index 1) has no number on its one backend: no record for it, and so no name.
      ['_admin._web._tcp.gantry.', 'SRV', nxdomain],
      ['v6.gantry.', 'AAAA', answered(['v6.gantry. AAAA fd00::6'])],
      ['v6.gantry.', 'A', nodata],
      ['_v6._tcp.gantry.', 'SRV', answered(['_v6._tcp.gantry. SRV 0 1 6000 i-6.v6.gantry.'], ['i-6.v6.gantry. AAAA fd00::6'])],
      ['gantry.', 'SOA', answered([SOA])],
      ['gantry.', 'NS', answered(['gantry. NS ns1.gantry.'], ['ns1.gantry. A 192.0.2.53'])],
      ['ns1.gantry.', 'A', answered(['ns1.gantry. A 192.0.2.53'])],
      ['gantry.', 'A', nodata],
      ['i-1.web.prod.gantry.', 'ANY', answered(['i-1.web.prod.gantry. A 10.0.0.1'])],
      ['gantry.', 'ANY', answered(['gantry. NS ns1.gantry.', SOA], ['ns1.gantry. A 192.0.2.53'])],
    ];
    for (const [name, type, expected] of table) assert.deepEqual(shown(zone.lookup({ name, type })), expected, `${name} ${type}`);
  });

  it('answer NODATA for a name that exists without the type, NXDOMAIN for one that does not; the SOA in authority either way', () => {
    const table: Array<[string, string, ReturnType<typeof shown>]> = [
      ['web.prod.gantry.', 'SRV', nodata],
      ['web.prod.gantry.', 'AAAA', nodata],
      ['web.prod.gantry.', 'UNKNOWN_65', nodata],
      ['_web._tcp.prod.gantry.', 'A', nodata],
      // Empty non-terminals exist (RFC 8020): the groups above an app and `_tcp` above its SRV names.
      ['prod.gantry.', 'A', nodata],
      ['b.a.gantry.', 'A', nodata],
      ['a.gantry.', 'ANY', nodata],
      ['_tcp.prod.gantry.', 'SRV', nodata],
      ['nope.gantry.', 'A', nxdomain],
      ['x.web.prod.gantry.', 'A', nxdomain],
      ['_nope._web._tcp.prod.gantry.', 'SRV', nxdomain],
      ['_web._tcp.nope.gantry.', 'SRV', nxdomain],
      // Draining instances are out of DNS: i-4 has no name, and /idle (no instance up) has none at all, as in Mesos-DNS.
      ['i-4.web.prod.gantry.', 'A', nxdomain],
      ['idle.gantry.', 'A', nxdomain],
      ['i-idle.idle.gantry.', 'A', nxdomain],
      ['_idle._tcp.gantry.', 'SRV', nxdomain],
      ['_http._idle._tcp.gantry.', 'SRV', nxdomain],
    ];
    for (const [name, type, expected] of table) assert.deepEqual(shown(zone.lookup({ name, type })), expected, `${name} ${type}`);
  });

  it('compare names case-insensitively', () => {
    assert.deepEqual(shown(zone.lookup({ name: 'WEB.Prod.GANTRY.', type: 'A' })), shown(zone.lookup({ name: 'web.prod.gantry.', type: 'A' })));
    assert.deepEqual(shown(zone.lookup({ name: '_HTTP._Web._TCP.prod.gantry', type: 'SRV' })).answers.length, 3);
    assert.equal(zone.lookup({ name: 'NOPE.GANTRY.', type: 'A' }).rcode, 'NXDOMAIN');
  });

  it('refuse names outside the zone, classes other than IN and ANY, and zone transfers', () => {
    const table: Array<[string, string, string | undefined, ReturnType<typeof shown>]> = [
      ['example.com.', 'A', 'IN', refused],
      ['.', 'NS', 'IN', refused],
      ['xgantry.', 'A', 'IN', refused],
      ['gantry.example.', 'A', 'IN', refused],
      ['web.prod.gantry.', 'A', 'CH', refused],
      ['web.prod.gantry.', 'A', 'HS', refused],
      ['web.prod.gantry.', 'A', 'UNKNOWN_42', refused],
      ['gantry.', 'AXFR', 'IN', refused],
      ['gantry.', 'IXFR', 'IN', refused],
      ['web.prod.gantry.', 'A', 'ANY', answered(['web.prod.gantry. A 10.0.0.1', 'web.prod.gantry. A 10.0.0.2'])],
      ['web.prod.gantry.', 'A', undefined, answered(['web.prod.gantry. A 10.0.0.1', 'web.prod.gantry. A 10.0.0.2'])],
    ];
    for (const [name, type, klass, expected] of table) assert.deepEqual(shown(zone.lookup({ name, type, class: klass })), expected, `${name} ${klass} ${type}`);
  });

  it('take the serial from the catalog version, the TTL and the domain from the options', () => {
    assert.equal(zone.serial, 42);
    assert.equal(new DnsZone({ version: 2 ** 32 + 7, services: [] }).serial, 7, 'serial arithmetic wraps at 2^32');
    const other = buildZone(catalog, { domain: 'Apps.Example.com', ttlSeconds: 30 });
    const answer = other.lookup({ name: 'web.prod.apps.example.com', type: 'A' });
    assert.deepEqual(answer.answers.map((record) => [record.name, 'ttl' in record ? record.ttl : null]), [['web.prod.apps.example.com.', 30], ['web.prod.apps.example.com.', 30]]);
    assert.deepEqual(shown(other.lookup({ name: 'apps.example.com.', type: 'SOA' })).answers, ['apps.example.com. SOA ns1.apps.example.com. root.ns1.apps.example.com. 42 60 600 86400 30']);
    assert.equal(other.lookup({ name: 'web.prod.gantry.', type: 'A' }).rcode, 'REFUSED');
    // Without an address for the name server, its name has no record (the NS still names it).
    assert.equal(other.lookup({ name: 'ns1.apps.example.com.', type: 'A' }).rcode, 'NXDOMAIN');
    assert.throws(() => buildZone(catalog, { ttlSeconds: -1 }), /TTL/);
    assert.throws(() => buildZone(catalog, { ttlSeconds: 1.5 }), /TTL/);
  });

  it('follow the catalog: a new snapshot\'s zone has the instances up now', () => {
    const scaledDown: CatalogSnapshot = { version: 43, services: [service('/prod/web', [port(0, 'http')], [['i-3', '10.0.0.2', [8002]], ['i-5', '10.0.0.5', [8005]]])] };
    const next = buildZone(scaledDown, options);
    assert.deepEqual(shown(next.lookup({ name: 'web.prod.gantry.', type: 'A' })).answers, ['web.prod.gantry. A 10.0.0.2', 'web.prod.gantry. A 10.0.0.5']);
    assert.equal(next.lookup({ name: 'i-1.web.prod.gantry.', type: 'A' }).rcode, 'NXDOMAIN');
    assert.equal(next.lookup({ name: 'web.gantry.', type: 'A' }).rcode, 'NXDOMAIN');
    assert.equal(zone.lookup({ name: 'i-1.web.prod.gantry.', type: 'A' }).rcode, 'NOERROR', 'the old zone is unchanged');
  });

  it('name a blue-green switch\'s colours by their traffic: the group\'s name holds those taking requests', () => {
    const blue = { ...service('/prod/web', [port(0, 'http')], [['b1', '10.0.0.1', [31000]]]), share: 90 };
    const green = { ...service('/prod/web-green', [port(0, 'http')], [['g1', '10.0.0.2', [31001]]]), deploymentGroup: '/prod/web', share: 10 };
    const during = buildZone({ version: 1, services: [blue, green] }, options);
    assert.deepEqual(shown(during.lookup({ name: 'web.prod.gantry.', type: 'A' })).answers, ['web.prod.gantry. A 10.0.0.1', 'web.prod.gantry. A 10.0.0.2']);
    assert.deepEqual(shown(during.lookup({ name: 'web-green.prod.gantry.', type: 'A' })).answers, ['web-green.prod.gantry. A 10.0.0.2']);
    const after = buildZone({ version: 2, services: [{ ...blue, share: 0 }, { ...green, share: 100 }] }, options);
    assert.deepEqual(shown(after.lookup({ name: 'web.prod.gantry.', type: 'A' })).answers, ['web.prod.gantry. A 10.0.0.2'], 'the blue at 0 % is no longer named');
    const starting = buildZone({ version: 3, services: [{ ...blue, share: 100 }, { ...green, share: 0 }] }, options);
    assert.equal(starting.lookup({ name: 'web-green.prod.gantry.', type: 'A' }).rcode, 'NXDOMAIN', 'a green taking nothing yet is not named');
  });

  it('leave out what cannot be a DNS name, and addresses that are not IP addresses', () => {
    const long = `/${'x'.repeat(64)}`;
    const odd: CatalogSnapshot = {
      version: 1,
      services: [
        service(long, [port(0, null)], [['i-1', '10.0.0.1', [80]]]),
        service('/ok', [port(0, null)], [['i-1', '10.0.0.1', [80]], ['I.2:x', '10.0.0.2', [81]], ['i-3', 'agent-3.example', [82]]]),
      ],
    };
    const built = buildZone(odd, options);
    assert.deepEqual(built.skippedApps, [long]);
    assert.deepEqual(shown(built.lookup({ name: 'ok.gantry.', type: 'A' })).answers, ['ok.gantry. A 10.0.0.1', 'ok.gantry. A 10.0.0.2']);
    // An instance id is made one label: lower case, `.` and `:` become `-`.
    assert.deepEqual(shown(built.lookup({ name: 'i-2-x.ok.gantry.', type: 'A' })).answers, ['i-2-x.ok.gantry. A 10.0.0.2']);
    assert.equal(built.lookup({ name: 'i-3.ok.gantry.', type: 'A' }).rcode, 'NXDOMAIN');
  });

  // Its speed is bench/lb's (DNS freshness and queries per second), not a unit test's.
  it('hold 10,000 backends: every instance and SRV answer there', () => {
    const services: Service[] = [];
    for (let app = 0; app < 100; app += 1) {
      const backends: Array<[string, string, number[]]> = [];
      for (let i = 0; i < 100; i += 1) backends.push([`i-${app}-${i}`, `10.${app}.${i >> 8}.${i & 255}`, [10_000 + i, 20_000 + i]]);
      services.push(service(`/team${app % 10}/app${app}`, [port(0, 'http'), port(1, 'grpc')], backends));
    }
    const big = buildZone({ version: 9, services }, options);
    // 2 A + 4 SRV per backend, plus SOA, NS and ns1's A.
    assert.equal(big.recordCount, 10_000 * 6 + 3);
    for (let i = 0; i < 10_000; i += 1) assert.equal(big.lookup({ name: `i-${i % 100}-${i % 97}.app${i % 100}.team${i % 10}.gantry.`, type: 'A' }).answers.length, 1);
    assert.equal(big.lookup({ name: '_app7._tcp.team7.gantry.', type: 'SRV' }).answers.length, 200);
    assert.equal(big.lookup({ name: '_grpc._app7._tcp.team7.gantry.', type: 'SRV' }).additional.length, 100);
  });
});
