// The churn part's steady load: `clients` loops of GET on keep-alive connections (node:http, one request
// at a time each), counting every answer that is not a 2xx and every socket error, each with the time it
// happened, so that errors can be put against the change that caused them. No retries: a client of the
// load balancer sees what the load balancer does.
import http from 'node:http';

export interface LoadFailure {
  /** performance.now() when it was seen. */
  at: number;
  /** `status 503`, `ECONNREFUSED`, `ECONNRESET`, `socket hang up`, ... */
  what: string;
}

export interface LoadResult {
  requests: number;
  failures: LoadFailure[];
  /** Answers by the backend that gave them (its body: `<name>`). */
  servedBy: Map<string, number>;
}

export interface Load {
  result: LoadResult;
  stop(): Promise<LoadResult>;
}

export function steadyLoad(port: number, clients: number): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const result: LoadResult = { requests: 0, failures: [], servedBy: new Map() };
  let stopping = false;
  const fail = (what: string): void => void result.failures.push({ at: performance.now(), what });
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      let settled = false;
      const settle = (failure: string | null): void => {
        if (settled) return;
        settled = true;
        result.requests += 1;
        if (failure !== null) fail(failure);
        resolve();
      };
      const request = http.get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
        let body = '';
        response.setEncoding('latin1');
        response.on('data', (chunk: string) => void (body += chunk));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          if (ok) result.servedBy.set(body.trim(), (result.servedBy.get(body.trim()) ?? 0) + 1);
          settle(ok ? null : `status ${status}`);
        });
        response.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
      });
      request.setTimeout(10_000, () => request.destroy(new Error('no answer in 10 s')));
      request.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
    });
  const loops = Array.from({ length: clients }, async () => {
    while (!stopping) {
      const failuresBefore = result.failures.length;
      await once();
      // A refused connection fails at once: without a pause a client would spin through thousands of
      // refusals while a listener is down. A real client would not retry faster than this either.
      if (result.failures.length > failuresBefore) await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    result,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
