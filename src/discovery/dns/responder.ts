// One DNS message in, its answer's bytes out (or none): the protocol rules of the server, apart from
// its sockets so that they read in one place. The zone decides what a name answers; this decides what
// a message is owed — FORMERR for one that does not parse or does not ask exactly one question,
// NOTIMP for an opcode other than QUERY, EDNS (RFC 6891) echoed back, and an answer cut to what the
// transport carries with TC set (RFC 2181 9) so that a client retries over TCP. dns-packet reads and
// writes the wire format; nothing here encodes by hand.
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, Question } from 'dns-packet';
import type { ZoneAnswer, ZoneQuestion } from './zone.ts';

export type Transport = 'udp' | 'tcp';

export const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODES;
/** RFC 6891 6.1.3: the query's EDNS version is one the server does not speak (an extended rcode: 16). */
const BADVERS = 16;

/** RFC 1035 4.2.1: a UDP message without EDNS is at most 512 bytes. */
const PLAIN_UDP_LIMIT = 512;
/** DNS flag day 2020: 1232 bytes is the largest EDNS payload that avoids IP fragmentation; we accept and offer no more. */
export const EDNS_UDP_LIMIT = 1232;
/** The two-byte length prefix of DNS over TCP (RFC 1035 4.2.2). */
const TCP_LIMIT = 65_535;

const QR = 0x8000;
const OPCODE_BITS = 0x7800;
const AA = dnsPacket.AUTHORITATIVE_ANSWER;
const TC = dnsPacket.TRUNCATED_RESPONSE;
const RD = dnsPacket.RECURSION_DESIRED;
const CD = dnsPacket.CHECKING_DISABLED;
const DO = dnsPacket.DNSSEC_OK;

/** dns-packet's class names, back to numbers: it writes 0 for a class it has no name for, and a question is echoed as asked. */
const CLASS_NUMBERS: Readonly<Record<string, number>> = { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 };

export interface Response {
  /** The answer's bytes; null: nothing is sent (not a query, or too short to carry an id). */
  bytes: Buffer | null;
  /** Why the message got an error or no answer, for the server's debug log; null for an ordinary answer. */
  problem: string | null;
}

/**
 * Answers one message. `lookup` answers the question from the zone. `rotation` turns the answer's
 * records (BIND's cyclic rrset-order) so that clients taking the first address spread over the
 * instances. `transport` sets the size the answer must fit.
 */
export function respond(message: Buffer, lookup: (question: ZoneQuestion) => ZoneAnswer, transport: Transport, rotation = 0): Response {
  // Without the 12-byte header there is no id to answer to.
  if (message.length < 12) return { bytes: null, problem: `dropped a ${message.length}-byte message: shorter than a DNS header` };
  const id = message.readUInt16BE(0);
  const flags = message.readUInt16BE(2);
  if ((flags & QR) !== 0) return { bytes: null, problem: 'dropped a response sent to the server' };
  // The answer echoes the opcode and the RD and CD bits as every server does (RFC 1035 4.1.1, RFC 4035 3.2.2).
  const echoed = (flags & OPCODE_BITS) | (flags & RD) | (flags & CD);

  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(message);
    if (dnsPacket.decode.bytes !== message.length) throw new Error(`${message.length - dnsPacket.decode.bytes} bytes after the message`);
  } catch (err) {
    return { bytes: encodeHeaderOnly(id, echoed | RCODES.FORMERR), problem: `FORMERR: the message does not parse (${(err as Error).message})` };
  }
  const opts = (query.additionals ?? []).filter((record): record is OptAnswer => record.type === 'OPT');
  const opt = opts[0];
  const questions = query.questions ?? [];
  const reply = (rcode: number, answer: Omit<ZoneAnswer, 'rcode'> | null, problem: string | null): Response => {
    const question = questions.length === 1 ? questions[0] : undefined;
    return { bytes: encodeResponse({ id, flags: echoed, rcode, question, answer, opt, transport, rotation }), problem };
  };
  // RFC 6891 6.1.1: more than one OPT record is a format error.
  if (opts.length > 1) return reply(RCODES.FORMERR, null, `FORMERR: ${opts.length} OPT records`);
  const opcode = (flags & OPCODE_BITS) >> 11;
  if (opcode !== 0) return reply(RCODES.NOTIMP, null, `NOTIMP: opcode ${opcode}`);
  if (questions.length !== 1) return reply(RCODES.FORMERR, null, `FORMERR: ${questions.length} questions`);
  const question = questions[0]!;
  // A label dns-packet read as longer than 63 bytes (bytes that are not UTF-8 widen) could not be echoed as sent.
  if (question.name.split('.').some((label) => Buffer.byteLength(label) > 63)) return reply(RCODES.FORMERR, null, 'FORMERR: a label of the question does not re-encode');
  if (opt !== undefined && opt.ednsVersion > 0) return reply(BADVERS, null, `BADVERS: EDNS version ${opt.ednsVersion}`);
  let answer: ZoneAnswer;
  try {
    answer = lookup({ name: question.name, type: question.type, class: question.class ?? 'IN' });
  } catch (err) {
    return reply(RCODES.SERVFAIL, null, `SERVFAIL: the lookup failed (${(err as Error).message})`);
  }
  return reply(RCODES[answer.rcode], answer, null);
}

interface ResponseParts {
  id: number;
  /** The echoed opcode, RD and CD. */
  flags: number;
  rcode: number;
  question: Question | undefined;
  answer: Omit<ZoneAnswer, 'rcode'> | null;
  opt: OptAnswer | undefined;
  transport: Transport;
  rotation: number;
}

function encodeResponse(parts: ResponseParts): Buffer {
  const { question, answer, opt } = parts;
  const responseOpt: OptAnswer | undefined =
    opt === undefined
      ? undefined
      : {
          name: '.',
          type: 'OPT',
          udpPayloadSize: EDNS_UDP_LIMIT,
          extendedRcode: parts.rcode >> 4,
          ednsVersion: 0,
          // RFC 3225 3: the DO bit is copied into the response.
          flags: opt.flags & DO,
          flag_do: (opt.flags & DO) !== 0,
          options: [],
        };
  const limit = parts.transport === 'tcp' ? TCP_LIMIT : opt === undefined ? PLAIN_UDP_LIMIT : Math.min(Math.max(opt.udpPayloadSize, PLAIN_UDP_LIMIT), EDNS_UDP_LIMIT);
  // ANY mixes types: no rotation (dns-packet's RecordType has no ANY, yet decodes type 255 as it).
  const answers = rotated(answer?.answers ?? [], (question?.type as string | undefined) === 'ANY' ? 0 : parts.rotation);
  const base = 12 + (question === undefined ? 0 : questionLength(question)) + (responseOpt === undefined ? 0 : recordLength(responseOpt));
  const fitted = fit(base, limit, answers, answer?.authority ?? [], answer?.additional ?? []);
  const packet: Packet = {
    type: 'response',
    id: parts.id,
    flags: parts.flags | (answer?.authoritative === true ? AA : 0) | (fitted.truncated ? TC : 0) | (parts.rcode & 0xf),
    questions: question === undefined ? [] : [question],
    answers: fitted.answers,
    authorities: fitted.authority,
    additionals: responseOpt === undefined ? fitted.additional : [...fitted.additional, responseOpt],
  };
  const bytes = dnsPacket.encode(packet);
  if (question !== undefined) {
    // dns-packet writes class 0 for a class it has no name for (`UNKNOWN_42`): put back the one asked.
    bytes.writeUInt16BE(classNumber(question.class), 12 + questionLength(question) - 2);
  }
  return bytes;
}

function encodeHeaderOnly(id: number, flags: number): Buffer {
  return dnsPacket.encode({ type: 'response', id, flags });
}

function classNumber(name: string | undefined): number {
  if (name === undefined) return 1;
  if (name.startsWith('UNKNOWN_')) return Number(name.slice('UNKNOWN_'.length)) & 0xffff;
  return CLASS_NUMBERS[name] ?? 1;
}

/** `list` turned left by `by` places (a new array; the zone's stays as built). */
function rotated(list: readonly Answer[], by: number): Answer[] {
  if (list.length < 2 || by % list.length === 0) return [...list];
  const start = by % list.length;
  return [...list.slice(start), ...list.slice(0, start)];
}

/**
 * What of the answer fits `limit` bytes. Everything if it can; else the additional section is cut
 * without TC (RFC 2181 9: TC is not for extra information that did not fit); else TC is set and as
 * many answer records as fit go (Mesos-DNS does the same), so that a client that cannot retry over TCP
 * still has some addresses, and one that can (dig, glibc) asks again over TCP.
 */
function fit(base: number, limit: number, answers: Answer[], authority: readonly Answer[], additional: readonly Answer[]): { answers: Answer[]; authority: Answer[]; additional: Answer[]; truncated: boolean } {
  const sum = (records: readonly Answer[]): number => records.reduce((total, record) => total + recordLength(record), 0);
  const answersLength = sum(answers);
  const authorityLength = sum(authority);
  if (base + answersLength + authorityLength <= limit) {
    const room = limit - base - answersLength - authorityLength;
    return { answers, authority: [...authority], additional: prefixWithin(additional, room), truncated: false };
  }
  const kept = prefixWithin(answers, limit - base);
  const room = limit - base - sum(kept);
  return { answers: kept, authority: kept.length === answers.length ? prefixWithin(authority, room) : [], additional: [], truncated: true };
}

function prefixWithin(records: readonly Answer[], room: number): Answer[] {
  const kept: Answer[] = [];
  let used = 0;
  for (const record of records) {
    const length = recordLength(record);
    if (used + length > room) break;
    kept.push(record);
    used += length;
  }
  return kept;
}

/**
 * A record's bytes in a message. dns-packet does not compress names, so a message is exactly its
 * header plus its parts; the zone's records are shared objects, so each is measured once.
 */
const lengths = new WeakMap<Answer, number>();
function recordLength(record: Answer): number {
  let length = lengths.get(record);
  if (length === undefined) {
    length = dnsPacket.encodingLength({ answers: [record] }) - 12;
    lengths.set(record, length);
  }
  return length;
}

function questionLength(question: Question): number {
  return dnsPacket.encodingLength({ questions: [question] }) - 12;
}
