// /api/v1/registry/policies (retention policies: set, list, remove, run) and /api/v1/registry/prune
// (an ad-hoc policy), with every run's record under /api/v1/registry/retention-runs.
import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Registry } from '../../registry/index.ts';
import type { RetentionPolicy } from '../../registry/retention/policy.ts';
import type { RetentionProgress, RetentionRun } from '../../registry/retention/retention.ts';
import { parsePolicy } from '../../registry/retention/policy.ts';
import { parseDuration } from '../../shared/duration.ts';
import { Invalid } from '../../shared/errors.ts';
import { parseInput } from '../parse.ts';

/** The grace window of a run that names none: blobs pushed within it are not freed yet. */
const DEFAULT_GRACE_MS = 3_600_000;

const runBody = z.object({ dryRun: z.boolean().default(false), grace: z.string().min(1).optional() }).strict();
const pruneBody = z
  .object({
    repo: z.string().min(1).default('**'),
    keepLast: z.number().int().min(0).optional(),
    olderThan: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
    untagged: z.boolean().default(false),
    dryRun: z.boolean().default(false),
    grace: z.string().min(1).optional(),
  })
  .strict();

export function registryRetentionRoutes(registry: Pick<Registry, 'retention'>): Router {
  const router = new Router();
  const { retention } = registry;
  const grace = (text: string | undefined) => (text === undefined ? DEFAULT_GRACE_MS : parseDuration(text, 'grace'));

  router.get('/api/v1/registry/policies', async (ctx) => {
    ctx.body = { policies: await retention.policies() };
  });

  router.put('/api/v1/registry/policies/:name', async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (body.name !== undefined && body.name !== ctx.params.name) throw new Invalid(`the body names policy "${String(body.name)}", the path "${ctx.params.name}"`);
    const { policy, created } = await retention.setPolicy({ ...body, name: ctx.params.name });
    ctx.status = created ? 201 : 200;
    ctx.body = policy;
  });

  router.delete('/api/v1/registry/policies/:name', async (ctx) => {
    await retention.removePolicy(ctx.params.name!);
    ctx.status = 204;
  });

  router.post('/api/v1/registry/policies/:name/run', async (ctx) => {
    const body = parseInput(runBody, ctx.request.body ?? {});
    const policy = await retention.policy(ctx.params.name!);
    await answerRun(ctx, (onProgress) => retention.run(policy, { dryRun: body.dryRun, graceMs: grace(body.grace), trigger: 'api', ...onProgress }));
  });

  router.post('/api/v1/registry/prune', async (ctx) => {
    const body = parseInput(pruneBody, ctx.request.body ?? {});
    const policy: RetentionPolicy = parsePolicy({
      name: 'prune',
      repositories: body.repo,
      tags: body.tag !== undefined ? { include: body.tag } : {},
      rules: {
        ...(body.keepLast !== undefined ? { keepLastPushed: body.keepLast } : {}),
        ...(body.olderThan !== undefined ? { pushedWithinMs: parseDuration(body.olderThan, 'olderThan') } : {}),
      },
      untagged: body.untagged,
    });
    await answerRun(ctx, (onProgress) => retention.run(policy, { dryRun: body.dryRun, graceMs: grace(body.grace), trigger: 'prune', ...onProgress }));
  });

  router.get('/api/v1/registry/retention-runs', async (ctx) => {
    const q = parseInput(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20), policy: z.string().optional() }), ctx.query, 'query');
    ctx.body = { runs: await retention.runs(q.limit, q.policy) };
  });

  return router;
}

/** Progress lines at most this often (and the last of each phase). */
const PROGRESS_EVERY_MS = 100;

/**
 * Answers a retention run. A client that accepts `application/x-ndjson` (the CLI, for its progress bar)
 * gets `{"progress": ...}` lines while the run goes on and `{"result": run}` (or `{"error", "message"}`)
 * last; the others get the run as JSON. A run that fails before its first progress (an unknown
 * repository) is an ordinary error answer either way.
 */
async function answerRun(ctx: Context, start: (options: { onProgress?: (p: RetentionProgress) => void }) => Promise<RetentionRun>): Promise<void> {
  if (!(ctx.get('accept') ?? '').includes('application/x-ndjson')) {
    ctx.body = await start({});
    return;
  }
  const out = new PassThrough();
  let last = 0;
  let began!: () => void;
  const firstProgress = new Promise<void>((resolve) => (began = resolve));
  const running = start({
    onProgress: (progress) => {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS && progress.done !== progress.total) return;
      last = now;
      out.write(`${JSON.stringify({ progress })}\n`);
      began();
    },
  });
  await Promise.race([firstProgress, running]); // a run failing at once answers with its error status
  ctx.type = 'application/x-ndjson';
  ctx.body = out;
  running.then(
    (run) => out.end(`${JSON.stringify({ result: run })}\n`),
    (err: Error & { code?: string }) => out.end(`${JSON.stringify({ error: err.code ?? 'failed', message: err.message })}\n`),
  );
}
