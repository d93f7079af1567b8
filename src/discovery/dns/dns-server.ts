// The platform's authoritative DNS server (what Mesos-DNS was): answers for the apps' names over UDP
// and TCP on one port, from a zone rebuilt from the service catalog whenever it changes. It only
// answers for its own zone (REFUSED outside it, no recursion): machines keep their resolver and
// forward the domain here (a stub zone, systemd-resolved's per-domain DNS, dnsmasq `server=/gantry/`).
//
// The zone is built on the first query after a change, not inside the feed's callback: the feed calls
// its listeners synchronously, and a burst of changes then costs one build, not one per change.
// responder.ts holds the protocol rules; this file is sockets: datagrams, and TCP's length-framed
// messages (several per connection, pipelined, answered in order; RFC 7766), with an idle timeout and
// a cap on connections so that clients cannot hold the server's sockets.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Unavailable } from '../../shared/errors.ts';
import type { CatalogFeed, CatalogSnapshot } from '../model.ts';
import { respond, type Transport } from './responder.ts';
import { DnsZone, type ZoneAnswer, type ZoneOptions, type ZoneQuestion } from './zone.ts';

export interface DnsServerOptions {
  feed: CatalogFeed;
  /** The address to listen on (UDP and TCP): `127.0.0.1`, `0.0.0.0`, `::`. */
  host: string;
  /** 53 in production; 0: any free port (start() reports it). */
  port: number;
  /** Default `gantry`. */
  domain?: string;
  /** Default 5. */
  ttlSeconds?: number;
  /** The apex's NS: `ns1.<domain>.` at the listening address by default (a wildcard host: this machine's first IPv4 address). */
  nameserver?: { name?: string; address?: string };
  logger?: Logger;
  /** A TCP connection with no query for this long is closed. Default 10 s (RFC 7766 6.2.3 suggests seconds). */
  tcpIdleTimeoutMs?: number;
  /** TCP connections open at once; more are closed on arrival. Default 150 (BIND's `tcp-clients`). */
  maxTcpConnections?: number;
}

const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_TCP_CONNECTIONS = 150;
/** With port 0 the UDP port is picked first; if TCP cannot have the same one, try another this many times. */
const PORT_ATTEMPTS = 10;

export class DnsServer {
  private readonly zoneOptions: ZoneOptions;
  private readonly logger: Logger | undefined;
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly connections = new Set<Socket>();
  private unsubscribe: (() => void) | null = null;
  private current: DnsZone | null = null;
  /** The newest snapshot not yet built into a zone. */
  private pending: CatalogSnapshot | null = null;
  private rotation = 0;

  constructor(private readonly options: DnsServerOptions) {
    this.logger = options.logger;
    this.zoneOptions = {
      domain: options.domain,
      ttlSeconds: options.ttlSeconds,
      nameserver: { name: options.nameserver?.name, address: options.nameserver?.address ?? ownAddress(options.host) },
    };
    // A bad domain or TTL fails here, at startup, not at the first query.
    new DnsZone({ version: 0, services: [] }, this.zoneOptions);
  }

  /** Listens on UDP and TCP (the same port) and follows the feed. Resolves with the address listened on. */
  async start(): Promise<{ host: string; port: number }> {
    if (this.udp !== null) throw new Error('the DNS server is already started');
    this.pending = this.options.feed.snapshot();
    this.unsubscribe = this.options.feed.subscribe((snapshot) => {
      this.pending = snapshot;
    });
    try {
      const port = await this.listen();
      this.logger?.debug({ host: this.options.host, port, zone: this.zone()?.apex }, 'DNS server listening');
      return { host: this.options.host, port };
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const connection of this.connections) connection.destroy();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    await Promise.all([udp === null ? undefined : closeUdp(udp), tcp === null ? undefined : closeTcp(tcp)]);
  }

  /** The zone answering now (built from the newest snapshot), or null if none could be built. */
  zone(): DnsZone | null {
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      try {
        this.current = new DnsZone(pending, this.zoneOptions);
        if (this.current.skippedApps.length > 0) this.logger?.warn({ apps: this.current.skippedApps }, 'apps left out of DNS: a name of theirs is too long');
      } catch (err) {
        // Keep answering from the zone before (Mesos-DNS keeps its old state when a refresh fails).
        this.logger?.error({ err, version: pending.version }, 'the DNS zone could not be built from the catalog; answering from the previous one');
      }
    }
    return this.current;
  }

  private async listen(): Promise<number> {
    const { host, port } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      const udp = await bindUdp(host, port, (socket, message, peer) => this.answerDatagram(socket, message, peer));
      const udpPort = udp.address().port;
      try {
        this.tcp = await listenTcp(host, udpPort, this.options.maxTcpConnections ?? DEFAULT_MAX_TCP_CONNECTIONS, (socket) => this.serveConnection(socket));
        this.tcp.on('drop', (peer) => this.logger?.debug({ peer }, 'DNS TCP connection refused: too many open'));
        this.tcp.on('error', (err) => this.logger?.warn({ err }, 'DNS TCP listener error'));
        this.udp = udp;
        udp.on('error', (err) => this.logger?.warn({ err }, 'DNS UDP socket error'));
        return udpPort;
      } catch (err) {
        await closeUdp(udp);
        if (port !== 0 || attempt >= PORT_ATTEMPTS || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw listenError('TCP', host, udpPort, err);
      }
    }
  }

  private lookup(question: ZoneQuestion): ZoneAnswer {
    const zone = this.zone();
    if (zone === null) throw new Error('no DNS zone has been built yet');
    return zone.lookup(question);
  }

  /** The answer to one message, or null: nothing to send. Never throws: a message must not take the server down. */
  private answer(message: Buffer, transport: Transport): Buffer | null {
    try {
      this.rotation = (this.rotation + 1) & 0x7fffffff;
      const { bytes, problem } = respond(message, (question) => this.lookup(question), transport, this.rotation);
      if (problem !== null) this.logger?.debug({ transport, problem }, 'DNS message not answered from the zone');
      return bytes;
    } catch (err) {
      this.logger?.debug({ err, transport }, 'DNS message dropped: it could not be answered');
      return null;
    }
  }

  private answerDatagram(udp: UdpSocket, message: Buffer, peer: { address: string; port: number }): void {
    const bytes = this.answer(message, 'udp');
    if (bytes === null) return;
    try {
      udp.send(bytes, peer.port, peer.address, (err) => {
        if (err) this.logger?.debug({ err, peer: peer.address }, 'DNS answer not sent');
      });
    } catch (err) {
      this.logger?.debug({ err, peer: peer.address }, 'DNS answer not sent');
    }
  }

  /** One TCP connection: each message is a 2-byte length and that many bytes; answers go back in order. */
  private serveConnection(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', (err) => this.logger?.debug({ err }, 'DNS TCP connection error'));
    socket.setTimeout(this.options.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS, () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    let waitingForDrain = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const end = 2 + buffered.readUInt16BE(0);
        const bytes = this.answer(buffered.subarray(2, end), 'tcp');
        buffered = buffered.subarray(end);
        if (bytes === null || socket.destroyed) continue;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(bytes.length);
        // A client that pipelines queries without reading the answers stops being read until it does.
        if (!socket.write(Buffer.concat([length, bytes])) && !waitingForDrain) {
          waitingForDrain = true;
          socket.pause();
          socket.once('drain', () => {
            waitingForDrain = false;
            socket.resume();
          });
        }
      }
    });
  }
}

function bindUdp(host: string, port: number, onMessage: (udp: UdpSocket, message: Buffer, peer: { address: string; port: number }) => void): Promise<UdpSocket> {
  const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    udp.once('error', (err) => {
      void closeUdp(udp);
      reject(listenError('UDP', host, port, err));
    });
    udp.on('message', (message, peer) => onMessage(udp, message, peer));
    udp.bind(port, host, () => {
      udp.removeAllListeners('error');
      resolve(udp);
    });
  });
}

function listenTcp(host: string, port: number, maxConnections: number, onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer({ noDelay: true }, onConnection);
  server.maxConnections = maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeUdp(udp: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      udp.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function listenError(protocol: string, host: string, port: number, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : (err as Error).message;
  return new Unavailable(`DNS cannot listen on ${protocol} ${host}:${port}: ${why}`);
}

/** The address `ns1` answers with: the listening address, or for a wildcard this machine's first IPv4 address. */
function ownAddress(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (external !== undefined) return external.address;
  }
  return '127.0.0.1';
}
