// POST /hooks/github: checks a GitHub delivery (headers, X-Hub-Signature-256 over the raw body with
// any of the configured secrets, JSON), records it under its delivery id and hands it on. It does no
// build work itself, so it answers in milliseconds, far under GitHub's 10 s limit.
import { Webhooks } from '@octokit/webhooks';
import type { Clock } from '../../shared/clock.ts';
import type { Delivery, DeliveryStore } from '../store/deliveries.ts';
import { DeliveriesInFlight, refusal } from './delivery-intake.ts';

export interface WebhookRequest {
  header(name: string): string | undefined;
  contentType: string | undefined;
  rawBody: Buffer;
}

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface GitHubReceiverOptions {
  secrets: readonly string[];
  deliveries: DeliveryStore;
  clock: Clock;
  /** Called with a recorded delivery that may start runs (a push to a branch or tag, a pull request opened or pushed to). */
  onDelivery(delivery: Delivery): void;
  /** Called with a recorded push that deleted a branch or tag (it starts nothing). */
  onRefDeleted?(delivery: Delivery): void;
}

const ZERO_SHA = /^0+$/;
/** The pull request actions that bring new code to build (GitHub Actions' default for `on: pull_request`). */
const PULL_REQUEST_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

export class GitHubReceiver {
  private readonly verifiers: Webhooks[];

  constructor(private readonly options: GitHubReceiverOptions) {
    this.verifiers = options.secrets.map((secret) => new Webhooks({ secret }));
  }

  /** Deliveries being received right now (the planner waits for a burst to be answered). */
  private readonly inFlight = new DeliveriesInFlight();

  idle(maxWaitMs: number): Promise<void> {
    return this.inFlight.idle(maxWaitMs);
  }

  receive(request: WebhookRequest): Promise<WebhookAnswer> {
    return this.inFlight.around(() => this.receiveOne(request));
  }

  private async receiveOne(request: WebhookRequest): Promise<WebhookAnswer> {
    if (this.verifiers.length === 0) {
      return refusal(503, 'unavailable', 'GitHub webhooks are not configured: set GANTRY_GITHUB_WEBHOOK_SECRET (or ci.webhookSecrets in the config file)');
    }
    const event = request.header('x-github-event');
    const deliveryId = request.header('x-github-delivery');
    if (!event || !deliveryId) {
      return refusal(400, 'invalid', `missing header ${!event ? 'X-GitHub-Event' : 'X-GitHub-Delivery'}: this endpoint takes GitHub webhook deliveries`);
    }
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(deliveryId)) return refusal(400, 'invalid', 'X-GitHub-Delivery is not a delivery id');
    const signature = request.header('x-hub-signature-256');
    if (!signature) return refusal(401, 'unauthorized', 'missing X-Hub-Signature-256: set a secret on the GitHub webhook');
    const body = request.rawBody.toString('utf8');
    if (!(await this.verified(body, signature))) return refusal(401, 'unauthorized', 'the signature does not match the body with any configured secret');
    if (!request.contentType || !/^application\/json\b/i.test(request.contentType)) {
      return refusal(415, 'unsupported_media_type', 'set the webhook content type to application/json');
    }
    let payload: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      payload = parsed as Record<string, unknown>;
    } catch {
      return refusal(400, 'invalid', 'the body is not a JSON object');
    }

    const repository = stringAt(payload, 'repository', 'full_name');
    const pullNumber = typeof payload.number === 'number' ? payload.number : null;
    const ref = typeof payload.ref === 'string' ? payload.ref : event === 'pull_request' && pullNumber !== null ? `refs/pull/${pullNumber}/head` : null;
    const { outcome, detail, refDeleted } = classify(event, payload);
    const delivery: Delivery = { deliveryId, event, repository, ref, receivedAt: this.options.clock.now().toISOString(), outcome, detail, payload: body };
    const recorded = await this.options.deliveries.record(delivery);
    if (!recorded) return { status: 200, body: { delivery: deliveryId, duplicate: true, message: 'this delivery was received before; nothing is started again' } };
    if (outcome === 'received') this.options.onDelivery(delivery);
    else if (refDeleted) this.options.onRefDeleted?.(delivery);
    return { status: outcome === 'received' ? 202 : 200, body: { delivery: deliveryId, message: detail ?? 'queued' } };
  }

  private async verified(body: string, signature: string): Promise<boolean> {
    for (const verifier of this.verifiers) {
      try {
        if (await verifier.verify(body, signature)) return true;
      } catch {
        return false; // a malformed signature header
      }
    }
    return false;
  }
}

/** What becomes of a delivery: `received` (it may start runs) or `ignored`, with why; and whether it deleted a branch or tag. */
function classify(event: string, payload: Record<string, unknown>): { outcome: 'received' | 'ignored'; detail: string | null; refDeleted?: true } {
  if (event === 'ping') return { outcome: 'ignored', detail: 'pong: the webhook reaches Gantry' };
  if (event === 'pull_request') {
    const action = typeof payload.action === 'string' ? payload.action : '';
    if (PULL_REQUEST_ACTIONS.has(action)) return { outcome: 'received', detail: null };
    return { outcome: 'ignored', detail: `pull request #${String(payload.number)} ${action || 'without an action'}: only opened, synchronize and reopened start runs` };
  }
  if (event !== 'push') return { outcome: 'ignored', detail: `event "${event}" starts nothing` };
  const ref = typeof payload.ref === 'string' ? payload.ref : '';
  if (!ref.startsWith('refs/heads/') && !ref.startsWith('refs/tags/')) return { outcome: 'ignored', detail: `ref "${ref}" is neither a branch nor a tag` };
  if (payload.deleted === true || (typeof payload.after === 'string' && ZERO_SHA.test(payload.after))) {
    return { outcome: 'ignored', detail: `${ref} was deleted: nothing to build`, refDeleted: true };
  }
  return { outcome: 'received', detail: null };
}


function stringAt(object: Record<string, unknown>, key: string, inner: string): string | null {
  const value = object[key];
  if (typeof value !== 'object' || value === null) return null;
  const found = (value as Record<string, unknown>)[inner];
  return typeof found === 'string' ? found : null;
}
