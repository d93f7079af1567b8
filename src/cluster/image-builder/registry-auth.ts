// How the image builder proves who it is to a registry: it answers the registry's challenge (a 401's
// WWW-Authenticate) rather than guessing. `Bearer realm=…,service=…,scope=…` is the Docker token flow:
// one GET of the realm with the Basic credentials, asking at once for every scope the build needs
// (pull on the base repository, pull and push on the target) plus the challenge's own, and the token
// is sent as Bearer until a 401 says it expired. `Basic` is answered with the credentials as they are.
import { Unauthorized, Unavailable } from '../../shared/errors.ts';
import { errorMessage } from './registry-errors.ts';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export interface Credentials {
  username: string;
  password: string;
}

/** `repository:team/web:pull,push`. */
export type Scope = string;

/**
 * Parses the first challenge of a WWW-Authenticate header: the scheme, then `key=value` or
 * `key="quoted"` parameters separated by commas (a quoted value may hold commas, spaces, escapes).
 */
export function parseChallenge(header: string): Challenge | null {
  const match = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*/.exec(header);
  if (!match) return null;
  const params: Record<string, string> = {};
  let at = match[0].length;
  const param = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  while (at < header.length) {
    param.lastIndex = at;
    const found = param.exec(header);
    if (!found) break; // a second challenge or junk: the first one's parameters are what we have
    params[found[1]!.toLowerCase()] = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : (found[3] ?? '');
    at = param.lastIndex;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

export interface AuthOptions {
  credentials: Credentials | undefined;
  /** The scopes every token is asked for. */
  scopes: readonly Scope[];
  timeoutMs: number;
}

/** The Authorization header to send, kept between requests and renewed on a challenge. */
export class RegistryAuth {
  private authorization: string | undefined;

  constructor(private readonly options: AuthOptions) {}

  /** What to send now: nothing until a registry asked. */
  header(): string | undefined {
    return this.authorization;
  }

  /**
   * Answers a 401's challenge: afterwards header() holds what to retry with. Throws Unauthorized when
   * there is no way to answer (no credentials, or a challenge with no scheme we speak); `refused` is
   * the registry's message for the 401.
   */
  async answer(wwwAuthenticate: string | null, refused: string): Promise<void> {
    const challenge = wwwAuthenticate === null ? null : parseChallenge(wwwAuthenticate);
    const credentials = this.options.credentials;
    if (challenge?.scheme === 'bearer') {
      this.authorization = `Bearer ${await this.token(challenge)}`;
      return;
    }
    if (challenge?.scheme === 'basic' || challenge === null) {
      if (!credentials) throw new Unauthorized(`unauthorized: ${refused} (the registry asks for credentials and the build has none)`);
      this.authorization = basicAuthorization(credentials);
      return;
    }
    throw new Unauthorized(`unauthorized: the registry asks for ${challenge.scheme} authentication, which the image builder does not speak`);
  }

  private async token(challenge: Challenge): Promise<string> {
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? '');
    } catch {
      throw new Unauthorized(`unauthorized: the registry's token realm ${JSON.stringify(realm ?? '')} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Unauthorized(`unauthorized: the token realm ${url.href} is not http(s)`);
    if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
    const scopes = new Set<Scope>(this.options.scopes);
    for (const scope of (challenge.params.scope ?? '').split(' ')) if (scope !== '') scopes.add(scope);
    for (const scope of scopes) url.searchParams.append('scope', scope);

    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.credentials) headers.authorization = basicAuthorization(this.options.credentials);
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (err) {
      throw new Unavailable(`the registry's token endpoint ${url.origin}${url.pathname} did not answer: ${causeOf(err)}`);
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new Unauthorized(`unauthorized: ${errorMessage(text) ?? `the token endpoint answered ${response.status}`}`);
    }
    if (!response.ok) throw new Unavailable(`the registry's token endpoint answered ${response.status}: ${errorMessage(text) ?? text.slice(0, 200)}`);
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Unavailable('the registry\'s token endpoint answered something that is not JSON');
    }
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') throw new Unavailable('the registry\'s token endpoint answered no token');
    return token;
  }
}

/** Why fetch failed, from its cause (ECONNREFUSED …) rather than its "fetch failed". */
export function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
