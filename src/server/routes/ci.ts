// The CI's admin API /api/v1/pipelines, /api/v1/runs, /api/v1/ci/secrets, /api/v1/ci/deliveries. A step's
// output is its task's: /api/v1/tasks/<taskId>/logs and /events (SSE with Last-Event-ID resume).
import Router from '@koa/router';
import { z } from 'zod';
import type { CiService } from '../../ci/index.ts';
import { Conflict, Invalid, NotFound } from '../../shared/errors.ts';
import { parseInput } from '../parse.ts';
import { SseStream } from '../sse.ts';
import type { TokenRecord } from '../../store/tokens.ts';

const listQuery = z.object({
  pipeline: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  before: z.string().optional(),
});
const triggerBody = z
  .object({ ref: z.string().min(1).default('main'), url: z.string().min(1).optional(), repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'a repository is owner/name').optional() })
  .strict();
const secretBody = z.object({ value: z.string().min(1) }).strict();
const linesQuery = z.object({ after: z.coerce.number().int().min(0).default(0) });

export function ciRoutes(ci: CiService): Router {
  const router = new Router();

  router.get('/api/v1/pipelines', (ctx) => {
    ctx.body = ci.listPipelines();
  });

  router.post('/api/v1/pipelines/reload', (ctx) => {
    ctx.body = ci.reloadPipelines();
  });

  router.post('/api/v1/pipelines/:name/runs', async (ctx) => {
    const body = parseInput(triggerBody, ctx.request.body ?? {});
    ctx.status = 201;
    ctx.body = await ci.trigger(ctx.params.name!, body.ref, body.url, body.repository);
  });

  router.get('/api/v1/runs', async (ctx) => {
    const q = parseInput(listQuery, ctx.query, 'query');
    ctx.body = { runs: await ci.listRuns({ limit: q.limit, ...(q.pipeline !== undefined ? { pipeline: q.pipeline } : {}), ...(q.before !== undefined ? { before: q.before } : {}) }) };
  });

  router.get('/api/v1/runs/:id', async (ctx) => {
    ctx.body = await ci.run(ctx.params.id!);
  });

  router.post('/api/v1/runs/:id/cancel', async (ctx) => {
    ctx.body = await ci.cancel(ctx.params.id!);
  });

  router.post('/api/v1/runs/:id/steps/:step/approve', async (ctx) => {
    const identity = ctx.state.identity as TokenRecord;
    ctx.body = await ci.approve(ctx.params.id!, ctx.params.step!, identity.name);
  });

  // A step's output is its task's: these send the client there (same query: follow, format, stream,
  // from), so there is one implementation of logs and of resumable events. A step that runs on the
  // server (a deploy) has no task: its lines are answered here, as text, from line `after` on (the
  // last one's number in X-Gantry-Last-Line, so that a follower asks for what came next).
  for (const kind of ['logs', 'events'] as const) {
    router.get(`/api/v1/runs/:id/steps/:step/${kind}`, async (ctx) => {
      const run = await ci.run(ctx.params.id!);
      const step = run.steps.find((s) => s.name === ctx.params.step);
      if (!step) throw new NotFound(`run ${run.id} has no step "${ctx.params.step}"`);
      if (!step.taskId && kind === 'logs' && step.state !== 'pending' && step.state !== 'waiting') {
        const after = parseInput(linesQuery, ctx.query, 'query').after;
        const lines = await ci.stepLines(run.id, step.name, after);
        ctx.set('X-Gantry-Last-Line', String(lines.at(-1)?.seq ?? after));
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = lines.map((l) => `${l.text}\n`).join('');
        return;
      }
      if (!step.taskId) throw new Conflict(`step "${step.name}" has not started (${step.state})`);
      ctx.status = 307;
      ctx.redirect(`/api/v1/tasks/${encodeURIComponent(step.taskId)}/${kind}${ctx.querystring ? `?${ctx.querystring}` : ''}`);
    });
  }

  // The run and its steps as they change: one `run` event with the whole run (steps included) at once
  // and after every change, then `end` when the run is over (its steps have all stopped).
  router.get('/api/v1/runs/:id/events', async (ctx) => {
    const id = ctx.params.id!;
    await ci.run(id); // 404 before the stream starts
    const stream = SseStream.open(ctx);
    let sending = Promise.resolve();
    const send = () => {
      sending = sending.then(async () => {
        if (stream.signal.aborted) return;
        const run = await ci.run(id);
        await stream.send({ event: 'run', data: JSON.stringify(run) });
        // Over once finishedAt is set: a canceled or timed-out run is in its final state at once, but
        // its steps still get their grace period to stop; ending the stream on the state alone left
        // followers with a last snapshot whose steps were still "running".
        if (!['queued', 'running'].includes(run.state) && run.finishedAt !== null) {
          await stream.send({ event: 'end', data: JSON.stringify({ state: run.state, reason: run.reason }) });
          stream.close();
        }
      });
      // A failed read (the store closing under a stream at shutdown) ends this stream; left in the
      // chain it was an unhandled rejection, which stops the whole process.
      sending = sending.catch(() => stream.close());
    };
    const unsubscribe = ci.subscribe((run) => {
      if (run.id === id) send();
    });
    send();
    // Koa is done with this request (the stream answers it); unsubscribe when it ends either way.
    stream.signal.addEventListener('abort', unsubscribe);
  });

  router.get('/api/v1/ci/secrets', async (ctx) => {
    ctx.body = { secrets: await ci.secrets.list() };
  });

  router.put('/api/v1/ci/secrets/:name', async (ctx) => {
    const body = parseInput(secretBody, ctx.request.body);
    await ci.secrets.set(ctx.params.name!, body.value, new Date().toISOString());
    ctx.status = 204;
  });

  router.delete('/api/v1/ci/secrets/:name', async (ctx) => {
    if (!(await ci.secrets.remove(ctx.params.name!))) throw new Invalid(`no CI secret named "${ctx.params.name}"`);
    ctx.status = 204;
  });

  router.get('/api/v1/ci/deliveries', async (ctx) => {
    const q = parseInput(listQuery, ctx.query, 'query');
    ctx.body = { deliveries: await ci.deliveries.list(q.limit) };
  });

  return router;
}
