// /api/v1/images: which agents hold which images (as they last reported), and pre-warming an image
// onto agents ahead of a deployment (cluster/master/prewarm.ts).
import Router from '@koa/router';
import { z } from 'zod';
import { parseConstraint, prewarmImage, redactedTask, type Master } from '../../cluster/index.ts';
import type { TokenRecord } from '../../store/index.ts';
import { parseInput } from '../parse.ts';

const prewarmSchema = z
  .object({
    image: z.string().min(1).max(512).regex(/^[^\s]+$/, 'an image reference has no whitespace'),
    agents: z.array(z.string().min(1)).max(100).optional(),
    forcePull: z.boolean().optional(),
  })
  .strict();

export function imageRoutes(master: Master): Router {
  const router = new Router();

  router.get('/api/v1/images', async (ctx) => {
    const holders = new Map<string, Array<{ agentId: string; hostname: string }>>();
    for (const agent of await master.listAgentsWithUsage()) {
      if (agent.state !== 'ready') continue;
      for (const image of agent.images ?? []) {
        let list = holders.get(image);
        if (!list) holders.set(image, (list = []));
        list.push({ agentId: agent.id, hostname: agent.hostname });
      }
    }
    ctx.body = { images: [...holders].sort(([a], [b]) => a.localeCompare(b)).map(([image, agents]) => ({ image, agents })) };
  });

  router.post('/api/v1/images/prewarm', async (ctx) => {
    const body = parseInput(prewarmSchema, ctx.request.body);
    const identity = ctx.state.identity as TokenRecord;
    const result = await prewarmImage(master, {
      image: body.image,
      agents: (body.agents ?? []).map((c) => parseConstraint(c)),
      forcePull: body.forcePull === true,
      requestedBy: identity.name,
    });
    ctx.status = 202;
    ctx.body = {
      image: result.image,
      tasks: result.targets.map((t) => ({ agentId: t.agentId, hostname: t.hostname, task: redactedTask(t.task) })),
      alreadyHeld: result.alreadyHeld,
    };
  });

  return router;
}
