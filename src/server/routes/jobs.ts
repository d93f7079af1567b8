// /api/v1/jobs and /api/v1/job-runs: the batch scheduler's native API (the Chronos one is in chronos.ts).
// Jobs take the same JSON as Chronos (plus Gantry's fields); answers add the firing state, statistics
// and runs. A run's output is its task's log: /api/v1/tasks/<taskId>/logs.
import Router from '@koa/router';
import { z } from 'zod';
import type { BatchService } from '../../batch/index.ts';
import { parseInput } from '../parse.ts';

const runsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  before: z.string().optional(),
});

export function jobRoutes(batch: BatchService): Router {
  const router = new Router();

  router.get('/api/v1/jobs', async (ctx) => {
    ctx.body = { jobs: await batch.listJobs() };
  });

  // Create or replace (the name is in the JSON, as in Chronos).
  router.post('/api/v1/jobs', async (ctx) => {
    const saved = await batch.putJob(ctx.request.body);
    ctx.status = saved.created ? 201 : 200;
    ctx.body = saved.job;
  });

  router.get('/api/v1/jobs-graph', (ctx) => {
    ctx.type = 'text/vnd.graphviz';
    ctx.body = batch.graphDot();
  });

  router.get('/api/v1/jobs/:name', async (ctx) => {
    ctx.body = await batch.details(ctx.params.name!);
  });

  router.delete('/api/v1/jobs/:name', async (ctx) => {
    const children = await batch.deleteJob(ctx.params.name!);
    ctx.body = { deleted: ctx.params.name, children: children.map((c) => ({ name: c.name, change: c.change, summary: c.summary })) };
  });

  router.post('/api/v1/jobs/:name/run', async (ctx) => {
    ctx.status = 201;
    ctx.body = await batch.trigger(ctx.params.name!);
  });

  router.post('/api/v1/jobs/:name/kill', async (ctx) => {
    ctx.body = { killed: await batch.kill(ctx.params.name!) };
  });

  router.get('/api/v1/jobs/:name/runs', async (ctx) => {
    const q = parseInput(runsQuery, ctx.query, 'query');
    ctx.body = { runs: await batch.runs(ctx.params.name!, q.limit, q.before) };
  });

  router.get('/api/v1/jobs/:name/stats', async (ctx) => {
    ctx.body = await batch.statistics(ctx.params.name!);
  });

  router.get('/api/v1/job-runs/:id', async (ctx) => {
    ctx.body = await batch.run(ctx.params.id!);
  });

  return router;
}
