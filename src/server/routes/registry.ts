// /api/v1/registry: what ops look at in the bundled registry (repositories, tags, storage use).
// The OCI API itself is on the registry's own listener.
import Router from '@koa/router';
import { z } from 'zod';
import type { Registry } from '../../registry/index.ts';
import { readCapacity } from '../../registry/storage/index.ts';
import { parseInput } from '../parse.ts';

const pageQuery = z.object({
  n: z.coerce.number().int().min(1).max(10_000).default(100),
  last: z.string().optional(),
});

export function registryRoutes(registry: Pick<Registry, 'blobs' | 'metadata'>): Router {
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

  return router;
}
