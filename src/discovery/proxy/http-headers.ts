// HTTP mode: the headers that cross the proxy. Hop-by-hop headers (RFC 9110 §7.6.1: Connection, the
// ones it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*) concern one connection and
// are dropped; the X-Forwarded-* headers tell the server who asked and how. As the edge of the cluster the
// proxy appends the client to X-Forwarded-For and sets Host, Proto and Port from what it saw. Pure; the
// headers are Node's raw flat lists ([name, value, name, value, ...]) so case and repeats survive.

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const SET_BY_PROXY = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port']);

export interface Forwarded {
  /** The client's IP. */
  clientAddress: string;
  /** The listener's port. */
  port: number;
  proto: 'http' | 'https';
}

/** Pairs of a raw header list. */
function* pairs(raw: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i + 1 < raw.length; i += 2) yield [raw[i]!, raw[i + 1]!];
}

/** Header names (lower case) a message's Connection header makes hop-by-hop. */
function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (const [name, value] of pairs(raw)) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const token of value.split(',')) if (token.trim() !== '') tokens.add(token.trim().toLowerCase());
  }
  return tokens;
}

function endToEnd(raw: readonly string[], drop: ReadonlySet<string>): string[] {
  const named = connectionTokens(raw);
  const kept: string[] = [];
  for (const [name, value] of pairs(raw)) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !named.has(lower) && !drop.has(lower)) kept.push(name, value);
  }
  return kept;
}

/**
 * The request's headers as the server gets them. `Expect` is dropped (the proxy answered it); a chunked
 * body stays chunked. An upgrade keeps `Upgrade` and says `Connection: Upgrade`.
 */
export function requestHeaders(raw: readonly string[], forwarded: Forwarded, options: { upgrade: boolean } = { upgrade: false }): string[] {
  const headers = endToEnd(raw, new Set([...SET_BY_PROXY, 'expect']));
  const values = (wanted: string): string[] => [...pairs(raw)].filter(([name]) => name.toLowerCase() === wanted).map(([, value]) => value);
  if (values('transfer-encoding').some((value) => /chunked/i.test(value))) headers.push('Transfer-Encoding', 'chunked');
  if (options.upgrade) {
    const upgrade = values('upgrade');
    if (upgrade.length > 0) headers.push('Connection', 'Upgrade', 'Upgrade', upgrade.join(', '));
  }
  const forwardedFor = [...values('x-forwarded-for'), forwarded.clientAddress].join(', ');
  headers.push('X-Forwarded-For', forwardedFor);
  const host = values('host')[0];
  if (host !== undefined) headers.push('X-Forwarded-Host', host);
  headers.push('X-Forwarded-Proto', forwarded.proto, 'X-Forwarded-Port', String(forwarded.port));
  return headers;
}

/** The response's headers as the client gets them (Node's server frames the body itself). */
export function responseHeaders(raw: readonly string[]): string[] {
  return endToEnd(raw, new Set());
}

/** GET, HEAD, OPTIONS, PUT, DELETE (and TRACE): sending them twice does what sending them once does. */
export function isIdempotent(method: string | undefined): boolean {
  return ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'].includes(method ?? '');
}

/** Whether a request announces a body (Content-Length above 0, or Transfer-Encoding). */
export function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}
