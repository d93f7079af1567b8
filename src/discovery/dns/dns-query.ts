// A small DNS client: one question to one server, over UDP with EDNS and again over TCP when the answer
// comes back truncated, as dig does. `gantry dns lookup web.prod` asks the platform's DNS server with
// it, so that a user sees what their machines would be told, without needing dig.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, RecordType } from 'dns-packet';
import { Invalid, Unavailable } from '../../shared/errors.ts';
import { systemTimers, type Timers } from '../../shared/timers.ts';
import { EDNS_UDP_LIMIT, RCODES } from './responder.ts';

export interface DnsQueryOptions {
  server: { host: string; port: number };
  name: string;
  /** `A`, `AAAA`, `SRV`, `SOA`, `NS`, `ANY`, ... (any type dns-packet knows). */
  type: string;
  /** Ask over TCP from the start (dig +tcp). */
  tcp?: boolean;
  /** Per attempt (UDP, then TCP after a truncated answer). Default 2000. */
  timeoutMs?: number;
  timers?: Timers;
}

export interface DnsQueryResult {
  /** `NOERROR`, `NXDOMAIN`, `REFUSED`, ... (`BADVERS` from EDNS). */
  rcode: string;
  flags: { authoritative: boolean; truncated: boolean; recursionDesired: boolean; recursionAvailable: boolean };
  answers: Answer[];
  authority: Answer[];
  /** The additional section without the EDNS OPT record. */
  additional: Answer[];
  /** How the answer came: `tcp` after a truncated UDP answer. */
  transport: 'udp' | 'tcp';
}

const DEFAULT_TIMEOUT_MS = 2000;
const RCODE_NAMES = new Map<number, string>([...Object.entries(RCODES).map(([name, code]) => [code, name] as const), [16, 'BADVERS']]);

export async function queryDns(options: DnsQueryOptions): Promise<DnsQueryResult> {
  const id = randomInt(0x10000);
  const query = encodeQuery(id, options.name, options.type);
  if (options.tcp !== true) {
    const answer = await exchangeUdp(query, id, options);
    if (!answer.flag_tc) return result(answer, 'udp');
  }
  return result(await exchangeTcp(query, id, options), 'tcp');
}

function encodeQuery(id: number, name: string, type: string): Buffer {
  const edns: OptAnswer = { name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_LIMIT, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
  const packet: Packet = { type: 'query', id, flags: 0, questions: [{ name, type: type.toUpperCase() as RecordType, class: 'IN' }], additionals: [edns] };
  let bytes: Buffer;
  try {
    bytes = dnsPacket.encode(packet);
  } catch (err) {
    throw new Invalid(`"${name}" is not a name that can be asked: ${(err as Error).message}`);
  }
  // dns-packet writes type 0 for a name it does not know.
  const questionLength = dnsPacket.encodingLength({ questions: packet.questions }) - 12;
  if (bytes.readUInt16BE(12 + questionLength - 4) === 0) throw new Invalid(`"${type}" is not a DNS record type (A, AAAA, SRV, SOA, NS, ANY, ...)`);
  return bytes;
}

/** Whether `bytes` is the answer to query `id` (a response with that id), decoded; null for anything else. */
function answerTo(bytes: Buffer, id: number): DecodedPacket | null {
  try {
    const packet = dnsPacket.decode(bytes);
    return packet.flag_qr && packet.id === id ? packet : null;
  } catch {
    return null;
  }
}

function exchangeUdp(query: Buffer, id: number, options: DnsQueryOptions): Promise<DecodedPacket> {
  const { host, port } = options.server;
  const timers = options.timers ?? systemTimers;
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise<DecodedPacket>((resolve, reject) => {
    const timer = timers.setTimeout(() => finish(new Unavailable(`no DNS answer from ${host}:${port} over UDP in ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let done = false;
    const finish = (outcome: DecodedPacket | Error): void => {
      if (done) return;
      done = true;
      timers.clearTimeout(timer);
      socket.close();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    socket.on('error', (err) => finish(new Unavailable(`DNS over UDP to ${host}:${port} failed: ${err.message}`)));
    // Anything that is not the answer (another id, a stray datagram) is ignored, as resolvers do.
    socket.on('message', (bytes) => {
      const answer = answerTo(bytes, id);
      if (answer !== null) finish(answer);
    });
    socket.connect(port, host, () => socket.send(query));
  });
}

function exchangeTcp(query: Buffer, id: number, options: DnsQueryOptions): Promise<DecodedPacket> {
  const { host, port } = options.server;
  const timers = options.timers ?? systemTimers;
  return new Promise<DecodedPacket>((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = timers.setTimeout(() => finish(new Unavailable(`no DNS answer from ${host}:${port} over TCP in ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const finish = (outcome: DecodedPacket | Error): void => {
      timers.clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    let received = Buffer.alloc(0);
    socket.on('error', (err) => finish(new Unavailable(`DNS over TCP to ${host}:${port} failed: ${err.message}`)));
    socket.on('end', () => finish(new Unavailable(`${host}:${port} closed the TCP connection without a DNS answer`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const end = 2 + received.readUInt16BE(0);
        const answer = answerTo(received.subarray(2, end), id);
        received = received.subarray(end);
        if (answer !== null) return finish(answer);
      }
    });
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    socket.write(Buffer.concat([length, query]));
  });
}

function result(packet: DecodedPacket, transport: 'udp' | 'tcp'): DnsQueryResult {
  const additionals = packet.additionals ?? [];
  const opt = additionals.find((record): record is OptAnswer => record.type === 'OPT');
  const code = ((opt?.extendedRcode ?? 0) << 4) | ((packet.flags ?? 0) & 0xf);
  return {
    rcode: RCODE_NAMES.get(code) ?? `RCODE_${code}`,
    flags: { authoritative: packet.flag_aa, truncated: packet.flag_tc, recursionDesired: packet.flag_rd, recursionAvailable: packet.flag_ra },
    answers: packet.answers ?? [],
    authority: packet.authorities ?? [],
    additional: additionals.filter((record) => record.type !== 'OPT'),
    transport,
  };
}
