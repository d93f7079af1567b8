// The DNS server on a loopback port, asked by the real `dig` (Debian's dnsutils): the names Mesos-DNS
// users expect, negative answers with the SOA, truncation and dig's own retry over TCP, a catalog
// change seen by the very next query, and malformed datagrams that get FORMERR or NOTIMP (or nothing)
// without stopping the server. Then the small client (queryDns) and TCP's framing: pipelined queries,
// the idle timeout and the connection cap.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet } from 'dns-packet';
import { DnsServer, queryDns } from '../../../src/discovery/dns/index.ts';
import type { CatalogFeed, CatalogSnapshot, Service, ServicePortSpec } from '../../../src/discovery/model.ts';

const run = promisify(execFile);

function hasDig(): boolean {
  try {
    statSync('/usr/bin/dig');
    return true;
  } catch {
    return false;
  }
}

/** A catalog whose snapshot the test replaces, telling subscribers synchronously as main.ts's feed does. */
class TestFeed implements CatalogFeed {
  private readonly listeners = new Set<(snapshot: CatalogSnapshot) => void>();
  constructor(private current: CatalogSnapshot) {}
  snapshot(): CatalogSnapshot {
    return this.current;
  }
  subscribe(listener: (snapshot: CatalogSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(snapshot: CatalogSnapshot): void {
    this.current = snapshot;
    for (const listener of this.listeners) listener(snapshot);
  }
}

function port(index: number, name: string | null, protocol: 'tcp' | 'udp' = 'tcp'): ServicePortSpec {
  return { index, name, protocol, servicePort: null, mode: 'tcp', vhosts: [], path: null, balance: 'roundrobin', group: 'external' };
}

function service(appId: string, ports: ServicePortSpec[], backends: Array<[instanceId: string, address: string, ports: number[], state?: 'up' | 'draining']>): Service {
  return {
    appId,
    deploymentGroup: appId,
    share: null,
    ports,
    backends: backends.map(([instanceId, address, numbers, state]) => ({ appId, instanceId, taskId: `${instanceId}.t`, host: 'agent', address, ports: numbers, state: state ?? 'up', weight: 1 })),
  };
}

/** 100 instances on distinct addresses: 100 A records do not fit 1232 bytes. */
const big = service(
  '/big',
  [port(0, 'http')],
  Array.from({ length: 100 }, (_, i) => [`i-${i}`, `10.1.${i >> 8}.${(i & 255) + 1}`, [20_000 + i]] as [string, string, number[]]),
);

function catalog(version: number, web: Service): CatalogSnapshot {
  return { version, services: [big, web, service('/web', [port(0, null)], [['i-w', '10.0.1.1', [80]]])] };
}

const webV1 = service('/prod/web', [port(0, 'http'), port(1, 'metrics')], [
  ['i-1', '10.0.0.1', [8001, 9001]],
  ['i-2', '10.0.0.2', [8002, 9002]],
  ['i-3', '10.0.0.3', [8003, 9003], 'draining'],
]);

interface DigAnswer {
  status: string;
  flags: string[];
  /** Records as `name type rdata` (TTL and class dropped), sorted. */
  answer: string[];
  authority: string[];
  additional: string[];
  /** The TTLs of the answer's records. */
  ttls: number[];
  transport: string;
  /** dig said ";; Truncated, retrying in TCP mode." */
  retriedOverTcp: boolean;
  messageSize: number;
}

function parseDig(output: string): DigAnswer {
  const sections: Record<string, string[][]> = { ANSWER: [], AUTHORITY: [], ADDITIONAL: [] };
  let section: string | null = null;
  for (const line of output.split('\n')) {
    const header = /^;; (\w+) SECTION:/.exec(line);
    if (header) section = header[1]!;
    else if (line.trim() === '' || line.startsWith(';')) section = line.trim() === '' ? null : section;
    else if (section !== null && section in sections) sections[section]!.push(line.trim().split(/\s+/));
  }
  const render = (fields: string[]) => [fields[0], fields[3], ...fields.slice(4)].join(' ');
  return {
    status: /status: (\w+)/.exec(output)?.[1] ?? '',
    flags: (/;; flags: ([^;]*);/.exec(output)?.[1] ?? '').trim().split(' '),
    answer: sections.ANSWER!.map(render).sort(),
    authority: sections.AUTHORITY!.map(render).sort(),
    additional: sections.ADDITIONAL!.map(render).sort(),
    ttls: sections.ANSWER!.map((fields) => Number(fields[1])),
    transport: /;; SERVER: .*\((UDP|TCP)\)/.exec(output)?.[1] ?? '',
    retriedOverTcp: output.includes('Truncated, retrying in TCP mode'),
    messageSize: Number(/MSG SIZE\s+rcvd: (\d+)/.exec(output)?.[1] ?? 0),
  };
}

/** Sends raw datagrams, then a valid query; resolves with every reply up to the valid query's (the server answers in order). */
async function rawExchange(server: { port: number }, messages: Buffer[], probeName = 'web.gantry'): Promise<{ replies: DecodedPacket[]; probe: DecodedPacket }> {
  const socket: UdpSocket = createSocket('udp4');
  const probeId = 0xbeef;
  try {
    return await new Promise((resolve, reject) => {
      const replies: DecodedPacket[] = [];
      socket.on('error', reject);
      socket.on('message', (bytes) => {
        const packet = dnsPacket.decode(bytes);
        if (packet.id === probeId && packet.questions?.[0]?.name === probeName) resolve({ replies, probe: packet });
        else replies.push(packet);
      });
      socket.connect(server.port, '127.0.0.1', () => {
        for (const message of messages) socket.send(message);
        socket.send(dnsPacket.encode({ type: 'query', id: probeId, questions: [{ name: probeName, type: 'A' }] }));
      });
    });
  } finally {
    socket.close();
  }
}

const rcodeOf = (packet: DecodedPacket): number => (packet.flags ?? 0) & 0xf;

/** The message dns-packet writes, with the header's flags word replaced (an opcode it would not write). */
function withFlags(packet: Packet, flags: number): Buffer {
  const bytes = dnsPacket.encode(packet);
  bytes.writeUInt16BE(flags, 2);
  return bytes;
}

describe('discovery: DNS server, asked by dig', function () {
  this.timeout(60_000);
  let feed: TestFeed;
  let server: DnsServer | undefined;
  let listening = { host: '', port: 0 };

  before(async function () {
    if (!hasDig()) {
      if (process.env.GANTRY_REQUIRE_DIG === '1') throw new Error('GANTRY_REQUIRE_DIG=1 but dig is not installed (apt-get install dnsutils)');
      this.skip();
    }
    feed = new TestFeed(catalog(1, webV1));
    server = new DnsServer({ feed, host: '127.0.0.1', port: 0, domain: 'gantry', ttlSeconds: 5 });
    listening = await server.start();
  });
  after(async () => {
    await server?.close();
  });

  const dig = async (...args: string[]): Promise<DigAnswer> => {
    const { stdout } = await run('dig', [`@${listening.host}`, '-p', String(listening.port), '+time=2', '+tries=1', ...args], { timeout: 30_000 });
    return parseDig(stdout);
  };

  it('answers A with one record per up instance, authoritatively and without recursion', async () => {
    assert.notEqual(listening.port, 0, 'port 0 reports the port actually listened on');
    const answer = await dig('web.prod.gantry', 'A');
    assert.equal(answer.status, 'NOERROR');
    assert.ok(answer.flags.includes('aa'), `flags: ${answer.flags.join(' ')}`);
    assert.ok(!answer.flags.includes('ra'));
    assert.deepEqual(answer.answer, ['web.prod.gantry. A 10.0.0.1', 'web.prod.gantry. A 10.0.0.2'], 'the draining instance is not in DNS');
    assert.deepEqual(answer.ttls, [5, 5]);
    assert.equal(answer.transport, 'UDP');
  });

  it('answers SRV with the instances\' names and their addresses in the additional section', async () => {
    const answer = await dig('_web._tcp.prod.gantry', 'SRV');
    assert.equal(answer.status, 'NOERROR');
    assert.deepEqual(answer.answer, [
      '_web._tcp.prod.gantry. SRV 0 1 8001 i-1.web.prod.gantry.',
      '_web._tcp.prod.gantry. SRV 0 1 8002 i-2.web.prod.gantry.',
      '_web._tcp.prod.gantry. SRV 0 1 9001 i-1.web.prod.gantry.',
      '_web._tcp.prod.gantry. SRV 0 1 9002 i-2.web.prod.gantry.',
    ]);
    assert.deepEqual(answer.additional, ['i-1.web.prod.gantry. A 10.0.0.1', 'i-2.web.prod.gantry. A 10.0.0.2']);
  });

  it('answers a named port\'s SRV with that port only, and an instance\'s own name', async () => {
    const named = await dig('_metrics._web._tcp.prod.gantry', 'SRV');
    assert.deepEqual(named.answer, ['_metrics._web._tcp.prod.gantry. SRV 0 1 9001 i-1.web.prod.gantry.', '_metrics._web._tcp.prod.gantry. SRV 0 1 9002 i-2.web.prod.gantry.']);
    assert.deepEqual(named.additional, ['i-1.web.prod.gantry. A 10.0.0.1', 'i-2.web.prod.gantry. A 10.0.0.2']);
    assert.deepEqual((await dig('i-2.web.prod.gantry', 'A')).answer, ['i-2.web.prod.gantry. A 10.0.0.2']);
    assert.deepEqual((await dig('_web._tcp.gantry', 'SRV')).answer, ['_web._tcp.gantry. SRV 0 1 80 i-w.web.gantry.']);
  });

  it('answers NXDOMAIN with the SOA for a name that does not exist, and NODATA for one without the type', async () => {
    const soa = 'gantry. SOA ns1.gantry. root.ns1.gantry. 1 60 600 86400 5';
    const missing = await dig('nope.prod.gantry', 'A');
    assert.equal(missing.status, 'NXDOMAIN');
    assert.ok(missing.flags.includes('aa'));
    assert.deepEqual(missing.answer, []);
    assert.deepEqual(missing.authority, [soa]);
    assert.equal((await dig('i-3.web.prod.gantry', 'A')).status, 'NXDOMAIN', 'a draining instance has no name');
    for (const [name, type] of [['prod.gantry', 'A'], ['web.prod.gantry', 'AAAA'], ['web.prod.gantry', 'TXT']] as const) {
      const nodata = await dig(name, type);
      assert.equal(nodata.status, 'NOERROR', `${name} ${type}`);
      assert.deepEqual(nodata.answer, []);
      assert.deepEqual(nodata.authority, [soa], `${name} ${type}`);
    }
    assert.deepEqual((await dig('gantry', 'NS')).answer, ['gantry. NS ns1.gantry.']);
    assert.deepEqual((await dig('ns1.gantry', 'A')).answer, ['ns1.gantry. A 127.0.0.1']);
  });

  it('refuses names outside its zone and classes other than IN, without claiming authority', async () => {
    for (const args of [['example.com', 'A'], ['gantry.example.com', 'A'], ['-c', 'CH', 'version.bind', 'TXT'], ['-c', 'HS', 'web.prod.gantry', 'A']]) {
      const answer = await dig(...args);
      assert.equal(answer.status, 'REFUSED', args.join(' '));
      assert.ok(!answer.flags.includes('aa'), args.join(' '));
      assert.deepEqual(answer.answer, []);
    }
  });

  it('matches names case-insensitively and answers over TCP as over UDP', async () => {
    const mixed = await dig('WeB.PrOd.GaNtRy', 'A');
    assert.equal(mixed.status, 'NOERROR');
    assert.equal(mixed.answer.length, 2);
    const tcp = await dig('+tcp', 'web.prod.gantry', 'A');
    assert.equal(tcp.transport, 'TCP');
    assert.deepEqual(tcp.answer, ['web.prod.gantry. A 10.0.0.1', 'web.prod.gantry. A 10.0.0.2']);
    const srv = await dig('+tcp', '_web._tcp.prod.gantry', 'SRV');
    assert.equal(srv.answer.length, 4);
    assert.equal(srv.additional.length, 2);
  });

  it('truncates an answer too large for UDP, and dig\'s retry over TCP gets every record', async () => {
    const all = Array.from({ length: 100 }, (_, i) => `big.gantry. A 10.1.0.${i + 1}`).sort();
    const cut = await dig('+ignore', 'big.gantry', 'A');
    assert.ok(cut.flags.includes('tc'), `flags: ${cut.flags.join(' ')}`);
    assert.ok(cut.messageSize <= 1232 && cut.answer.length > 0 && cut.answer.length < 100, `${cut.answer.length} records in ${cut.messageSize} bytes`);
    const plain = await dig('+ignore', '+noedns', 'big.gantry', 'A');
    assert.ok(plain.flags.includes('tc'));
    assert.ok(plain.messageSize <= 512, `without EDNS at most 512 bytes, got ${plain.messageSize}`);
    const retried = await dig('big.gantry', 'A');
    assert.ok(retried.retriedOverTcp, 'dig saw TC and retried over TCP');
    assert.equal(retried.transport, 'TCP');
    assert.deepEqual(retried.answer, all);
    const srv = await dig('_big._tcp.gantry', 'SRV');
    assert.equal(srv.answer.length, 100);
    assert.equal(srv.additional.length, 100);
  });

  it('answers from the new catalog at the very next query after a change', async () => {
    feed.set(catalog(2, service('/prod/web', [port(0, 'http')], [['i-2', '10.0.0.2', [8002]], ['i-9', '10.0.0.9', [8009]]])));
    assert.deepEqual((await dig('web.prod.gantry', 'A')).answer, ['web.prod.gantry. A 10.0.0.2', 'web.prod.gantry. A 10.0.0.9']);
    assert.equal((await dig('i-1.web.prod.gantry', 'A')).status, 'NXDOMAIN');
    assert.match((await dig('gantry', 'SOA')).answer[0] ?? '', / 2 60 600 86400 5$/, 'the serial is the catalog version');
    feed.set(catalog(3, service('/prod/web', [port(0, 'http')], [])));
    assert.equal((await dig('web.prod.gantry', 'A')).status, 'NXDOMAIN', 'an app with no instance up has no name');
    feed.set(catalog(4, webV1));
    assert.equal((await dig('web.prod.gantry', 'A')).answer.length, 2);
  });

  it('answers malformed datagrams with FORMERR or NOTIMP, or not at all, and goes on answering dig', async () => {
    const question = { name: 'web.prod.gantry', type: 'A' as const };
    // Random bytes with a query's header bits (QR=0, opcode QUERY): the body does not parse.
    const noise = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 89 + 17) % 251));
    noise.writeUInt16BE(0x1234, 0);
    noise.writeUInt16BE(0x0100, 2);
    const twoQuestions = dnsPacket.encode({ type: 'query', id: 0x2222, questions: [question, { name: 'web.gantry', type: 'A' }] });
    const qdcountTwo = dnsPacket.encode({ type: 'query', id: 0x2323, questions: [question] });
    qdcountTwo.writeUInt16BE(2, 4); // says two, carries one
    const noQuestion = dnsPacket.encode({ type: 'query', id: 0x2424, questions: [] });
    const update = withFlags({ type: 'query', id: 0x3333, questions: [question] }, 5 << 11); // opcode UPDATE
    const opcode15 = withFlags({ type: 'query', id: 0x3434, questions: [question] }, 15 << 11);
    const response = dnsPacket.encode({ type: 'response', id: 0x4444, questions: [question] });
    const fiveBytes = Buffer.from([0x55, 0x55, 0, 0, 1]);
    const { replies, probe } = await rawExchange(listening, [noise, fiveBytes, twoQuestions, qdcountTwo, noQuestion, update, opcode15, response, Buffer.alloc(0)]);
    assert.deepEqual(
      replies.map((reply) => [(reply.id ?? 0).toString(16), reply.flag_qr, rcodeOf(reply)]),
      [
        ['1234', true, 1], // FORMERR
        ['2222', true, 1], // FORMERR: two questions
        ['2323', true, 1], // FORMERR: the header promises a question that is not there
        ['2424', true, 1], // FORMERR: no question
        ['3333', true, 4], // NOTIMP
        ['3434', true, 4], // NOTIMP
      ],
      'the 5-byte packet, the response and the empty datagram get nothing',
    );
    assert.equal(rcodeOf(probe), 0);
    assert.equal(probe.answers?.length, 1);
    const after = await dig('web.prod.gantry', 'A');
    assert.equal(after.status, 'NOERROR');
    assert.equal(after.answer.length, 2);
  });

  it('speaks EDNS: echoes OPT, answers BADVERS to a version it does not know, and ANY with every record', async () => {
    const answer = await dig('+edns=0', 'gantry', 'ANY');
    assert.deepEqual(answer.answer, ['gantry. NS ns1.gantry.', 'gantry. SOA ns1.gantry. root.ns1.gantry. 4 60 600 86400 5']);
    const badvers = await run('dig', [`@${listening.host}`, '-p', String(listening.port), '+time=2', '+tries=1', '+edns=1', 'web.prod.gantry', 'A'], { timeout: 30_000 });
    assert.match(badvers.stdout, /BADVERS, retrying with EDNS version 0/);
    assert.equal(parseDig(badvers.stdout).answer.length, 2);
  });
});

describe('discovery: DNS client and TCP connections', function () {
  this.timeout(30_000);
  let feed: TestFeed;
  let server: DnsServer | undefined;
  let listening = { host: '', port: 0 };
  const opened: Socket[] = [];

  before(async () => {
    feed = new TestFeed(catalog(1, webV1));
    server = new DnsServer({ feed, host: '127.0.0.1', port: 0, tcpIdleTimeoutMs: 1000, maxTcpConnections: 3 });
    listening = await server.start();
  });
  afterEach(() => {
    for (const socket of opened.splice(0)) socket.destroy();
  });
  after(async () => {
    await server?.close();
  });

  /** A TCP connection with its answers read off as they come (2-byte framed). */
  async function connection(): Promise<{ socket: Socket; send: (...queries: Buffer[]) => void; next: () => Promise<DecodedPacket>; closed: Promise<void> }> {
    const socket = connect({ host: listening.host, port: listening.port });
    opened.push(socket);
    const answers: DecodedPacket[] = [];
    const waiting: Array<(packet: DecodedPacket) => void> = [];
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const packet = dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        const waiter = waiting.shift();
        if (waiter) waiter(packet);
        else answers.push(packet);
      }
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return {
      socket,
      send: (...queries) => socket.write(Buffer.concat(queries.map((query) => Buffer.concat([Buffer.from([query.length >> 8, query.length & 255]), query])))),
      next: () => {
        const ready = answers.shift();
        return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
      },
      closed,
    };
  }

  const query = (id: number, name: string, type: 'A' | 'SRV' = 'A') => dnsPacket.encode({ type: 'query', id, questions: [{ name, type }] });

  it('answers two queries pipelined on one TCP connection, in order', async () => {
    const tcp = await connection();
    // Both queries in one write; then one whose length prefix and body come in pieces.
    tcp.send(query(1, 'web.prod.gantry'), query(2, '_web._tcp.prod.gantry', 'SRV'));
    const first = await tcp.next();
    const second = await tcp.next();
    assert.deepEqual([first.id, first.answers?.length], [1, 2]);
    assert.deepEqual([second.id, second.answers?.length, second.additionals?.length], [2, 4, 2]);
    const third = query(3, 'nope.gantry');
    tcp.socket.write(Buffer.from([0]));
    tcp.socket.write(Buffer.concat([Buffer.from([third.length]), third.subarray(0, 5)]));
    tcp.socket.write(third.subarray(5));
    const answer = await tcp.next();
    assert.deepEqual([answer.id, rcodeOf(answer), answer.authorities?.[0]?.type], [3, 3, 'SOA']);
  });

  it('closes a TCP connection left idle, and closes connections over the cap on arrival', async () => {
    const idle = await connection();
    await idle.closed; // the server closed it: a second without a query
    const kept = [await connection(), await connection(), await connection()];
    for (const [i, tcp] of kept.entries()) {
      tcp.send(query(10 + i, 'web.gantry'));
      assert.equal((await tcp.next()).id, 10 + i);
    }
    const over = await connection();
    over.send(query(30, 'web.gantry'));
    await over.closed;
    assert.equal(over.socket.bytesRead, 0, 'the connection over the cap was closed without an answer');
    kept[0]!.send(query(20, 'web.gantry'));
    assert.equal((await kept[0]!.next()).id, 20, 'the connections under the cap still answer');
  });

  it('queries over UDP, over TCP on request, and over TCP again when the UDP answer is truncated', async () => {
    const server = { host: listening.host, port: listening.port };
    const udp = await queryDns({ server, name: 'web.prod.gantry', type: 'A', timeoutMs: 2000 });
    assert.equal(udp.transport, 'udp');
    assert.equal(udp.rcode, 'NOERROR');
    assert.deepEqual(udp.flags, { authoritative: true, truncated: false, recursionDesired: false, recursionAvailable: false });
    assert.deepEqual(udp.answers.map((record) => ('data' in record ? record.data : null)).sort(), ['10.0.0.1', '10.0.0.2']);
    const tcp = await queryDns({ server, name: '_web._tcp.prod.gantry', type: 'srv', tcp: true, timeoutMs: 2000 });
    assert.equal(tcp.transport, 'tcp');
    assert.equal(tcp.answers.length, 4);
    assert.equal(tcp.additional.length, 2, 'the OPT record is not in the additional section');
    const truncated = await queryDns({ server, name: 'big.gantry', type: 'A', timeoutMs: 2000 });
    assert.equal(truncated.transport, 'tcp');
    assert.equal(truncated.answers.length, 100);
    const missing = await queryDns({ server, name: 'nope.gantry', type: 'A', timeoutMs: 2000 });
    assert.equal(missing.rcode, 'NXDOMAIN');
    assert.equal(missing.authority[0]?.type, 'SOA');
    assert.equal((await queryDns({ server, name: 'example.com', type: 'A', timeoutMs: 2000 })).rcode, 'REFUSED');
    await assert.rejects(queryDns({ server, name: 'web.gantry', type: 'NOSUCHTYPE', timeoutMs: 2000 }), /not a DNS record type/);
  });

  it('reports a server that does not answer', async () => {
    // A UDP socket that reads and never answers: the client times out.
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    try {
      await assert.rejects(queryDns({ server: { host: '127.0.0.1', port: silent.address().port }, name: 'web.gantry', type: 'A', timeoutMs: 300 }), /no DNS answer from 127\.0\.0\.1:\d+ over UDP in 300 ms/);
    } finally {
      silent.close();
    }
  });

  it('refuses to start on a port already taken, saying so', async () => {
    const other = new DnsServer({ feed, host: '127.0.0.1', port: listening.port });
    await assert.rejects(other.start(), /DNS cannot listen on UDP 127\.0\.0\.1:\d+: the port is in use/);
  });
});
