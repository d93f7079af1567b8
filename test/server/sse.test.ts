import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { formatComment, formatEvent, SseStream, type SseEvent } from '../../src/server/sse.ts';
import { SseParser, type ReceivedEvent } from '../helpers/sse-client.ts';

function parseAll(text: string): { events: ReceivedEvent[]; comments: string[] } {
  const parser = new SseParser();
  const events = parser.push(Buffer.from(text));
  return { events, comments: parser.comments };
}

/** A server whose one route hands its SseStream to `use`. */
async function sseServer(use: (sse: SseStream) => Promise<void>, heartbeatMs = 15_000): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa();
  app.use(async (ctx) => {
    const sse = SseStream.open(ctx, { heartbeatMs });
    try {
      await use(sse);
    } finally {
      sse.close();
    }
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('server-sent events', () => {
  describe('the wire format', () => {
    const table: Array<[string, SseEvent, string]> = [
      ['data only', { data: 'hello' }, 'data: hello\n\n'],
      ['event and id', { event: 'stdout', id: '42', data: 'x' }, 'event: stdout\nid: 42\ndata: x\n\n'],
      ['newlines inside the data', { data: 'a\nb\n' }, 'data: a\ndata: b\ndata: \n\n'],
      ['empty data', { data: '' }, 'data: \n\n'],
      ['leading spaces and colons survive', { data: '  : x' }, 'data:   : x\n\n'],
    ];
    for (const [what, event, wire] of table) {
      it(`${what}: written as the spec says and read back the same`, () => {
        assert.equal(formatEvent(event), wire);
        const { events } = parseAll(wire);
        assert.deepEqual(events, [{ event: event.event ?? 'message', data: event.data, lastEventId: event.id ?? '' }]);
      });
    }
    it('refuses what a client would read differently', () => {
      assert.throws(() => formatEvent({ data: 'a\rb' }), /CR/);
      assert.throws(() => formatEvent({ id: '1\n2', data: '' }), /id cannot contain/);
      assert.throws(() => formatEvent({ event: 'a\nb', data: '' }), /event cannot contain/);
      assert.throws(() => formatEvent({ id: '1\0', data: '' }), /NUL/);
    });
    it('comments are ignored by clients', () => {
      const { events, comments } = parseAll(formatComment('heartbeat') + formatEvent({ data: 'x' }));
      assert.deepEqual(comments, ['heartbeat']);
      assert.deepEqual(events.map((e) => e.data), ['x']);
    });
  });

  describe('SseStream over HTTP', () => {
    it('answers text/event-stream at once and sends a heartbeat when idle', async () => {
      const server = await sseServer((sse) => new Promise((resolve) => setTimeout(resolve, 350).unref()).then(() => void sse.send({ data: 'bye' })), 100);
      try {
        const started = Date.now();
        const response = await fetch(server.url);
        assert.ok(Date.now() - started < 300, 'headers come before any event');
        assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
        assert.equal(response.headers.get('cache-control'), 'no-cache, no-transform');
        const parser = new SseParser();
        const events: ReceivedEvent[] = [];
        for await (const part of response.body!) events.push(...parser.push(part));
        assert.deepEqual(events.map((e) => e.data), ['bye']);
        const beats = parser.comments.filter((c) => c === 'heartbeat').length;
        assert.ok(beats >= 2 && beats <= 4, `${beats} heartbeats in 350 ms at one per 100 ms idle`);
      } finally {
        await server.close();
      }
    });

    it('waits for a slow client instead of buffering, and goes on when it reads', async () => {
      const event = { data: 'x'.repeat(64 * 1024) };
      let sent = 0;
      let producing = true;
      const server = await sseServer(async (sse) => {
        for (let i = 0; i < 1600 && producing; i++) {
          if (!(await sse.send(event))) return;
          sent++;
        }
      });
      try {
        // A raw socket that does not read: the kernel buffers fill, then the producer must wait.
        const request = http.get(server.url);
        const response = await new Promise<http.IncomingMessage>((resolve) => request.on('response', resolve));
        response.pause();
        await new Promise((r) => setTimeout(r, 500));
        const stalledAt = sent;
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(sent, stalledAt, 'no progress while the client does not read');
        assert.ok(stalledAt * 64 < 16 * 1024, `${stalledAt * 64} KiB went out before the producer waited (of 100 MiB)`);
        let received = 0;
        response.on('data', (part: Buffer) => (received += part.length));
        response.resume();
        await new Promise((resolve) => response.on('end', resolve));
        assert.equal(sent, 1600);
        assert.ok(received > 1600 * 64 * 1024);
      } finally {
        producing = false;
        await server.close();
      }
    });

    it('aborts its signal when the client goes away, and send() then says so', async () => {
      let resolveGone: (value: { aborted: boolean; sendResult: boolean }) => void;
      const gone = new Promise<{ aborted: boolean; sendResult: boolean }>((resolve) => (resolveGone = resolve));
      const server = await sseServer(async (sse) => {
        await sse.send({ data: 'first' });
        await new Promise<void>((resolve) => sse.signal.addEventListener('abort', () => resolve()));
        resolveGone({ aborted: sse.signal.aborted, sendResult: await sse.send({ data: 'too late' }) });
      });
      try {
        const abort = new AbortController();
        const response = await fetch(server.url, { signal: abort.signal });
        const reader = response.body!.getReader();
        await reader.read();
        abort.abort();
        const result = await Promise.race([gone, new Promise((r) => setTimeout(() => r('timeout'), 2000))]);
        assert.deepEqual(result, { aborted: true, sendResult: false });
      } finally {
        await server.close();
      }
    });
  });
});
