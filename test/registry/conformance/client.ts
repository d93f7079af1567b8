// The suite's HTTP client, as the Go suite's reggie client behaves: paths written with `<name>`,
// `<reference>` and `<digest>` placeholders, the default repository (OCI_NAMESPACE) unless a request
// names another, and no credentials until the registry asks. On a 401, the challenge decides:
//   - `Bearer realm=..,service=..,scope=..`: a token is fetched from the realm with Basic
//     OCI_USERNAME:OCI_PASSWORD (scope: OCI_AUTH_SCOPE when set, else the challenge's), and the request
//     is sent again with `Authorization: Bearer <token>`;
//   - `Basic ...`: the request is sent again with Basic credentials.
// Like Go's net/http, a body goes out as a stream (chunked transfer encoding) and a Content-Length header
// set by a spec is not sent: what the registry sees is the body itself. GET and HEAD send no body.
import { Readable } from 'node:stream';
import { logRequest, logResponse, type DebugSink } from './debug-log.ts';

export interface ClientOptions {
  rootUrl: string;
  defaultName: string;
  username: string;
  password: string;
  authScope: string;
  userAgent: string;
  debug?: DebugSink;
}

export interface RequestTarget {
  /** A repository other than the default one. */
  name?: string;
  reference?: string;
  digest?: string;
}

export interface ErrorInfo {
  code: string;
  message?: string;
  detail?: unknown;
}

export class RegistryRequest {
  readonly headers = new Headers();
  readonly query: Array<[string, string]> = [];
  body: Buffer | undefined;

  constructor(
    readonly method: string,
    readonly url: string,
  ) {}

  setHeader(name: string, value: string): this {
    this.headers.set(name, value);
    return this;
  }

  setQueryParam(name: string, value: string): this {
    const at = this.query.findIndex(([key]) => key === name);
    if (at >= 0) this.query.splice(at, 1);
    this.query.push([name, value]);
    return this;
  }

  setBody(bytes: Buffer): this {
    this.body = bytes;
    return this;
  }

  /** The URL with the query parameters added (sorted by name, as Go's url.Values encodes them). */
  fullUrl(): string {
    if (this.query.length === 0) return this.url;
    const params = new URLSearchParams([...this.query].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return `${this.url}${this.url.includes('?') ? '&' : '?'}${params.toString()}`;
  }
}

export class RegistryResponse {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly headers: Headers,
    readonly body: Buffer,
  ) {}

  /** A response header, '' when absent (Go's Header.Get). */
  header(name: string): string {
    return this.headers.get(name) ?? '';
  }

  /** The path and query of the Location header, to be sent to the registry's root URL again. */
  relativeLocation(): string {
    const location = this.header('Location');
    if (location === '') return '';
    try {
      const url = new URL(location, 'http://relative.invalid');
      return `${url.pathname}${url.search}`;
    } catch {
      return '';
    }
  }

  absoluteLocation(): string {
    return this.header('Location');
  }

  text(): string {
    return this.body.toString('utf8');
  }

  json<T>(): T {
    return JSON.parse(this.text()) as T;
  }

  /** The spec's error body as reggie reads it: invalid JSON or an empty list is an error. */
  errors(): ErrorInfo[] {
    const parsed = this.json<{ errors?: ErrorInfo[] }>();
    if (!Array.isArray(parsed.errors) || parsed.errors.length === 0) throw new Error(`body was valid json but could not be parsed: ${this.text().slice(0, 200)}`);
    return parsed.errors;
  }

  /** For assertion messages: what was asked and what came back. */
  describe(): string {
    const body = this.body.length === 0 ? '' : ` ${this.text().slice(0, 300)}`;
    return `${this.method} ${this.url} → ${this.status}${body}`;
  }
}

const PLACEHOLDERS = /<name>|<reference>|<digest>|<session_id>|\/\/{2,}/;

export class RegistryClient {
  private readonly root: string;

  constructor(private readonly options: ClientOptions) {
    this.root = options.rootUrl.replace(/\/+$/, '');
  }

  get defaultName(): string {
    return this.options.defaultName;
  }

  newRequest(method: string, path: string, target: RequestTarget = {}): RegistryRequest {
    const replacements: Array<[string, string | undefined]> = [
      ['<name>', target.name || this.options.defaultName],
      ['<reference>', target.reference],
      ['<digest>', target.digest],
    ];
    let resolved = path;
    for (const [placeholder, value] of replacements) if (value) resolved = resolved.split(placeholder).join(value);
    return new RegistryRequest(method, `${this.root}/${resolved.replace(/^\/+/, '')}`).setHeader('User-Agent', this.options.userAgent);
  }

  async do(request: RegistryRequest): Promise<RegistryResponse> {
    if (PLACEHOLDERS.test(request.url)) throw new Error(`request is invalid: ${request.url}`);
    const first = await this.send(request, undefined);
    if (first.status !== 401) return first;
    const challenge = first.header('WWW-Authenticate');
    if (challenge === '') return first;
    const scheme = /^\s*(\w+)/.exec(challenge)?.[1]?.toLowerCase();
    if (scheme === 'bearer') return this.send(request, `Bearer ${await this.fetchToken(challenge)}`);
    if (scheme === 'basic') return this.send(request, this.basic());
    throw new Error(`something went wrong with authorization: unknown challenge "${challenge}"`);
  }

  private async fetchToken(challenge: string): Promise<string> {
    const params = challengeParams(challenge);
    const realm = params.get('realm');
    if (!realm) throw new Error(`the Bearer challenge names no realm: ${challenge}`);
    const query = new URLSearchParams();
    const scope = this.options.authScope || params.get('scope');
    if (scope) query.set('scope', scope);
    if (params.get('service')) query.set('service', params.get('service')!);
    const tokenRequest = new RegistryRequest('GET', `${realm}${realm.includes('?') ? '&' : '?'}${query.toString()}`)
      .setHeader('Accept', 'application/json')
      .setHeader('User-Agent', this.options.userAgent);
    if (this.options.username !== '' || this.options.password !== '') tokenRequest.setHeader('Authorization', this.basic());
    const answer = await this.send(tokenRequest, undefined);
    let parsed: { token?: unknown; access_token?: unknown };
    try {
      parsed = answer.json();
    } catch {
      throw new Error(`the token endpoint answered no JSON: ${answer.describe()}`);
    }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') throw new Error(`the token endpoint answered no token: ${answer.describe()}`);
    return token;
  }

  private basic(): string {
    return `Basic ${Buffer.from(`${this.options.username}:${this.options.password}`).toString('base64')}`;
  }

  private async send(request: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    const url = request.fullUrl();
    const headers = new Headers(request.headers);
    // Go's net/http writes the length itself (here: none, the body is streamed); fetch does the same.
    headers.delete('Content-Length');
    if (authorization !== undefined) headers.set('Authorization', authorization);
    const withBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD';
    if (this.options.debug) logRequest(this.options.debug, request.method, url, headers, withBody ? request.body : undefined);
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers, redirect: 'follow' };
    if (withBody) {
      // A fresh stream for each attempt: the 401 retry sends the whole body again.
      init.body = Readable.toWeb(Readable.from([request.body!])) as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
    const res = await fetch(url, init);
    const body = Buffer.from(await res.arrayBuffer());
    if (this.options.debug) logResponse(this.options.debug, res.status, res.headers, body);
    return new RegistryResponse(request.method, url, res.status, res.headers, body);
  }
}

/** `realm="..",service="..",scope=".."` as reggie reads a challenge: every key="value" pair. */
export function challengeParams(challenge: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const match of challenge.matchAll(/([a-zA-Z]+)="(.+?)"/g)) params.set(match[1]!.toLowerCase(), match[2]!);
  return params;
}
