// HTTP mode: a request's body on its way to a server, streamed (backpressure both ways), and kept for a
// retry only as far as a retry may need it. The body is not read until a connection to a server is
// established, so a connection that fails first consumed nothing. A request whose reused keep-alive
// connection is reset before the response may be sent again (idempotent methods): for those the body
// read so far is kept, up to a limit, until the response begins.
import type { ClientRequest, IncomingMessage } from 'node:http';

export class ReplayableBody {
  private target: ClientRequest | null = null;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  /** Bytes were sent that are no longer kept: the body cannot be sent again. */
  private lost = false;
  private reading = false;
  private ended = false;

  constructor(
    private readonly req: IncomingMessage,
    /** How many bytes to keep for a retry; 0: none (the request is not retried once its body was sent). */
    private keepLimit: number,
  ) {}

  /** Whether the body can be sent (again) from its start. */
  get replayable(): boolean {
    return !this.lost;
  }

  /** Sends the body (what was kept, then the rest as it comes) to `target`, and ends it. */
  sendTo(target: ClientRequest): void {
    this.target = target;
    for (const chunk of this.kept) target.write(chunk);
    if (this.ended) {
      target.end();
      return;
    }
    if (!this.reading) {
      this.reading = true;
      this.req.on('data', (chunk: Buffer) => this.onData(chunk));
      this.req.on('end', () => {
        this.ended = true;
        this.target?.end();
      });
    }
    this.req.resume();
  }

  /** The attempt failed: stop sending to it (the next attempt calls sendTo again). */
  detach(): void {
    this.target = null;
    this.req.pause();
  }

  /** The response began: nothing is sent again, nothing more is kept. */
  commit(): void {
    this.keepLimit = 0;
    if (this.keptBytes > 0) this.lost = true;
    this.kept = [];
    this.keptBytes = 0;
  }

  private onData(chunk: Buffer): void {
    if (this.keptBytes + chunk.length <= this.keepLimit) {
      this.kept.push(chunk);
      this.keptBytes += chunk.length;
    } else {
      this.lost = true;
      this.kept = [];
      this.keptBytes = 0;
      this.keepLimit = 0;
    }
    const target = this.target;
    if (target === null) return;
    if (!target.write(chunk)) {
      this.req.pause();
      target.once('drain', () => {
        if (this.target === target) this.req.resume();
      });
    }
  }
}
