// POST /hooks/github and /hooks/gitlab, answered by Node's HTTP server itself; every other request goes
// on to koa.
//
// Why not a koa route like the rest: GitHub's deliveries are the one request that comes in bursts
// (a push to many repositories, a redelivery of hundreds), and the receiver answers each from one
// thread. Profiled in such a burst, koa's share of a delivery — context objects, the middleware
// chain, the routers' matching, respond() — was a quarter of the thread's time per delivery, as much
// as verifying, parsing and recording it (bench/README.md, CI). The route needs none of it: it reads
// a raw body, has no token to check (the signature is its authentication) and answers JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { WebhookAnswer, WebhookRequest } from '../ci/webhooks/github-receiver.ts';

/** What answers the deliveries of one forge (GitHubReceiver, GitLabReceiver). */
export interface WebhookReceiver {
  receive(request: WebhookRequest): Promise<WebhookAnswer>;
}

/** GitHub sends at most 25 MB (GitLab's default limit is the same). */
const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/** A request's handler; what it returns (a promise) is the end of its work (requests-in-flight.ts). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** `rest` (the koa app's callback) with POST on each of the receivers' paths taken off it. */
export function withWebhooks(receivers: Readonly<Record<string, WebhookReceiver>>, logger: Logger, rest: RequestHandler): RequestHandler {
  return (req, res) => {
    const path = pathOf(req.url);
    const receiver = req.method === 'POST' && Object.hasOwn(receivers, path) ? receivers[path] : undefined;
    if (!receiver) return rest(req, res);
    return receiveDelivery(receiver, req, res).catch((err: unknown) => {
      logger.error({ err, path }, 'a webhook delivery could not be received');
      answer(res, { status: 500, body: { error: 'internal', message: 'internal error; see the server log' } });
    });
  };
}

async function receiveDelivery(receiver: WebhookReceiver, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawBody = await readBody(req);
  if (rawBody === null) {
    // The rest of the body is not read: the connection ends with the answer (Node would otherwise
    // read and discard up to the end of an upload that may never end).
    res.shouldKeepAlive = false;
    res.on('finish', () => req.socket.destroy());
    answer(res, { status: 413, body: { error: 'too_large', message: `the body is larger than ${MAX_WEBHOOK_BYTES} bytes (GitHub and GitLab send at most 25 MB)` } });
    return;
  }
  const contentType = req.headers['content-type'];
  answer(res, await receiver.receive({ header: (name) => headerOf(req, name), contentType, rawBody }));
}

/** The whole body, or null once it passes MAX_WEBHOOK_BYTES (declared or sent). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_WEBHOOK_BYTES) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_WEBHOOK_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(null);
      } else {
        parts.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(parts, total)));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, { status, body }: WebhookAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value || undefined;
}

function pathOf(url: string | undefined): string {
  if (!url) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
