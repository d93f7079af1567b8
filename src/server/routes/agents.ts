// /api/v1/agents (people: list agents, mint join tokens) and /api/v1/agent/... (agents themselves:
// register, poll for orders, report status and output).
import Router from '@koa/router';
import { z } from 'zod';
import type { Master, Registration, RegistryAccess } from '../../cluster/index.ts';
import { newSecret } from '../../shared/ids.ts';
import type { Store } from '../../store/index.ts';
import { requireAdmin, requireAgent, requireJoinToken } from '../auth.ts';
import { parseInput } from '../parse.ts';

const range = z.tuple([z.number().int().min(0), z.number().int().min(0)]);
const resourcesSchema = z
  .object({
    scalars: z.record(z.string(), z.number().min(0)),
    ranges: z.record(z.string(), z.array(range)),
    sets: z.record(z.string(), z.array(z.string())),
    roles: z.record(z.string(), z.string()).optional(),
  })
  .strict();
const attributeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), value: z.string() }),
  z.object({ kind: z.literal('scalar'), value: z.number() }),
  z.object({ kind: z.literal('ranges'), ranges: z.array(range) }),
  z.object({ kind: z.literal('set'), items: z.array(z.string()) }),
]);
const registrationSchema = z
  .object({
    agentId: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
    hostname: z.string().min(1).max(255),
    resources: resourcesSchema,
    attributes: z.record(z.string(), attributeSchema),
    drivers: z.array(z.string()),
    // Absent from an agent older than the field: it allows no named user (tasks naming one go elsewhere).
    taskUsers: z.array(z.string().min(1).max(256)).max(1000).default([]),
    runningTaskIds: z.array(z.string()),
  })
  .strict();
const pollSchema = z.object({ runningTaskIds: z.array(z.string()), waitMs: z.number().int().min(0).max(60_000), killingTaskIds: z.array(z.string()).optional() }).strict();
const diskUsageSchema = z
  .object({
    sandboxesBytes: z.number().int().min(0),
    containersBytes: z.number().int().min(0).nullable(),
    measuredAt: z.iso.datetime(),
  })
  .strict();

const statusSchema = z
  .object({
    taskId: z.string(),
    state: z.enum(['running', 'restarting', 'finished', 'failed', 'killed', 'lost']),
    exitCode: z.number().int().nullable().optional(),
    reason: z.string().max(4000).optional(),
    limits: z.string().max(1000).optional(),
    restarts: z.number().int().min(1).optional(),
    restartAt: z.iso.datetime().optional(),
    address: z.union([z.ipv4(), z.ipv6()]).optional(),
    result: z
      .object({ image: z.string().max(1000).optional(), digest: z.string().max(200).optional(), tags: z.array(z.string().max(200)).max(50).optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((r) => r.state !== 'restarting' || (r.restarts !== undefined && r.restartAt !== undefined), 'a restarting report gives restarts and restartAt');
const probeSchema = z
  .object({
    taskId: z.string(),
    health: z.enum(['healthy', 'unhealthy']).optional(),
    ready: z.boolean().optional(),
    message: z.string().max(4000),
  })
  .strict()
  .refine((r) => r.health !== undefined || r.ready !== undefined, 'a probe report gives health, ready or both');
const usageSchema = z
  .object({
    at: z.iso.datetime(),
    tasks: z.array(z.object({ taskId: z.string(), cpuSeconds: z.number().min(0), memBytes: z.number().int().min(0) }).strict()).max(10_000),
  })
  .strict();
const imagesSchema = z.object({ images: z.array(z.string().min(1).max(1024)).max(100_000) }).strict();
const outputSchema = z
  .object({
    taskId: z.string(),
    from: z.number().int().min(0),
    chunks: z.array(z.object({ stream: z.enum(['stdout', 'stderr']), data: z.base64(), at: z.number().int().nonnegative().optional() }).strict()),
  })
  .strict();

/** `registryAccess` gives registering agents the platform's robot credentials for the bundled registry. */
export function agentRoutes(master: Master, store: Store, registryAccess: () => RegistryAccess | undefined = () => undefined): Router {
  const router = new Router();
  const admin = requireAdmin(store);
  const join = requireJoinToken(store);
  const agent = requireAgent(store);

  router.get('/api/v1/agents', admin, async (ctx) => {
    ctx.body = { agents: await master.listAgentsWithUsage() };
  });

  // Drain: the agent stops its tasks (reported lost: their owners replace them elsewhere) and leaves.
  router.post('/api/v1/agents/:id/drain', admin, async (ctx) => {
    ctx.status = 202;
    ctx.body = await master.drainAgent(ctx.params.id!);
  });

  router.post('/api/v1/agents/join-tokens', admin, async (ctx) => {
    const secret = newSecret('gjt');
    await store.tokens.create('join', 'join token', secret);
    ctx.status = 201;
    ctx.body = { token: secret };
  });

  router.post('/api/v1/agent/register', join, async (ctx) => {
    const registration = parseInput(registrationSchema, ctx.request.body) as Registration;
    const result = await master.register(registration, false);
    // A fresh credential per registration; the previous ones of this agent stop working.
    const agentToken = newSecret('gat');
    await store.tokens.deleteForAgent(result.agentId);
    await store.tokens.create('agent', `agent ${registration.hostname}`, agentToken, result.agentId);
    const registry = registryAccess();
    ctx.body = { ...result, agentToken, ...(registry ? { registry } : {}) };
  });

  router.post('/api/v1/agent/:agentId/poll', agent, async (ctx) => {
    const body = parseInput(pollSchema, ctx.request.body);
    const abort = new AbortController();
    // The response's close, not the request's: a request closes once its body was read, at once here.
    ctx.res.on('close', () => abort.abort());
    ctx.body = { orders: await master.pollOrders(ctx.params.agentId!, body.runningTaskIds, body.waitMs, abort.signal, body.killingTaskIds ?? []) };
  });

  router.post('/api/v1/agent/:agentId/status', agent, async (ctx) => {
    const report = parseInput(statusSchema, ctx.request.body);
    await master.reportStatus(ctx.params.agentId!, report);
    ctx.status = 204;
  });

  // The agent drains itself (it stops with --drain-on-stop): nothing more is placed on it.
  router.post('/api/v1/agent/:agentId/drain', agent, async (ctx) => {
    await master.drainAgent(ctx.params.agentId!);
    ctx.status = 204;
  });

  router.post('/api/v1/agent/:agentId/disk-usage', agent, async (ctx) => {
    await master.reportDiskUsage(ctx.params.agentId!, parseInput(diskUsageSchema, ctx.request.body));
    ctx.status = 204;
  });

  router.post('/api/v1/agent/:agentId/probe', agent, async (ctx) => {
    await master.reportProbe(ctx.params.agentId!, parseInput(probeSchema, ctx.request.body));
    ctx.status = 204;
  });

  router.post('/api/v1/agent/:agentId/usage', agent, async (ctx) => {
    await master.reportUsage(ctx.params.agentId!, parseInput(usageSchema, ctx.request.body));
    ctx.status = 204;
  });

  router.post('/api/v1/agent/:agentId/images', agent, async (ctx) => {
    await master.reportImages(ctx.params.agentId!, parseInput(imagesSchema, ctx.request.body).images);
    ctx.status = 204;
  });

  router.post('/api/v1/agent/:agentId/output', agent, async (ctx) => {
    const batch = parseInput(outputSchema, ctx.request.body);
    await master.appendOutput(ctx.params.agentId!, {
      taskId: batch.taskId,
      from: batch.from,
      chunks: batch.chunks.map((c) => ({ stream: c.stream, data: Buffer.from(c.data, 'base64'), ...(c.at !== undefined && { at: c.at }) })),
    });
    ctx.status = 204;
  });

  return router;
}
