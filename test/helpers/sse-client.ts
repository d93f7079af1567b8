// An SSE client as the HTML spec describes one (event stream interpretation), so tests read streams
// the way browsers do: CR, LF and CRLF end lines; one leading space after the colon is dropped; data
// lines are joined with '\n'; an event is dispatched on a blank line; comments are kept for tests.

export interface ReceivedEvent {
  /** `message` when the stream named none. */
  event: string;
  data: string;
  /** The last event id the stream set, as EventSource's lastEventId. */
  lastEventId: string;
}

export class SseParser {
  readonly comments: string[] = [];
  private buffered = '';
  private lastEventId = '';
  private eventType = '';
  private data: string[] = [];
  private decoder = new TextDecoder('utf-8');

  /** Feeds bytes; returns the events they completed. */
  push(bytes: Uint8Array): ReceivedEvent[] {
    const text = this.buffered + this.decoder.decode(bytes, { stream: true });
    const events: ReceivedEvent[] = [];
    let at = 0;
    // Found once and again only when passed: searching from every line would be quadratic.
    let lf = -2;
    let cr = -2;
    for (;;) {
      if (lf !== -1 && lf < at) lf = text.indexOf('\n', at);
      if (cr !== -1 && cr < at) cr = text.indexOf('\r', at);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      // A CR at the very end may be the first half of a CRLF: wait for the next bytes.
      if (end === -1 || (end === cr && cr === text.length - 1)) break;
      const event = this.line(text.slice(at, end));
      if (event) events.push(event);
      at = end + (end === cr && text[cr + 1] === '\n' ? 2 : 1);
    }
    this.buffered = text.slice(at);
    return events;
  }

  private line(line: string): ReceivedEvent | null {
    if (line === '') {
      if (this.data.length === 0) {
        this.eventType = '';
        return null;
      }
      const event = { event: this.eventType || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId };
      this.eventType = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trimStart());
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    return null;
  }
}

/** The bytes a task's output event carries (text, or base64 for `*-base64` events). */
export function eventBytes(event: ReceivedEvent): Buffer {
  return event.event.endsWith('-base64') ? Buffer.from(event.data, 'base64') : Buffer.from(event.data, 'utf8');
}

/** Reads a response's events until the stream ends or `stop` holds (the stream is then cancelled). */
export async function readEvents(response: Response, stop: (events: ReceivedEvent[]) => boolean = () => false): Promise<ReceivedEvent[]> {
  const parser = new SseParser();
  const events: ReceivedEvent[] = [];
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    events.push(...parser.push(value));
    if (stop(events)) {
      await reader.cancel();
      break;
    }
  }
  return events;
}
