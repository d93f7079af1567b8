// GET /api/v1/tasks/:id/events: a task's output as Server-Sent Events, live until the task ends.
//
//   event: stdout | stderr                one chunk of output, valid UTF-8 without CR, as `data:` lines
//   event: stdout-base64 | stderr-base64  a chunk that is not (binary output, a split UTF-8 character,
//                                         a progress bar's CR): `data:` is the bytes in base64
//   id: <offset>                          on every event: the byte offset in the stored log just after
//                                         the chunk; reconnecting with Last-Event-ID: <offset> (or
//                                         ?from=<offset>; the header wins) resumes right after it
//   event: end                            last, once the task is over: data {"state","exitCode","reason"};
//                                         clients close on it (an EventSource would reconnect)
//   : heartbeat                           a comment after 15 s without output
// `?stream=stdout|stderr` keeps one stream (ids stay log offsets, so resuming works the same).
import type Router from '@koa/router';
import { z } from 'zod';
import { TERMINAL_STATES, type Master, type StoredChunk, type TaskLogStore } from '../../cluster/index.ts';
import { Invalid } from '../../shared/errors.ts';
import { utf8Text } from '../../shared/utf8.ts';
import { parseInput } from '../parse.ts';
import { canSendAsData, SseStream, type SseEvent, type SseOptions } from '../sse.ts';

const eventsQuery = z.object({
  from: z.string().optional(),
  stream: z.enum(['stdout', 'stderr', 'both']).default('both'),
});

export function taskEventRoutes(router: Router, master: Master, logs: TaskLogStore, sseOptions: SseOptions = {}): void {
  router.get('/api/v1/tasks/:id/events', async (ctx) => {
    const q = parseInput(eventsQuery, ctx.query, 'query');
    const task = await master.getTask(ctx.params.id!);
    const from = resumeOffset(ctx.get('last-event-id') || q.from);
    // Checked before the stream opens, so a bad offset is a 400 and not a stream that dies.
    await logs.checkResumeOffset(task.id, from);
    const isComplete = async (): Promise<boolean> => TERMINAL_STATES.has((await master.getTask(task.id)).state);

    const sse = SseStream.open(ctx, sseOptions);
    try {
      let offset = from;
      for await (const chunk of logs.read(task.id, { follow: true, isComplete, signal: sse.signal, fromOffset: from })) {
        offset = chunk.endOffset;
        if (q.stream !== 'both' && chunk.stream !== q.stream) continue;
        if (!(await sse.send(outputEvent(chunk)))) return;
      }
      if (sse.signal.aborted) return;
      const final = await master.getTask(task.id);
      await sse.send({ event: 'end', id: String(offset), data: JSON.stringify({ state: final.state, exitCode: final.exitCode, reason: final.reason }) });
    } finally {
      sse.close();
    }
  });
}

/** The SSE event for a chunk: as text when the client gets it back byte for byte, else in base64. */
export function outputEvent(chunk: StoredChunk): SseEvent {
  const text = utf8Text(chunk.data);
  const id = String(chunk.endOffset);
  if (text !== null && canSendAsData(text)) return { event: chunk.stream, id, data: text };
  return { event: `${chunk.stream}-base64`, id, data: chunk.data.toString('base64') };
}

function resumeOffset(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,15}$/.test(value)) throw new Invalid(`a resume offset (Last-Event-ID or ?from) is a byte offset, not "${value}"`);
  return Number(value);
}
