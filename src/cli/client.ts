// The CLI's HTTP client for the platform API. It reads GANTRY_URL and GANTRY_TOKEN (like NOMAD_ADDR
// and NOMAD_TOKEN) and turns API errors into CliErrors carrying the server's message.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  url?: string | undefined;
  token?: string | undefined;
}

export class ApiClient {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(options: ClientOptions = {}) {
    this.url = (options.url ?? process.env.GANTRY_URL ?? 'http://127.0.0.1:7070').replace(/\/+$/, '');
    this.token = options.token ?? process.env.GANTRY_TOKEN;
  }

  get<T>(route: string): Promise<T> {
    return this.request<T>('GET', route);
  }

  post<T>(route: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', route, body);
  }

  put<T>(route: string, body: unknown = {}): Promise<T> {
    return this.request<T>('PUT', route, body);
  }

  delete<T = void>(route: string): Promise<T> {
    return this.request<T>('DELETE', route);
  }

  /** A GET of a text body (a task's log). */
  async getText(route: string): Promise<string> {
    const response = await this.send('GET', route);
    if (!response.ok) throw await this.errorFrom(response);
    return response.text();
  }

  /**
   * A POST answered with JSON lines (`application/x-ndjson`, for progress), each handed to `onLine` as it
   * arrives; an answer that is plain JSON is handed over whole, as one line.
   */
  async postLines(route: string, body: unknown, onLine: (message: Record<string, unknown>) => void): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/x-ndjson, application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(this.url + route, { method: 'POST', headers, body: JSON.stringify(body) });
    } catch (err) {
      throw new CliError(`cannot reach the Gantry server at ${this.url} (${(err as { cause?: Error }).cause?.message ?? (err as Error).message}); is it running? (set GANTRY_URL)`);
    }
    if (!response.ok) throw await this.errorFrom(response);
    if (!(response.headers.get('content-type') ?? '').includes('ndjson')) return onLine((await response.json()) as Record<string, unknown>);
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) onLine(JSON.parse(line) as Record<string, unknown>);
      }
    }
  }

  /** A streaming GET; the caller reads the body. */
  async stream(route: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send('GET', route, undefined, signal);
    if (!response.ok) throw await this.errorFrom(response);
    if (!response.body) throw new CliError(`empty response from ${route}`);
    return response.body;
  }

  private async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await this.send(method, route, body);
    if (!response.ok) throw await this.errorFrom(response);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, route: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.url + route, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = errorCode(err) ?? (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach the Gantry server at ${this.url} (${cause}); is it running? (set GANTRY_URL)`);
    }
  }

  private async errorFrom(response: Response): Promise<CliError> {
    let message = `${response.status} ${response.statusText}`;
    try {
      const json = (await response.json()) as { message?: string };
      if (json.message) message = json.message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401 && !this.token) message += ' (set GANTRY_TOKEN to the admin token)';
    // Bad input exits 2 whether the CLI or the server caught it; everything else the server refused, 1.
    return new CliError(message, response.status === 400 ? 2 : 1);
  }
}

/** The system error code behind a failed fetch (undici wraps it, sometimes in an AggregateError). */
function errorCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code;
}
