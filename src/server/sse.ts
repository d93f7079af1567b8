// Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html) for any route:
// task output, CI run and step status. An SseStream takes over a Koa response, writes whole events,
// waits for 'drain' when the client reads slower than we produce (so a slow client holds the producer
// back instead of making us buffer), sends a comment as a heartbeat when nothing else was written for a
// while (proxies and browsers drop idle connections), and aborts its `signal` when the client goes.
import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';

export interface SseEvent {
  /** The event type (`event:`); without it a client sees a "message". */
  event?: string;
  /** What the client sends back as Last-Event-ID when it reconnects. */
  id?: string;
  /**
   * The payload, written as one `data:` line per line so that '\n' inside it survives. It must not
   * contain '\r': clients read a CR as a line end and would hand back '\n' (see canSendAsData).
   */
  data: string;
}

export interface SseOptions {
  /** A comment is sent after this long without any other write. */
  heartbeatMs?: number;
  /** The reconnection delay suggested to clients (`retry:`). */
  retryMs?: number;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Whether `text` arrives at an SSE client exactly as it is when sent as data (it has no CR). */
export function canSendAsData(text: string): boolean {
  return !text.includes('\r');
}

/** One event in the wire format, ending with the blank line that dispatches it. */
export function formatEvent(event: SseEvent): string {
  if (!canSendAsData(event.data)) throw new Error('SSE data cannot carry a CR; encode it');
  let text = '';
  if (event.event !== undefined) text += `event: ${fieldValue('event', event.event)}\n`;
  if (event.id !== undefined) text += `id: ${fieldValue('id', event.id)}\n`;
  for (const line of event.data.split('\n')) text += `data: ${line}\n`;
  return text + '\n';
}

/** A comment line: ignored by clients, it keeps the connection busy. */
export function formatComment(text: string): string {
  return `: ${fieldValue('comment', text)}\n\n`;
}

function fieldValue(name: string, value: string): string {
  // A line end would end the field early; a NUL in an id makes clients ignore the id.
  if (/[\r\n\0]/.test(value)) throw new Error(`SSE ${name} cannot contain CR, LF or NUL: ${JSON.stringify(value)}`);
  return value;
}

export class SseStream {
  private readonly abort = new AbortController();
  /** Fires after heartbeatMs without a write; every write re-arms it. */
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(
    private readonly res: ServerResponse,
    heartbeatMs: number,
  ) {
    res.on('close', () => this.abort.abort());
    this.heartbeat = setTimeout(() => {
      // A client that is behind has bytes coming anyway; a comment would only add to its backlog.
      if (res.writableNeedDrain) this.heartbeat.refresh();
      else this.write(formatComment('heartbeat'));
    }, heartbeatMs);
    this.abort.signal.addEventListener('abort', () => clearTimeout(this.heartbeat));
  }

  /** Answers the request with 200 text/event-stream at once and hands the response to the stream. */
  static open(ctx: Context, options: SseOptions = {}): SseStream {
    ctx.respond = false; // Koa must not write a body of its own
    const res = ctx.res;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    });
    res.socket?.setNoDelay(true);
    const stream = new SseStream(res, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    stream.write(options.retryMs !== undefined ? `retry: ${Math.round(options.retryMs)}\n\n` : formatComment('connected'));
    return stream;
  }

  /** Aborted when the client has gone or the stream was closed: producers stop on it. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Writes an event, then waits while the client is behind. False once the client has gone. */
  async send(event: SseEvent): Promise<boolean> {
    if (this.signal.aborted) return false;
    const flowing = this.write(formatEvent(event));
    if (!flowing) await this.drained();
    return !this.signal.aborted;
  }

  /** Ends the response (when the stream is over, or after a failure). */
  close(): void {
    clearTimeout(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
    this.abort.abort();
  }

  private write(text: string): boolean {
    if (this.signal.aborted || this.res.writableEnded) return false;
    this.heartbeat.refresh();
    return this.res.write(text);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      if (this.signal.aborted) return resolve();
      const done = (): void => {
        this.res.off('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.on('drain', done);
      this.signal.addEventListener('abort', done);
    });
  }
}
