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

const quotaBody = z.object({ repository: z.string().min(1).max(255), maxBytes: z.number().int().min(0) }).strict();

export function registryRoutes(registry: Pick<Registry, 'blobs' | 'metadata' | 'gc' | 'gcRuns' | 'quotas'>): Router {
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

  // Bytes per repository (with the quota that applies), and the total with shared blobs counted once.
  router.get('/api/v1/registry/usage/repositories', async (ctx) => {
    const usage = await registry.metadata.usageByRepository();
    const repositories = await Promise.all(
      usage.repositories.map(async (r) => {
        const quota = await registry.quotas.quotaFor(r.repository);
        return { ...r, quota: quota ? { repositoryGlob: quota.repositoryGlob, maxBytes: quota.maxBytes } : null };
      }),
    );
    ctx.body = { repositories, totalBytes: usage.totalBytes };
  });

  router.get('/api/v1/registry/quotas', async (ctx) => {
    ctx.body = { quotas: await registry.quotas.list() };
  });

  router.put('/api/v1/registry/quotas', async (ctx) => {
    const body = parseInput(quotaBody, ctx.request.body);
    ctx.body = await registry.quotas.set(body.repository, body.maxBytes);
  });

  router.delete('/api/v1/registry/quotas', async (ctx) => {
    const { repository } = parseInput(z.object({ repository: z.string().min(1) }), ctx.query, 'query');
    await registry.quotas.remove(repository);
    ctx.status = 204;
  });

  // Prometheus text format: the registry's storage, per repository too (the same figures as above).
  router.get('/api/v1/metrics', async (ctx) => {
    const [usage, capacity, repositories] = await Promise.all([registry.blobs.usage(), readCapacity(registry.blobs.root), registry.metadata.usageByRepository()]);
    const lines = [
      '# HELP gantry_registry_used_bytes Bytes of the registry\'s files (blobs and uploads in progress).',
      '# TYPE gantry_registry_used_bytes gauge',
      `gantry_registry_used_bytes ${usage.bytesUsed}`,
      '# HELP gantry_registry_used_inodes Files and directories of the registry.',
      '# TYPE gantry_registry_used_inodes gauge',
      `gantry_registry_used_inodes ${usage.inodesUsed}`,
      '# HELP gantry_registry_free_bytes Bytes free on the registry\'s filesystem.',
      '# TYPE gantry_registry_free_bytes gauge',
      `gantry_registry_free_bytes ${capacity.freeBytes}`,
      '# HELP gantry_registry_free_inodes Inodes free on the registry\'s filesystem.',
      '# TYPE gantry_registry_free_inodes gauge',
      `gantry_registry_free_inodes ${capacity.freeInodes}`,
      '# HELP gantry_registry_repository_bytes Bytes a repository holds (its blobs once each, and its manifests).',
      '# TYPE gantry_registry_repository_bytes gauge',
      ...repositories.repositories.map((r) => `gantry_registry_repository_bytes{repository="${r.repository}"} ${r.bytes}`),
      '# HELP gantry_registry_quota_bytes The quota of a repository that has one.',
      '# TYPE gantry_registry_quota_bytes gauge',
    ];
    for (const r of repositories.repositories) {
      const quota = await registry.quotas.quotaFor(r.repository);
      if (quota) lines.push(`gantry_registry_quota_bytes{repository="${r.repository}"} ${quota.maxBytes}`);
    }
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = lines.join('\n') + '\n';
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
