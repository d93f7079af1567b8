// A JSON call to a Gantry server's API as the benches make it: bearer token, JSON body, the answer's
// status, parsed body (text when it is not JSON, for error messages), time and size.

export interface ApiAnswer<T> {
  status: number;
  body: T;
  /** Until the whole body was read. */
  ms: number;
  bytes: number;
}

export async function apiCall<T = unknown>(token: string, url: string, method: string, route: string, body?: unknown): Promise<ApiAnswer<T>> {
  const started = performance.now();
  const response = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text for the error message
  }
  return { status: response.status, body: parsed as T, ms, bytes: Buffer.byteLength(text) };
}
