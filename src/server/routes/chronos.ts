// The Chronos REST API on the platform port, under /scheduler and /v1/scheduler, so that existing
// Chronos job JSON, scripts and tools keep working: same paths, same methods, same answers (204 where
// Chronos answers 204). Errors are the platform's {error, message} with a 4xx status.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { BatchService } from '../../batch/index.ts';
import { chronosJobJson, chronosSummary, matchesSearch } from '../../batch/chronos/job-json.ts';
import { Invalid } from '../../shared/errors.ts';

export function chronosRoutes(batch: BatchService): Router {
  const router = new Router();
  for (const prefix of ['/scheduler', '/v1/scheduler']) {
    router.get(`${prefix}/jobs`, async (ctx) => {
      ctx.body = (await batch.listJobs()).map(chronosJobJson);
    });

    router.get(`${prefix}/jobs/search`, async (ctx) => {
      const query = { name: text(ctx, 'name'), command: text(ctx, 'command'), any: text(ctx, 'any') };
      const terms = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as Record<string, string>;
      ctx.body = (await batch.listJobs()).filter((job) => matchesSearch(job, terms)).map(chronosJobJson);
    });

    router.get(`${prefix}/jobs/summary`, async (ctx) => {
      ctx.body = { jobs: (await batch.listJobs()).map(chronosSummary) };
    });

    // Chronos takes new and changed jobs on POST and PUT alike.
    for (const method of ['post', 'put'] as const) {
      router[method](`${prefix}/iso8601`, async (ctx) => {
        await batch.putJob(body(ctx), 'scheduled');
        ctx.status = 204;
      });
      router[method](`${prefix}/dependency`, async (ctx) => {
        await batch.putJob(body(ctx), 'dependent');
        ctx.status = 204;
      });
    }

    router.get(`${prefix}/job/stat/:name`, async (ctx) => {
      const stats = await batch.statistics(ctx.params.name!);
      const runs = await batch.runs(ctx.params.name!, 100);
      ctx.body = {
        histogram: { count: stats.durations.count, median: stats.durations.p50Ms, '90thPercentile': stats.durations.p90Ms, '99thPercentile': stats.durations.p99Ms, max: stats.durations.maxMs },
        taskStatHistory: runs.map((r) => ({ taskId: r.taskId, jobName: r.jobName, taskState: r.state, taskStart: r.startedAt, taskEnd: r.finishedAt, scheduledAt: r.scheduledAt })),
      };
    });

    router.put(`${prefix}/job/success/:name`, async (ctx) => {
      await batch.markSucceeded(ctx.params.name!);
      ctx.body = true;
    });

    router.get(`${prefix}/job/:name`, async (ctx) => {
      ctx.body = chronosJobJson(await batch.details(ctx.params.name!));
    });

    // Manual start: runs now, leaving the schedule as it is.
    router.put(`${prefix}/job/:name`, async (ctx) => {
      if (text(ctx, 'arguments') !== undefined) throw new Invalid('the "arguments" query parameter is not supported yet: put them in the job definition');
      await batch.trigger(ctx.params.name!);
      ctx.status = 204;
    });

    router.delete(`${prefix}/job/:name`, async (ctx) => {
      await batch.deleteJob(ctx.params.name!);
      ctx.status = 204;
    });

    router.delete(`${prefix}/task/kill/:name`, async (ctx) => {
      await batch.kill(ctx.params.name!);
      ctx.status = 204;
    });

    router.get(`${prefix}/graph/dot`, (ctx) => {
      ctx.type = 'text/vnd.graphviz';
      ctx.body = batch.graphDot();
    });

    router.get(`${prefix}/graph/csv`, async (ctx) => {
      ctx.type = 'text/csv';
      ctx.body = await batch.graphCsv();
    });
  }
  return router;
}

function text(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  return typeof value === 'string' ? value : undefined;
}

function body(ctx: Context): unknown {
  const value = (ctx.request as { body?: unknown }).body;
  if (value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0 && !ctx.is('json'))) {
    throw new Invalid('send the job as a JSON object with Content-Type: application/json');
  }
  return value;
}
