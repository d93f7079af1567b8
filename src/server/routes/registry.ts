// /api/v1/registry: what ops look at in the bundled registry (repositories, tags, storage use).
// The OCI API itself is on the registry's own listener.
import Router from '@koa/router';
import { z } from 'zod';
import type { Registry } from '../../registry/index.ts';
import { readCapacity } from '../../registry/storage/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import { parseInput } from '../parse.ts';

const pageQuery = z.object({
  n: z.coerce.number().int().min(1).max(10_000).default(100),
  last: z.string().optional(),
});

const gcBody = z
  .object({
    dryRun: z.boolean().default(false),
    untagged: z.boolean().default(false),
    /** Like 30m or 1h: nothing pushed or uploaded within it is collected. */
    grace: z.string().min(1).optional(),
  })
  .strict();

/** The grace window when a collection asked for through the API names none. */
const DEFAULT_GC_GRACE_MS = 3_600_000;

export function registryRoutes(registry: Pick<Registry, 'blobs' | 'metadata' | 'gc' | 'gcRuns'>): Router {
  const router = new Router();

  router.get('/api/v1/registry/repositories', async (ctx) => {
    const q = parseInput(pageQuery, ctx.query, 'query');
    const page = await registry.metadata.listRepositories(q.n, q.last);
    ctx.body = { repositories: page.items, more: page.more };
  });

  // The repository is a query parameter: its name holds slashes.
  router.get('/api/v1/registry/tags', async (ctx) => {
    const { repository } = parseInput(z.object({ repository: z.string().min(1) }), ctx.query, 'query');
    ctx.body = { repository, tags: await registry.metadata.tags(repository) };
  });

  router.get('/api/v1/registry/usage', async (ctx) => {
    const [usage, capacity] = await Promise.all([registry.blobs.usage(), readCapacity(registry.blobs.root)]);
    ctx.body = { ...usage, ...capacity };
  });

  // Online garbage collection, now (a dry run deletes nothing); answers with what was (or would be) freed.
  router.post('/api/v1/registry/gc', async (ctx) => {
    const body = parseInput(gcBody, ctx.request.body ?? {});
    const graceMs = body.grace === undefined ? DEFAULT_GC_GRACE_MS : parseDuration(body.grace, 'grace');
    const result = await registry.gc.collect({ dryRun: body.dryRun, untagged: body.untagged, graceMs });
    ctx.body = await registry.gcRuns.record(result, 'api');
  });

  router.get('/api/v1/registry/gc', async (ctx) => {
    const { limit } = parseInput(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) }), ctx.query, 'query');
    ctx.body = { runs: await registry.gcRuns.list(limit) };
  });

  return router;
}
