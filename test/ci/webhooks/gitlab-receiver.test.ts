// The GitLab webhook receiver with GitLab's documented example payloads, over a real SQLite store.
// test/fixtures/gitlab/{push,tag_push,merge_request}.json are the "Payload example" blocks of Push
// events, Tag events and Merge request events in docs.gitlab.com "Webhook events", copied verbatim from
// gitlabhq/gitlabhq doc/user/project/integrations/webhook_events.md (at 017a6c129d6a9e4ad9fec792cd84f88641d7dbfe).
// Variants (a deleted branch, a merge request update, ...) are made from them in the tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { WebhookRequest } from '../../../src/ci/webhooks/github-receiver.ts';
import { GitLabReceiver } from '../../../src/ci/webhooks/gitlab-receiver.ts';
import { DeliveryStore, type Delivery } from '../../../src/ci/store/deliveries.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers/processes.ts';

type Payload = Record<string, unknown>;
const fixture = (name: string): Payload => JSON.parse(readFileSync(new URL(`../../fixtures/gitlab/${name}.json`, import.meta.url), 'utf8')) as Payload;
const PUSH = fixture('push');
const TAG_PUSH = fixture('tag_push');
const MERGE_REQUEST = fixture('merge_request');
const ZERO_SHA = '0'.repeat(40);

/** GitLab's payload for a deleted branch: `after` blank, no checkout_sha, no commits. */
function deletion(example: Payload): Payload {
  return { ...structuredClone(example), after: ZERO_SHA, checkout_sha: null, commits: [], total_commits_count: 0 };
}

/** The merge request example with another action (and `oldrev` when new commits were pushed). */
function mergeRequest(action: string, oldrev?: string): Payload {
  const payload = structuredClone(MERGE_REQUEST);
  const attributes = payload.object_attributes as Payload;
  attributes.action = action;
  if (oldrev) attributes.oldrev = oldrev;
  return payload;
}

const TOKEN = 'glwt-the-current-token';
const OLD_TOKEN = 'an older token, still accepted while GitLab is switched over';
const UUID = '6b2c1f37-8d5a-4c8e-9f2d-1a3b5c7d9e0f';
const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function request(event: string | undefined, eventUuid: string | undefined, payload: unknown, options: { token?: string | null; contentType?: string; idempotencyKey?: string } = {}): WebhookRequest {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  // What GitLab sends (app/services/web_hook_service.rb build_headers).
  const headers: Record<string, string | undefined> = {
    'x-gitlab-event': event,
    'x-gitlab-event-uuid': eventUuid,
    'x-gitlab-token': options.token === null ? undefined : (options.token ?? TOKEN),
    'x-gitlab-instance': 'https://gitlab.example.com',
    'x-gitlab-webhook-uuid': 'f0e1d2c3-b4a5-4968-8776-655443322110',
    'idempotency-key': options.idempotencyKey,
  };
  return { header: (name) => headers[name], contentType: options.contentType ?? 'application/json', rawBody: Buffer.from(body) };
}

describe('GitLab webhook receiver', () => {
  let store: Store;
  let deliveries: DeliveryStore;
  let queued: Delivery[];
  let deleted: Delivery[];
  let receiver: GitLabReceiver;

  beforeEach(async () => {
    store = await openStore({ dataDir: path.join(tempDir('gitlab-webhooks'), 'data') });
    deliveries = new DeliveryStore(store.knex);
    queued = [];
    deleted = [];
    receiver = new GitLabReceiver({
      tokens: [OLD_TOKEN, TOKEN],
      deliveries,
      clock: { now: () => new Date('2026-11-24T12:00:00Z') },
      onDelivery: (d) => queued.push(d),
      onRefDeleted: (d) => deleted.push(d),
    });
  });
  afterEach(() => store.close());

  it('records a branch push once under gitlab:UUID and queues it; a redelivery of the same UUID starts nothing', async () => {
    const first = await receiver.receive(request('Push Hook', UUID, PUSH));
    assert.equal(first.status, 202);
    assert.deepEqual(first.body, { delivery: `gitlab:${UUID}`, message: 'queued' });
    const again = await receiver.receive(request('Push Hook', UUID, PUSH));
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.delivery, `gitlab:${UUID}`);
    const shouted = await receiver.receive(request('Push Hook', UUID.toUpperCase(), PUSH));
    assert.equal(shouted.body.duplicate, true, 'the same UUID in capitals is the same delivery');
    assert.deepEqual(queued.map((d) => d.deliveryId), [`gitlab:${UUID}`]);
    const stored = await deliveries.get(`gitlab:${UUID}`);
    assert.deepEqual(
      [stored?.event, stored?.repository, stored?.ref, stored?.outcome, stored?.receivedAt],
      ['Push Hook', 'mike/diaspora', 'refs/heads/master', 'received', '2026-11-24T12:00:00.000Z'],
    );
    assert.equal(stored?.payload, JSON.stringify(PUSH), 'the body is kept byte for byte');
  });

  it('takes the Idempotency-Key (the same on every retry of an event) over the event UUID (new on each)', async () => {
    const key = '0b7e9a52-3c1d-4f6e-8a2b-9c0d1e2f3a4b';
    const first = await receiver.receive(request('Push Hook', UUID, PUSH, { idempotencyKey: key }));
    assert.deepEqual(first.body, { delivery: `gitlab:${key}`, message: 'queued' });
    const retry = await receiver.receive(request('Push Hook', '5f3c2b1a-0e9d-4c8b-a7f6-e5d4c3b2a190', PUSH, { idempotencyKey: key }));
    assert.equal(retry.body.duplicate, true, 'a retry with a new event UUID is the same delivery');
    assert.equal(queued.length, 1);
    assert.equal((await receiver.receive(request('Push Hook', UUID, PUSH, { idempotencyKey: 'not-a-uuid' }))).status, 400);
  });

  it('keeps its ids apart from GitHub deliveries with the same id', async () => {
    await deliveries.record({ deliveryId: UUID, event: 'push', repository: 'Codertocat/Hello-World', ref: 'refs/heads/main', receivedAt: '2026-11-24T11:00:00.000Z', outcome: 'processed', detail: null, payload: '{}' });
    assert.equal((await receiver.receive(request('Push Hook', UUID, PUSH))).status, 202);
    assert.equal(queued.length, 1);
  });

  it('queues each delivery of a burst once, also a UUID sent twice at the same moment', async () => {
    const ids = [1, 2, 3, 2, 4, 1].map(uuid);
    const answers = await Promise.all(ids.map((id) => receiver.receive(request('Push Hook', id, PUSH))));
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 202, 200, 202, 200]);
    assert.deepEqual(queued.map((d) => d.deliveryId).sort(), [1, 2, 3, 4].map((n) => `gitlab:${uuid(n)}`));
  });

  it('accepts every configured token (rotation)', async () => {
    assert.equal((await receiver.receive(request('Push Hook', uuid(1), PUSH, { token: OLD_TOKEN }))).status, 202);
    assert.equal((await receiver.receive(request('Push Hook', uuid(2), PUSH, { token: TOKEN }))).status, 202);
    assert.equal(queued.length, 2);
  });

  it('refuses a wrong token with 401 and records nothing', async () => {
    for (const [n, token] of [[1, 'not the token'], [2, `${TOKEN}x`], [3, TOKEN.slice(0, -1)], [4, OLD_TOKEN.toUpperCase()]] as const) {
      const answer = await receiver.receive(request('Push Hook', uuid(n), PUSH, { token }));
      assert.equal(answer.status, 401, token);
      assert.deepEqual(answer.body, { error: 'unauthorized', message: 'X-Gitlab-Token does not match any configured token' });
      assert.equal(await deliveries.get(`gitlab:${uuid(n)}`), null);
    }
    assert.deepEqual(await deliveries.list(10), [], 'nothing recorded');
    assert.deepEqual(queued, []);
  });

  it('queues a tag push', async () => {
    assert.equal((await receiver.receive(request('Tag Push Hook', UUID, TAG_PUSH))).status, 202);
    const stored = await deliveries.get(`gitlab:${UUID}`);
    assert.deepEqual([stored?.event, stored?.repository, stored?.ref], ['Tag Push Hook', 'jsmith/example', 'refs/tags/v1.0.0']);
    assert.equal(queued.length, 1);
  });

  it('queues a merge request opened, under the ref GitLab keeps its head at', async () => {
    const answer = await receiver.receive(request('Merge Request Hook', UUID, MERGE_REQUEST));
    assert.equal(answer.status, 202);
    const stored = await deliveries.get(`gitlab:${UUID}`);
    assert.deepEqual(
      [stored?.event, stored?.repository, stored?.ref, stored?.outcome],
      ['Merge Request Hook', 'gitlabhq/gitlab-test', 'refs/merge-requests/1/head', 'received'],
    );
    assert.deepEqual(queued.map((d) => d.deliveryId), [`gitlab:${UUID}`]);
  });

  it('queues a merge request reopened or updated with new commits (oldrev), and ignores an update without them', async () => {
    assert.equal((await receiver.receive(request('Merge Request Hook', uuid(1), mergeRequest('reopen')))).status, 202);
    assert.equal((await receiver.receive(request('Merge Request Hook', uuid(2), mergeRequest('update', '95790bf891e76fee5e1747ab589903a6a1f80f22')))).status, 202);
    const edited = await receiver.receive(request('Merge Request Hook', uuid(3), mergeRequest('update')));
    assert.equal(edited.status, 200);
    assert.equal(edited.body.message, 'merge request !1 update without new commits: only open, reopen and update with new commits start runs');
    assert.deepEqual(queued.map((d) => d.deliveryId), [`gitlab:${uuid(1)}`, `gitlab:${uuid(2)}`]);
    assert.equal((await deliveries.get(`gitlab:${uuid(3)}`))?.outcome, 'ignored');
  });

  for (const action of ['close', 'merge', 'approved', 'unapproved', 'approval', 'unapproval']) {
    it(`records a merge request ${action} as ignored`, async () => {
      const answer = await receiver.receive(request('Merge Request Hook', UUID, mergeRequest(action)));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.message, `merge request !1 ${action}: only open, reopen and update with new commits start runs`);
      assert.deepEqual(queued, []);
      assert.equal((await deliveries.get(`gitlab:${UUID}`))?.outcome, 'ignored');
    });
  }

  it('answers a deleted branch or tag with 200, starts nothing and reports the deletion', async () => {
    const branch = await receiver.receive(request('Push Hook', uuid(1), deletion(PUSH)));
    assert.equal(branch.status, 200);
    assert.equal(branch.body.message, 'refs/heads/master was deleted: nothing to build');
    const tag = await receiver.receive(request('Tag Push Hook', uuid(2), deletion(TAG_PUSH)));
    assert.equal(tag.body.message, 'refs/tags/v1.0.0 was deleted: nothing to build');
    assert.deepEqual(queued, []);
    assert.deepEqual(deleted.map((d) => d.deliveryId), [`gitlab:${uuid(1)}`, `gitlab:${uuid(2)}`]);
    assert.equal((await deliveries.get(`gitlab:${uuid(1)}`))?.outcome, 'ignored');
  });

  it('also takes a push whose checkout_sha is null as a deletion (GitLab found no commit to check out)', async () => {
    const answer = await receiver.receive(request('Tag Push Hook', UUID, { ...TAG_PUSH, checkout_sha: null }));
    assert.equal(answer.status, 200);
    assert.equal(deleted.length, 1);
  });

  it('records other events and refs as ignored, saying why', async () => {
    const note = await receiver.receive(request('Note Hook', uuid(1), { object_kind: 'note', project: PUSH.project }));
    assert.deepEqual([note.status, note.body.message], [200, 'event "Note Hook" starts nothing']);
    const odd = await receiver.receive(request('Push Hook', uuid(2), { ...PUSH, ref: 'refs/notes/commits' }));
    assert.deepEqual([odd.status, odd.body.message], [200, 'ref "refs/notes/commits" is neither a branch nor a tag']);
    assert.deepEqual(queued, []);
    assert.deepEqual(deleted, []);
    assert.equal((await deliveries.get(`gitlab:${uuid(1)}`))?.repository, 'mike/diaspora');
  });

  const refusals: Array<[string, () => WebhookRequest, number, RegExp]> = [
    ['a missing event header', () => request(undefined, UUID, PUSH), 400, /X-Gitlab-Event\b/],
    ['a missing token', () => request('Push Hook', UUID, PUSH, { token: null }), 401, /missing X-Gitlab-Token/],
    ['an empty token', () => request('Push Hook', UUID, PUSH, { token: '' }), 401, /missing X-Gitlab-Token/],
    ['a missing event UUID', () => request('Push Hook', undefined, PUSH), 400, /missing header X-Gitlab-Event-UUID/],
    ['a malformed event UUID', () => request('Push Hook', 'd-1', PUSH), 400, /X-Gitlab-Event-UUID is not a UUID/],
    ['a UUID with more after it', () => request('Push Hook', `${UUID}/../x`, PUSH), 400, /not a UUID/],
    ['a form-encoded body', () => request('Push Hook', UUID, `payload=${encodeURIComponent(JSON.stringify(PUSH))}`, { contentType: 'application/x-www-form-urlencoded' }), 415, /application\/json/],
    ['a body that is not JSON', () => request('Push Hook', UUID, 'not json'), 400, /not a JSON object/],
    ['a JSON array', () => request('Push Hook', UUID, [PUSH]), 400, /not a JSON object/],
  ];
  for (const [what, make, status, message] of refusals) {
    it(`refuses ${what} with ${status} and records nothing`, async () => {
      const answer = await receiver.receive(make());
      assert.equal(answer.status, status);
      assert.match(String(answer.body.message), message);
      assert.equal(answer.body.error, status === 401 ? 'unauthorized' : status === 415 ? 'unsupported_media_type' : 'invalid');
      assert.deepEqual(await deliveries.list(10), []);
      assert.deepEqual(queued, []);
    });
  }

  it('answers 503 with what to set when no token is configured (an empty one counts as none)', async () => {
    for (const tokens of [[], ['']]) {
      const unconfigured = new GitLabReceiver({ tokens, deliveries, clock: { now: () => new Date() }, onDelivery: () => assert.fail() });
      const answer = await unconfigured.receive(request('Push Hook', UUID, PUSH, { token: '' }));
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error, 'unavailable');
      assert.match(String(answer.body.message), /GANTRY_GITLAB_WEBHOOK_TOKEN.*ci\.gitlab\.webhookTokens/);
    }
  });

  it('is idle once every delivery being received has been answered', async () => {
    const order: string[] = [];
    await receiver.idle(10_000).then(() => order.push('idle before anything'));
    const burst = [1, 2].map((n) => receiver.receive(request('Push Hook', uuid(n), PUSH)).then(() => order.push(`answered ${n}`)));
    const idle = receiver.idle(10_000).then(() => order.push('idle'));
    await Promise.all([...burst, idle]);
    assert.deepEqual(order, ['idle before anything', 'answered 1', 'answered 2', 'idle']);
  });
});
