// /api/v1/tasks and /api/v1/queue: submit, list, show, kill, logs (with follow) and events (SSE, in
// task-events.ts). Tasks are shown without their secrets (redactedTask): clients never see them.
import { Readable } from 'node:stream';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { TASK_STATES, TERMINAL_STATES, parseOwner, parseTaskSpec, redactedTask, type Master, type OutputChunk, type TaskEvent, type TaskLogStore, type TaskRecord } from '../../cluster/index.ts';
import { utf8Text } from '../../shared/utf8.ts';
import { Invalid } from '../../shared/errors.ts';
import { parseInput } from '../parse.ts';
import type { TokenRecord } from '../../store/index.ts';
import { taskEventRoutes } from './task-events.ts';

const listQuery = z.object({
  state: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',') : undefined))
    .pipe(z.array(z.enum(TASK_STATES)).optional()),
  owner: z.string().optional(),
  ownerPrefix: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(200),
});

const changesQuery = z.object({
  cursor: z.string().min(1, 'give the cursor of a task list or of the last change'),
  ownerPrefix: z.string().default(''),
  waitMs: z.coerce.number().int().min(0).max(60_000).default(0),
});

const logsQuery = z.object({
  follow: z.enum(['true', 'false', '1', '0']).optional(),
  format: z.enum(['raw', 'ndjson']).default('raw'),
  stream: z.enum(['stdout', 'stderr', 'both']).default('both'),
});

/** Owner kinds the domains submit under, refused from the tasks API. */
const RESERVED_OWNER_KINDS: Readonly<Record<string, string>> = {
  app: 'the apps (submit an app: POST /v2/apps)',
  job: 'the batch scheduler (define a job)',
  ci: 'CI runs',
  prewarm: 'image pre-warming (gantry images prewarm)',
};

export function taskRoutes(master: Master, logs: TaskLogStore): Router {
  const router = new Router();

  router.post('/api/v1/tasks', async (ctx) => {
    const identity = ctx.state.identity as TokenRecord;
    const spec = parseTaskSpec(ctx.request.body, `user:${identity.name}`);
    const kind = parseOwner(spec.owner).kind;
    const domain = RESERVED_OWNER_KINDS[kind];
    // Their domain treats such a task as its own: the apps kill an instance of no app, for one.
    if (domain) throw new Invalid(`invalid task: the owner kind "${kind}:" belongs to ${domain}; choose another owner (e.g. svc:NAME)`);
    ctx.status = 201;
    ctx.body = redactedTask(await master.submit(spec));
  });

  router.get('/api/v1/tasks', async (ctx) => {
    const q = parseInput(listQuery, ctx.query, 'query');
    // Taken before the read: watching from it (GET /api/v1/tasks/changes) misses no change after the list.
    const cursor = master.changes.cursor;
    const tasks = await master.listTasks({ states: q.state, owner: q.owner, ownerPrefix: q.ownerPrefix, limit: q.limit });
    ctx.body = { tasks: tasks.map(redactedTask), cursor };
  });

  // The watch half of list-then-watch, as a long poll: the changes after `cursor` (of tasks whose owner
  // starts with ownerPrefix), waiting up to waitMs for one; 410 when the cursor is too old (list again).
  router.get('/api/v1/tasks/changes', async (ctx) => {
    const q = parseInput(changesQuery, ctx.query, 'query');
    const read = () => {
      const cursor = master.changes.cursor; // read with the changes, in one turn: nothing falls between
      const changes = master.changes.since(q.cursor).filter((c) => c.task.spec.owner.startsWith(q.ownerPrefix));
      return { changes, cursor };
    };
    let found = read();
    if (found.changes.length === 0 && q.waitMs > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          master.events.off('task', onTask);
          ctx.res.off('close', done);
          resolve();
        };
        const onTask = ({ task }: TaskEvent): void => {
          if (task.spec.owner.startsWith(q.ownerPrefix)) done();
        };
        const timer = setTimeout(done, q.waitMs);
        master.events.on('task', onTask);
        ctx.res.on('close', done);
      });
      found = read();
    }
    ctx.body = { changes: found.changes.map((c) => ({ cursor: c.cursor, task: redactedTask(c.task) })), cursor: found.cursor };
  });

  router.get('/api/v1/tasks/:id', async (ctx) => {
    const task = await master.getTask(ctx.params.id!);
    // What it uses now, while it runs (its agent's last sample; not stored).
    ctx.body = { ...redactedTask(task), usage: master.usage.of(task.id) };
  });

  router.post('/api/v1/tasks/:id/kill', async (ctx) => {
    ctx.status = 202;
    ctx.body = redactedTask(await master.kill(ctx.params.id!));
  });

  router.get('/api/v1/tasks/:id/logs', async (ctx) => {
    const q = parseInput(logsQuery, ctx.query, 'query');
    const task = await master.getTask(ctx.params.id!);
    const follow = q.follow === 'true' || q.follow === '1';
    // A log removed by retention is a 410 with why, before the stream (and its 200) starts.
    await logs.checkResumeOffset(task.id, 0);
    streamLogs(ctx, task, master, logs, { follow, format: q.format, stream: q.stream });
  });

  router.get('/api/v1/queue', (ctx) => {
    ctx.body = {
      tasks: master
        .queued()
        .map(redactedTask)
        .map((t) => ({ id: t.id, name: t.spec.name, owner: t.spec.owner, createdAt: t.createdAt, waitingReason: t.waitingReason })),
    };
  });

  taskEventRoutes(router, master, logs);

  return router;
}

function streamLogs(
  ctx: Context,
  task: TaskRecord,
  master: Master,
  logs: TaskLogStore,
  options: { follow: boolean; format: 'raw' | 'ndjson'; stream: 'stdout' | 'stderr' | 'both' },
): void {
  const abort = new AbortController();
  ctx.res.on('close', () => abort.abort());
  const wanted = (chunk: OutputChunk): boolean => options.stream === 'both' || chunk.stream === options.stream;
  const isComplete = async (): Promise<boolean> => TERMINAL_STATES.has((await master.getTask(task.id)).state);

  async function* body(): AsyncGenerator<Buffer | string> {
    for await (const chunk of logs.read(task.id, { follow: options.follow, isComplete, signal: abort.signal })) {
      if (!wanted(chunk)) continue;
      if (options.format === 'raw') yield chunk.data;
      else yield JSON.stringify(encodeChunk(chunk)) + '\n';
    }
    if (options.format === 'ndjson' && !abort.signal.aborted) {
      const final = await master.getTask(task.id);
      yield JSON.stringify({ end: true, state: final.state, exitCode: final.exitCode, reason: final.reason }) + '\n';
    }
  }

  ctx.type = options.format === 'raw' ? 'text/plain; charset=utf-8' : 'application/x-ndjson';
  ctx.set('cache-control', 'no-cache');
  ctx.set('x-content-type-options', 'nosniff');
  ctx.body = Readable.from(body());
}

/** An ndjson line: the chunk's stream, its text (or base64 when not UTF-8), and when it was read (`at`, ISO 8601) when known. */
function encodeChunk(chunk: OutputChunk): Record<string, string> {
  const text = utf8Text(chunk.data);
  const at: Record<string, string> = chunk.at !== undefined ? { at: new Date(chunk.at).toISOString() } : {};
  return text !== null ? { stream: chunk.stream, text, ...at } : { stream: chunk.stream, base64: chunk.data.toString('base64'), ...at };
}

