// /api/v1/registry/users and /api/v1/registry/acl: who may use the bundled registry, and for what.
// Admin only (app.ts mounts them guarded). Passwords and robot tokens come in over the API and go
// to the store only as bcrypt hashes; a robot's token is in the creation answer and nowhere else.
import Router from '@koa/router';
import { z } from 'zod';
import type { Registry } from '../../registry/index.ts';
import { PLATFORM_ROBOT } from '../../registry/index.ts';
import { Conflict, NotFound } from '../../shared/errors.ts';
import { parseInput } from '../parse.ts';

const newAccount = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), name: z.string(), password: z.string(), groups: z.array(z.string()).default([]) }).strict(),
  z.object({ kind: z.literal('robot'), name: z.string(), groups: z.array(z.string()).default([]) }).strict(),
]);

const aclRule = z
  .object({
    repository: z.string().min(1),
    subject: z.string().min(1),
    /** An empty list is a real rule: it denies. */
    actions: z.array(z.enum(['pull', 'push', 'delete'])),
  })
  .strict();

const aclKey = z.object({ repository: z.string().min(1), subject: z.string().min(1) });

export function registryAccessRoutes(registry: Pick<Registry, 'auth'>): Router {
  const router = new Router();
  const { users, acl } = registry.auth;

  router.get('/api/v1/registry/users', async (ctx) => {
    ctx.body = { users: await users.list() };
  });

  router.post('/api/v1/registry/users', async (ctx) => {
    const input = parseInput(newAccount, ctx.request.body);
    const added = await users.add(input.kind === 'user' ? input : { kind: 'robot', name: input.name, groups: input.groups });
    ctx.status = 201;
    ctx.body = added;
  });

  router.delete('/api/v1/registry/users/:name', async (ctx) => {
    const name = ctx.params.name!;
    if (name === PLATFORM_ROBOT) {
      throw new Conflict(`"${name}" is the platform's own robot (agents pull and pipelines push with it); it cannot be removed`);
    }
    if (!(await users.remove(name))) throw new NotFound(`registry user "${name}" is not known`);
    ctx.status = 204;
  });

  router.get('/api/v1/registry/acl', async (ctx) => {
    ctx.body = { rules: await acl.list() };
  });

  // One rule per (repository glob, subject): PUT creates or replaces it.
  router.put('/api/v1/registry/acl', async (ctx) => {
    const rule = parseInput(aclRule, ctx.request.body);
    ctx.body = await acl.set({ repositoryGlob: rule.repository, subject: rule.subject, actions: rule.actions });
  });

  // The glob holds slashes and stars, so the rule is named in the query, not the path.
  router.delete('/api/v1/registry/acl', async (ctx) => {
    const key = parseInput(aclKey, ctx.query, 'query');
    if (!(await acl.remove(key.repository, key.subject))) {
      throw new NotFound(`no ACL rule for subject "${key.subject}" on "${key.repository}"`);
    }
    ctx.status = 204;
  });

  return router;
}
