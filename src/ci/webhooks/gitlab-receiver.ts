// POST /hooks/gitlab: checks a GitLab delivery (X-Gitlab-Token against every configured token, the
// event's UUID, JSON), records it under that UUID and hands it on, as GitHubReceiver does for GitHub.
// GitLab signs nothing: its secret token comes as it is in a header, so it is compared in constant
// time, and a delivery without a matching one is answered before anything is recorded.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../shared/clock.ts';
import type { Delivery, DeliveryStore } from '../store/deliveries.ts';
import { DeliveriesInFlight, refusal } from './delivery-intake.ts';
import type { WebhookAnswer, WebhookRequest } from './github-receiver.ts';
import { gitlabMergeRequestRef, gitlabRefDeleted } from './gitlab-payloads.ts';

export interface GitLabReceiverOptions {
  /** The secret tokens GitLab may send (X-Gitlab-Token); several while one is rotated out. */
  tokens: readonly string[];
  deliveries: DeliveryStore;
  clock: Clock;
  /** Called with a recorded delivery that may start runs (a push to a branch or tag, a merge request opened or pushed to). */
  onDelivery(delivery: Delivery): void;
  /** Called with a recorded push that deleted a branch or tag (it starts nothing). */
  onRefDeleted?(delivery: Delivery): void;
}

/**
 * The delivery's key, kept as `gitlab:KEY` so that it never meets GitHub's ids in the store: GitLab's
 * Idempotency-Key when it sends one (17.4 and later: the same on every retry and "Resend request" of
 * an event), else X-Gitlab-Event-UUID (SecureRandom.uuid, which GitLab makes anew for each attempt: a
 * retry from an older GitLab starts its runs again). Both are UUIDs.
 */
const EVENT_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const GITLAB_DELIVERY_PREFIX = 'gitlab:';
/** The merge request actions that bring new code to build; `update` only with new commits (`oldrev`). */
const MERGE_REQUEST_ACTIONS = new Set(['open', 'reopen']);

export class GitLabReceiver {
  /** SHA-256 digests of the tokens: compared digest to digest, so a token's length does not leak. */
  private readonly digests: Buffer[];

  constructor(private readonly options: GitLabReceiverOptions) {
    // An empty token would accept anyone who sends an empty header.
    this.digests = options.tokens.filter((token) => token.length > 0).map(digest);
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
    if (this.digests.length === 0) {
      return refusal(503, 'unavailable', 'GitLab webhooks are not configured: set GANTRY_GITLAB_WEBHOOK_TOKEN (or ci.gitlab.webhookTokens in the config file)');
    }
    const event = request.header('x-gitlab-event');
    if (!event) return refusal(400, 'invalid', 'missing header X-Gitlab-Event: this endpoint takes GitLab webhook deliveries');
    const token = request.header('x-gitlab-token');
    if (!token) return refusal(401, 'unauthorized', 'missing X-Gitlab-Token: set a secret token on the GitLab webhook');
    if (!this.accepted(token)) return refusal(401, 'unauthorized', 'X-Gitlab-Token does not match any configured token');
    const idempotencyKey = request.header('idempotency-key');
    const uuid = idempotencyKey ?? request.header('x-gitlab-event-uuid');
    if (!uuid) return refusal(400, 'invalid', 'missing header X-Gitlab-Event-UUID (GitLab 15 and later send it): it tells deliveries apart');
    if (!EVENT_UUID.test(uuid)) return refusal(400, 'invalid', `${idempotencyKey ? 'Idempotency-Key' : 'X-Gitlab-Event-UUID'} is not a UUID`);
    if (!request.contentType || !/^application\/json\b/i.test(request.contentType)) {
      return refusal(415, 'unsupported_media_type', 'GitLab sends application/json; this body is not');
    }
    const body = request.rawBody.toString('utf8');
    let payload: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      payload = parsed as Record<string, unknown>;
    } catch {
      return refusal(400, 'invalid', 'the body is not a JSON object');
    }

    const deliveryId = GITLAB_DELIVERY_PREFIX + uuid.toLowerCase();
    const repository = stringAt(payload, 'project', 'path_with_namespace');
    const iid = mergeRequestIid(payload);
    const ref = typeof payload.ref === 'string' ? payload.ref : event === 'Merge Request Hook' && iid !== null ? gitlabMergeRequestRef(iid) : null;
    const { outcome, detail, refDeleted } = classify(event, payload);
    const delivery: Delivery = { deliveryId, event, repository, ref, receivedAt: this.options.clock.now().toISOString(), outcome, detail, payload: body };
    const recorded = await this.options.deliveries.record(delivery);
    if (!recorded) return { status: 200, body: { delivery: deliveryId, duplicate: true, message: 'this delivery was received before; nothing is started again' } };
    if (outcome === 'received') this.options.onDelivery(delivery);
    else if (refDeleted) this.options.onRefDeleted?.(delivery);
    return { status: outcome === 'received' ? 202 : 200, body: { delivery: deliveryId, message: detail ?? 'queued' } };
  }

  /** Compares with every token (no early return), so the time taken does not say which one matched. */
  private accepted(token: string): boolean {
    const given = digest(token);
    let matched = false;
    for (const expected of this.digests) matched = timingSafeEqual(given, expected) || matched;
    return matched;
  }
}

/** What becomes of a delivery: `received` (it may start runs) or `ignored`, with why; and whether it deleted a branch or tag. */
function classify(event: string, payload: Record<string, unknown>): { outcome: 'received' | 'ignored'; detail: string | null; refDeleted?: true } {
  if (event === 'Merge Request Hook') {
    const attributes = objectAt(payload, 'object_attributes');
    const action = typeof attributes?.action === 'string' ? attributes.action : '';
    const iid = String(attributes?.iid);
    if (MERGE_REQUEST_ACTIONS.has(action)) return { outcome: 'received', detail: null };
    // `oldrev` comes only with new commits: a title, label or reviewer edit is an update too.
    if (action === 'update' && typeof attributes?.oldrev === 'string' && attributes.oldrev !== '') return { outcome: 'received', detail: null };
    const what = action === 'update' ? 'update without new commits' : action || 'without an action';
    return { outcome: 'ignored', detail: `merge request !${iid} ${what}: only open, reopen and update with new commits start runs` };
  }
  if (event !== 'Push Hook' && event !== 'Tag Push Hook') return { outcome: 'ignored', detail: `event "${event}" starts nothing` };
  const ref = typeof payload.ref === 'string' ? payload.ref : '';
  if (!ref.startsWith('refs/heads/') && !ref.startsWith('refs/tags/')) return { outcome: 'ignored', detail: `ref "${ref}" is neither a branch nor a tag` };
  if (gitlabRefDeleted(payload)) return { outcome: 'ignored', detail: `${ref} was deleted: nothing to build`, refDeleted: true };
  return { outcome: 'received', detail: null };
}

function mergeRequestIid(payload: Record<string, unknown>): number | null {
  const iid = objectAt(payload, 'object_attributes')?.iid;
  return typeof iid === 'number' && Number.isSafeInteger(iid) ? iid : null;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}


function objectAt(object: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = object[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function stringAt(object: Record<string, unknown>, key: string, inner: string): string | null {
  const found = objectAt(object, key)?.[inner];
  return typeof found === 'string' ? found : null;
}
