// Tag list and catalog with the spec's `n` / `last` paging and `Link: <...>; rel="next"`. The catalog
// shows only the repositories the caller may pull.
import { parsePageQuery, nextLink } from '../protocol/pagination.ts';
import { isAllowed } from './access.ts';
import type { RegistryCall } from './context.ts';

/** Without `n`, and as a cap on it, a page holds at most this many names (a Link says there is more). */
export const MAX_PAGE = 1000;

/** GET /v2/<name>/tags/list?n=&last= */
export async function listTags(call: RegistryCall, name: string): Promise<void> {
  const { ctx, deps } = call;
  const query = parsePageQuery(ctx.query);
  const n = Math.min(query.n ?? MAX_PAGE, MAX_PAGE);
  // n=0 still asks the metadata, so that an unknown repository is NAME_UNKNOWN.
  const page = await deps.metadata.listTags(name, n, query.last);
  const last = page.items[page.items.length - 1];
  if (n > 0 && page.more && last !== undefined) ctx.set('Link', nextLink(`/v2/${name}/tags/list`, { n, last }));
  ctx.body = { name, tags: page.items };
}

/** GET /v2/_catalog?n=&last= */
export async function listCatalog(call: RegistryCall): Promise<void> {
  const { ctx, deps } = call;
  const query = parsePageQuery(ctx.query);
  const n = Math.min(query.n ?? MAX_PAGE, MAX_PAGE);
  const visible: string[] = [];
  let more = false;
  let after = query.last;
  // Read pages until n visible names and one more are found, or the names run out.
  while (n > 0) {
    const page = await deps.metadata.listRepositories(n, after);
    for (const repository of page.items) {
      if (!(await isAllowed(deps.authorizer, call.identity, repository, 'pull'))) continue;
      if (visible.length === n) {
        more = true;
        break;
      }
      visible.push(repository);
    }
    if (more || !page.more) break;
    after = page.items[page.items.length - 1];
  }
  const last = visible[visible.length - 1];
  if (more && last !== undefined) ctx.set('Link', nextLink('/v2/_catalog', { n, last }));
  ctx.body = { repositories: visible };
}
