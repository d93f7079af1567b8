// What the registry's web frontend (src/web/) reads and does, on the platform API: repositories and
// tags sorted and paged by the store, one artifact in detail (manifest, config, layers, history, the
// pull command), and deleting a tag or a manifest (its space is freed at the next collection).
// Callers sign in as the registry knows them: the admin token, or a registry user or robot (Basic), and
// the registry's ACL decides: a repository is listed and shown with `pull`, deleted from with `delete`.
import Router from '@koa/router';
import { z } from 'zod';
import type { Registry } from '../../registry/index.ts';
import type { Context } from 'koa';
import type { RegistryAction, RegistryIdentity } from '../../registry/auth/authorizer.ts';
import { Forbidden, NotFound, Unauthorized } from '../../shared/errors.ts';
import { parseInput } from '../parse.ts';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 1024 * 1024;

const page = { offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(500).default(50), order: z.enum(['asc', 'desc']).default('desc') };
const repositoriesQuery = z.object({ q: z.string().max(255).optional(), sort: z.enum(['name', 'size', 'tags', 'pushed']).default('name'), ...page });
const tagsQuery = z.object({ repository: z.string().min(1), q: z.string().max(128).optional(), sort: z.enum(['name', 'size', 'pushed']).default('pushed'), ...page });
const artifactQuery = z.object({ repository: z.string().min(1), reference: z.string().min(1) });

export function registryBrowseRoutes(registry: Pick<Registry, 'blobs' | 'metadata' | 'quotas' | 'auth' | 'browser'>, registryHost: () => string): Router {
  const router = new Router();
  const { browser } = registry;

  router.use('/api/v1/registry/browse', async (ctx, next) => {
    const identity = await registry.auth.authenticate(ctx.get('authorization') || undefined);
    if (identity.kind === 'anonymous') throw new Unauthorized('sign in with the admin token or a registry user\'s name and password');
    ctx.state.registryIdentity = identity;
    await next();
  });
  const may = async (ctx: Context, repository: string, action: RegistryAction): Promise<void> => {
    const identity = ctx.state.registryIdentity as RegistryIdentity;
    if ((await registry.auth.allowed(identity, repository, [action])).includes(action)) return;
    throw new Forbidden(`${identity.name ?? 'this caller'} may not ${action} in ${repository} (registry ACL: gantry registry acl ls)`);
  };

  router.get('/api/v1/registry/browse/whoami', (ctx) => {
    const identity = ctx.state.registryIdentity as RegistryIdentity;
    ctx.body = { name: identity.name, kind: identity.kind };
  });

  router.get('/api/v1/registry/browse/repositories', async (ctx) => {
    const q = parseInput(repositoriesQuery, ctx.query, 'query');
    const identity = ctx.state.registryIdentity as RegistryIdentity;
    let only: string[] | undefined;
    if (identity.kind !== 'admin') {
      only = [];
      for (const name of await registry.metadata.repositoryNames()) if ((await registry.auth.allowed(identity, name, ['pull'])).length > 0) only.push(name);
    }
    const page = await browser.repositories({ ...(q.q ? { q: q.q } : {}), ...(only ? { only } : {}), sort: q.sort, order: q.order, offset: q.offset, limit: q.limit });
    const items = await Promise.all(page.items.map(async (r) => ({ ...r, quotaBytes: (await registry.quotas.quotaFor(r.repository))?.maxBytes ?? null })));
    ctx.body = { total: page.total, items };
  });

  router.get('/api/v1/registry/browse/tags', async (ctx) => {
    const q = parseInput(tagsQuery, ctx.query, 'query');
    await may(ctx, q.repository, 'pull');
    ctx.body = await browser.tags(q.repository, { ...(q.q ? { q: q.q } : {}), sort: q.sort, order: q.order, offset: q.offset, limit: q.limit });
  });

  router.get('/api/v1/registry/browse/artifact', async (ctx) => {
    const q = parseInput(artifactQuery, ctx.query, 'query');
    await may(ctx, q.repository, 'pull');
    const record = await registry.metadata.getManifest(q.repository, q.reference);
    const manifest = JSON.parse((await registry.blobs.read(record.digest, MAX_MANIFEST_BYTES)).toString('utf8')) as {
      config?: { digest: string; size: number; mediaType?: string };
      layers?: Array<{ digest: string; size: number; mediaType?: string }>;
      manifests?: Array<{ digest: string; size: number; platform?: unknown }>;
    };
    let config: Record<string, unknown> | null = null;
    if (manifest.config?.digest && manifest.config.size <= MAX_CONFIG_BYTES) {
      config = await registry.blobs.read(manifest.config.digest, MAX_CONFIG_BYTES).then(
        (bytes) => JSON.parse(bytes.toString('utf8')) as Record<string, unknown>,
        () => null,
      );
    }
    const tags = (await registry.metadata.tags(q.repository)).filter((t) => t.digest === record.digest).map((t) => t.name);
    const layers = manifest.layers ?? [];
    const size = record.size + (manifest.config?.size ?? 0) + layers.reduce((sum, l) => sum + l.size, 0);
    const reference = q.reference.includes(':') ? `@${record.digest}` : `:${q.reference}`;
    ctx.body = {
      repository: q.repository,
      digest: record.digest,
      mediaType: record.mediaType,
      size,
      pushedAt: record.pushedAt,
      pushedBy: record.pushedBy,
      lastPulledAt: record.lastPulledAt,
      tags,
      layers,
      platforms: manifest.manifests ?? null,
      config,
      history: Array.isArray(config?.history) ? config.history : [],
      pullCommand: `docker pull ${registryHost()}/${q.repository}${reference}`,
      manifest,
    };
  });

  router.delete('/api/v1/registry/browse/tag', async (ctx) => {
    const q = parseInput(z.object({ repository: z.string().min(1), tag: z.string().min(1) }), ctx.query, 'query');
    await may(ctx, q.repository, 'delete');
    if (!(await registry.metadata.deleteTag(q.repository, q.tag))) throw new NotFound(`no tag ${q.tag} in ${q.repository}`);
    ctx.status = 204;
  });

  router.delete('/api/v1/registry/browse/manifest', async (ctx) => {
    const q = parseInput(z.object({ repository: z.string().min(1), digest: z.string().min(1) }), ctx.query, 'query');
    await may(ctx, q.repository, 'delete');
    if (!(await registry.metadata.deleteManifest(q.repository, q.digest))) throw new NotFound(`no manifest ${q.digest} in ${q.repository}`);
    ctx.status = 204;
  });

  return router;
}
