// Mounts the platform API's routers, default deny: every route needs an admin token unless its router
// is mounted with `public: 'why'`. A request no route answers (an unknown path, a method a path does not
// have) needs the admin token too, so an anonymous caller gets 401 and never learns what exists (404).
// The guard goes into each guarded router's own chain (it runs only when one of its routes matches),
// so where a router is mounted decides nothing, and a new router is guarded unless it says otherwise.
import Router from '@koa/router';
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import { isAdminGuard } from './auth.ts';

export interface Mount {
  router: Router;
  /** Why anyone may call these routes without the admin token; without it, they need the token. */
  public?: string;
}

/** A route of the app as mounted (HEAD goes with GET and is not listed). */
export interface MountedRoute {
  readonly method: string;
  readonly path: string;
  /** Why anyone may call it; absent, it needs the admin token. */
  readonly public?: string;
}

type Guard = (ctx: Context, next: Next) => Promise<void>;

/** Mounts each router on the app, guarded by `admin` unless public; returns the routes mounted. */
export function mountRoutes(app: Koa, admin: Guard, mounts: readonly Mount[]): readonly MountedRoute[] {
  const mounted: MountedRoute[] = [];
  for (const mount of mounts) {
    const router = mount.public === undefined ? new Router().use(admin).use(mount.router.routes()) : mount.router;
    app.use(router.routes());
    for (const layer of router.stack) {
      // A public router's route can still guard itself with requireAdmin (the agents' router: people's routes beside the agents').
      const isPublic = mount.public !== undefined && !layer.stack.some(isAdminGuard);
      for (const method of layer.methods) {
        if (method === 'HEAD' && layer.methods.includes('GET')) continue;
        mounted.push(Object.freeze({ method, path: String(layer.path), ...(isPublic ? { public: mount.public } : {}) }));
      }
    }
  }
  // Whatever no route answered: the admin token first, then the 404 (errors.ts).
  app.use(admin);
  return Object.freeze(mounted);
}
