// HTTP mode: which route answers a request, from its Host header and its path. Routes are tried in the
// model's order (most specific host and longest path first) and the first that matches wins. Pure.

export interface RouteMatch {
  /** Lower-case host names, no port; empty: any host. */
  hosts: readonly string[];
  /** A path prefix; null: any path. */
  pathPrefix: string | null;
}

/** The Host header as routes name hosts: lower case, without the port (`[::1]` keeps its brackets). */
export function routingHost(hostHeader: string | undefined): string {
  const host = (hostHeader ?? '').trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The path of a request target, without its query (an absolute-form target gives its path too). */
export function routingPath(target: string | undefined): string {
  let path = target ?? '/';
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(path);
  if (scheme !== null) path = path.slice(scheme[0].length);
  const end = path.search(/[?#]/);
  if (end !== -1) path = path.slice(0, end);
  return path.startsWith('/') ? path : `/${path}`;
}

/** `/api` matches `/api`, `/api/` and `/api/users`, not `/apiary`; `/api/` matches what `/api` does below it. */
export function pathMatches(prefix: string | null, path: string): boolean {
  if (prefix === null || prefix === '' || prefix === '/') return true;
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

export function hostMatches(hosts: readonly string[], host: string): boolean {
  return hosts.length === 0 || hosts.includes(host);
}

/** The first of `routes` that answers `host` (as routingHost gives it) and `path`, or undefined. */
export function matchRoute<R extends RouteMatch>(routes: readonly R[], host: string, path: string): R | undefined {
  return routes.find((route) => hostMatches(route.hosts, host) && pathMatches(route.pathPrefix, path));
}
