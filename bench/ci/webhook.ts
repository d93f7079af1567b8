// GitHub push deliveries as GitHub sends them: a real push payload (@octokit/webhooks-examples) with the
// benchmark's repository, ref and commits in it, signed over the raw body with HMAC-SHA256
// (X-Hub-Signature-256) and HMAC-SHA1 (X-Hub-Signature, which GitHub still sends and Buildbot checks),
// X-GitHub-Event and a unique X-GitHub-Delivery; posted one at a time with node:http, in bursts with
// the lean client of raw-http-client.ts.
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import { postBytes, RawConnection } from './raw-http-client.ts';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
const PUSH_EXAMPLE = examples.find((e) => e.name === 'push')!.examples.find((e) => e.ref === 'refs/heads/master' && e.deleted === false)!;
const ZERO = '0'.repeat(40);

export interface PushFacts {
  fullName: string;
  cloneUrl: string;
  ref: string;
  before: string | null;
  after: string;
  /** A deleted ref: `deleted: true`, `after` all zeros. */
  deleted?: boolean;
}

/** The JSON body of a push delivery (about 7.7 KB, like GitHub's). */
export function pushBody(facts: PushFacts): string {
  const example = structuredClone(PUSH_EXAMPLE) as Record<string, any>;
  const [owner, name] = facts.fullName.split('/');
  const after = facts.deleted ? ZERO : facts.after;
  Object.assign(example.repository, { name, full_name: facts.fullName, clone_url: facts.cloneUrl, html_url: `https://github.com/${facts.fullName}` });
  example.repository.owner.login = owner;
  Object.assign(example, {
    ref: facts.ref,
    before: facts.before ?? ZERO,
    after,
    created: facts.before === null,
    deleted: facts.deleted === true,
    forced: false,
  });
  if (example.head_commit) example.head_commit.id = after;
  for (const commit of example.commits ?? []) commit.id = after;
  return JSON.stringify(example);
}

export function sign(body: string, secret: string, algorithm: 'sha256' | 'sha1' = 'sha256'): string {
  return `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`;
}

export interface Delivery {
  id: string;
  event: string;
  body: string;
}

/** The two signature headers GitHub sends with a delivery. */
export interface Signatures {
  sha256: string;
  sha1: string;
}

export function signatures(d: Delivery, secret: string): Signatures {
  return { sha256: sign(d.body, secret), sha1: sign(d.body, secret, 'sha1') };
}

export function delivery(body: string, event = 'push', id: string = randomUUID()): Delivery {
  return { id, event, body };
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** From writing the request to the last byte of the answer (ms). */
  ms: number;
  /** Date.now() just before the request was written. */
  sentAt: number;
}

/** Posts one delivery to `endpoint` (Gantry: http://HOST/hooks/github). */
export function post(endpoint: string, secret: string, d: Delivery, agent: http.Agent, signed: Signatures = signatures(d, secret)): Promise<Answer> {
  const target = new URL(endpoint);
  const body = Buffer.from(d.body);
  return new Promise((resolve, reject) => {
    const sentAt = Date.now();
    const started = performance.now();
    const request = http.request(
      target,
      {
        method: 'POST',
        agent,
        headers: { ...deliveryHeaders(d, signed), 'content-length': String(body.length) },
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (c: Buffer) => parts.push(c));
        response.on('end', () => {
          const elapsed = performance.now() - started;
          resolve({ status: response.statusCode ?? 0, body: parseJsonObject(Buffer.concat(parts).toString('utf8')), ms: elapsed, sentAt });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The headers GitHub sends with a delivery. */
function deliveryHeaders(d: Delivery, signed: Signatures): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/bench',
    'x-github-event': d.event,
    'x-github-delivery': d.id,
    'x-github-hook-id': '1',
    'x-hub-signature-256': signed.sha256,
    'x-hub-signature': signed.sha1,
  };
}

/**
 * Posts every delivery, `concurrency` at a time, each worker on a keep-alive connection of its own
 * (raw-http-client.ts). The requests — signatures included — are made before the clock starts:
 * GitHub prepares and signs on its own machines, and the client shares this machine's two cores with
 * the server it measures.
 */
export async function burst(endpoint: string, secret: string, deliveries: readonly Delivery[], concurrency: number): Promise<{ answers: Answer[]; wallMs: number }> {
  const target = new URL(endpoint);
  const requests = deliveries.map((d) => postBytes(target, deliveryHeaders(d, signatures(d, secret)), Buffer.from(d.body)));
  const answers: Answer[] = new Array(deliveries.length);
  const connections = Array.from({ length: Math.min(concurrency, deliveries.length) }, () => new RawConnection(target));
  let next = 0;
  const started = performance.now();
  const worker = async (connection: RawConnection): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      const answer = await connection.send(requests[i]!);
      answers[i] = { status: answer.status, body: parseJsonObject(answer.body), ms: answer.ms, sentAt: answer.sentAt };
    }
  };
  try {
    await Promise.all(connections.map(worker));
  } finally {
    for (const connection of connections) connection.close();
  }
  return { answers, wallMs: performance.now() - started };
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {}; // not JSON: leave it empty
  }
}
