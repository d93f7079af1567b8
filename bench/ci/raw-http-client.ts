// A lean HTTP/1.1 client for the webhook bursts: keep-alive TCP connections (net.Socket) to which
// requests are written as bytes prepared before the clock starts, and answers parsed just enough
// (status line, Content-Length or chunked body). It exists because node:http's client cost this
// benchmark ~0.5 ms of CPU per delivery on the cores it shares with the server it measures: in a
// burst, the client noticed answers up to 36 ms after the server had sent them (bench/README.md, CI),
// time that GitHub's senders, on their own machines, do not add. What is measured is unchanged:
// from just before the request is written to the last byte of its answer.
import net from 'node:net';

export interface RawAnswer {
  status: number;
  body: string;
  /** From writing the request to the last byte of the answer (ms). */
  ms: number;
  /** Date.now() just before the request was written. */
  sentAt: number;
}

/** A POST as bytes: headers and body, ready to be written. */
export function postBytes(target: URL, headers: Record<string, string>, body: Buffer): Buffer {
  const lines = [`POST ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, 'Connection: keep-alive', `Content-Length: ${body.length}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

interface Waiting {
  resolve(answer: RawAnswer): void;
  reject(err: Error): void;
  sentAt: number;
  started: number;
}

/** One keep-alive connection; one request at a time (no pipelining, as GitHub). */
export class RawConnection {
  private socket: net.Socket | null = null;
  private connecting: Promise<net.Socket> | null = null;
  private received: Buffer = Buffer.alloc(0);
  private waiting: Waiting | null = null;

  constructor(private readonly target: URL) {}

  /** Writes `request` (connecting first if needed) and resolves with its answer. */
  async send(request: Buffer): Promise<RawAnswer> {
    const sentAt = Date.now();
    const started = performance.now();
    const socket = this.socket ?? (await this.connect());
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject, sentAt, started };
      socket.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<net.Socket> {
    this.connecting ??= new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.target.hostname, port: Number(this.target.port), noDelay: true }, () => {
        this.socket = socket;
        this.connecting = null;
        resolve(socket);
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (err) => {
        this.fail(err);
        reject(err);
      });
      socket.on('close', () => {
        this.socket = null;
        this.connecting = null;
        this.received = Buffer.alloc(0); // a half answer of this connection is no part of the next one's
        this.fail(new Error('the server closed the connection before answering'));
      });
    });
    return this.connecting;
  }

  private fail(err: Error): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(err);
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    const parsed = parseAnswer(this.received);
    if (!parsed || !this.waiting) return;
    const { resolve, sentAt, started } = this.waiting;
    this.waiting = null;
    this.received = this.received.subarray(parsed.length);
    if (parsed.close) this.close();
    resolve({ status: parsed.status, body: parsed.body, ms: performance.now() - started, sentAt });
  }
}

/** A whole answer at the start of `data`, or null while it is incomplete. */
export function parseAnswer(data: Buffer): { status: number; body: string; length: number; close: boolean } | null {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const head = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const header = (name: string): string | undefined => {
    const prefix = `${name.toLowerCase()}:`;
    return head.find((line) => line.toLowerCase().startsWith(prefix))?.slice(prefix.length).trim();
  };
  const close = header('connection')?.toLowerCase() === 'close';
  const bodyStart = headEnd + 4;
  if (header('transfer-encoding')?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at);
      if (lineEnd === -1) return null;
      const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
      if (data.length < lineEnd + 2 + size + 2) return null;
      if (size === 0) return { status, body: Buffer.concat(parts).toString('utf8'), length: lineEnd + 4, close };
      parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = Number(header('content-length') ?? 0);
  if (data.length < bodyStart + length) return null;
  return { status, body: data.subarray(bodyStart, bodyStart + length).toString('utf8'), length: bodyStart + length, close };
}
