// The webhook receiver with real GitHub example payloads (@octokit/webhooks-examples), signed as GitHub
// signs them (HMAC-SHA256 of the raw body, X-Hub-Signature-256), over a real SQLite store.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import { GitHubReceiver, type WebhookRequest } from '../../../src/ci/webhooks/github-receiver.ts';
import { DeliveryStore } from '../../../src/ci/store/deliveries.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { testDatabases } from '../../helpers/databases.ts';
import { tempDir } from '../../helpers/processes.ts';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
const exampleOf = (event: string, pick: (e: Record<string, unknown>) => boolean) => examples.find((e) => e.name === event)!.examples.find(pick)!;
const BRANCH_PUSH = exampleOf('push', (e) => e.ref === 'refs/heads/master' && e.deleted === false);
const TAG_PUSH = exampleOf('push', (e) => e.ref === 'refs/tags/simple-tag' && e.deleted === false);
const DELETED = exampleOf('push', (e) => e.deleted === true);
const PING = examples.find((e) => e.name === 'ping')!.examples[0]!;

const SECRET = 'It is a secret to everybody';
const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function request(event: string | undefined, delivery: string | undefined, payload: unknown, options: { signature?: string | null; contentType?: string; secret?: string } = {}): WebhookRequest {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string | undefined> = {
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-hub-signature-256': options.signature === null ? undefined : (options.signature ?? sign(body, options.secret)),
  };
  return { header: (name) => headers[name], contentType: options.contentType ?? 'application/json', rawBody: Buffer.from(body) };
}

describe('GitHub webhook receiver', () => {
  let store: Store;
  let deliveries: DeliveryStore;
  let queued: string[];
  let receiver: GitHubReceiver;

  beforeEach(async () => {
    store = await openStore({ dataDir: path.join(tempDir('webhooks'), 'data') });
    deliveries = new DeliveryStore(store.knex);
    queued = [];
    receiver = new GitHubReceiver({ secrets: ['an older secret', SECRET], deliveries, clock: { now: () => new Date('2026-11-24T12:00:00Z') }, onDelivery: (d) => queued.push(d.deliveryId) });
  });
  afterEach(() => store.close());

  it('records a signed branch push once and queues it; a redelivery starts nothing', async () => {
    const first = await receiver.receive(request('push', 'd-1', BRANCH_PUSH));
    assert.equal(first.status, 202);
    const again = await receiver.receive(request('push', 'd-1', BRANCH_PUSH));
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.deepEqual(queued, ['d-1']);
    const stored = await deliveries.get('d-1');
    assert.deepEqual([stored?.event, stored?.repository, stored?.ref, stored?.outcome], ['push', 'Codertocat/Hello-World', 'refs/heads/master', 'received']);
    assert.equal(stored?.payload, JSON.stringify(BRANCH_PUSH), 'the body is kept byte for byte');
  });

  it('in a burst (recorded together), queues each delivery once, also one sent twice at the same moment', async () => {
    const ids = ['b-1', 'b-2', 'b-3', 'b-2', 'b-4', 'b-1'];
    const answers = await Promise.all(ids.map((id) => receiver.receive(request('push', id, BRANCH_PUSH))));
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 202, 200, 202, 200]);
    assert.deepEqual([...queued].sort(), ['b-1', 'b-2', 'b-3', 'b-4']);
    const later = await Promise.all(['b-3', 'b-5'].map((id) => receiver.receive(request('push', id, BRANCH_PUSH))));
    assert.deepEqual(later.map((a) => a.status), [200, 202], 'recorded before → duplicate; new → queued');
  });

  it('deliveries that arrive while an insert waits for the store go into one next insert (group commit)', async () => {
    const inserts: string[] = [];
    const onQuery = (q: { sql: string }): void => {
      if (/^insert into\W+ci_deliveries\b/i.test(q.sql)) inserts.push(q.sql);
    };
    store.knex.on('query', onQuery);
    // The store's one connection is busy (another writer's transaction) while a burst arrives over
    // HTTP: each delivery in a turn of the event loop of its own.
    let release: (() => void) | undefined;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const busy = store.knex.transaction(async () => {
      holding();
      return new Promise<void>((resolve) => (release = resolve));
    });
    try {
      // The transaction holds the connection only once its callback runs (the pool hands it over
      // asynchronously): on a busy machine that can take longer than the burst below.
      await held;
      const ids = [...Array.from({ length: 20 }, (_, i) => `g-${i}`), 'g-2'];
      const answers: Array<Promise<{ status: number }>> = [];
      for (const id of ids) {
        answers.push(receiver.receive(request('push', id, BRANCH_PUSH)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      release!();
      await busy;
      const statuses = (await Promise.all(answers)).map((a) => a.status);
      assert.deepEqual(statuses, [...Array(20).fill(202), 200], 'each queued once; the second g-2 is a redelivery');
      assert.equal(inserts.length, 2, 'the first delivery, then all that came while it waited');
      assert.equal(queued.length, 20);
    } finally {
      release?.();
      store.knex.off('query', onQuery);
    }
  });

  // The planner waits on idle() so that a burst is answered before its git work runs beside it.
  it('is idle once every delivery being received has been answered, and says so at once when none is', async () => {
    const order: string[] = [];
    await receiver.idle(10_000).then(() => order.push('idle before anything'));
    const burst = ['i-1', 'i-2', 'i-3'].map((id) => receiver.receive(request('push', id, BRANCH_PUSH)).then(() => order.push(`answered ${id}`)));
    const idle = receiver.idle(10_000).then(() => order.push('idle'));
    await Promise.all([...burst, idle]);
    assert.deepEqual(order, ['idle before anything', 'answered i-1', 'answered i-2', 'answered i-3', 'idle']);
  });

  it('gives up waiting for idle after the longest delay it was given', async () => {
    let release!: () => void;
    const slowStore = Object.create(deliveries) as DeliveryStore;
    slowStore.record = async (d) => {
      await new Promise<void>((r) => (release = r));
      return deliveries.record(d);
    };
    const slow = new GitHubReceiver({ secrets: [SECRET], deliveries: slowStore, clock: { now: () => new Date() }, onDelivery: () => undefined });
    const answer = slow.receive(request('push', 's-1', BRANCH_PUSH));
    const waited = Date.now();
    await slow.idle(100);
    assert.ok(Date.now() - waited >= 90, 'waited for the delivery in flight, up to the limit');
    release();
    assert.equal((await answer).status, 202);
  });

  it('queues a tag push', async () => {
    assert.equal((await receiver.receive(request('push', 'd-tag', TAG_PUSH))).status, 202);
    assert.deepEqual(queued, ['d-tag']);
  });

  it('accepts any configured secret (rotation)', async () => {
    assert.equal((await receiver.receive(request('push', 'd-old', BRANCH_PUSH, { secret: 'an older secret' }))).status, 202);
  });

  it('answers ping and a deleted ref with 200 and starts nothing', async () => {
    const ping = await receiver.receive(request('ping', 'd-ping', PING));
    assert.equal(ping.status, 200);
    assert.match(String(ping.body.message), /pong/);
    const deleted = await receiver.receive(request('push', 'd-del', DELETED));
    assert.equal(deleted.status, 200);
    assert.match(String(deleted.body.message), /was deleted: nothing to build/);
    assert.deepEqual(queued, []);
    assert.equal((await deliveries.get('d-del'))?.outcome, 'ignored');
  });

  const refusals: Array<[string, () => WebhookRequest, number, RegExp]> = [
    ['a bad signature', () => request('push', 'd-x', BRANCH_PUSH, { signature: sign('{}') }), 401, /does not match/],
    ['a missing signature', () => request('push', 'd-x', BRANCH_PUSH, { signature: null }), 401, /missing X-Hub-Signature-256/],
    ['a malformed signature', () => request('push', 'd-x', BRANCH_PUSH, { signature: 'sha1=abc' }), 401, /does not match/],
    ['the wrong secret', () => request('push', 'd-x', BRANCH_PUSH, { secret: 'not the secret at all' }), 401, /does not match/],
    ['a missing event header', () => request(undefined, 'd-x', BRANCH_PUSH), 400, /X-GitHub-Event/],
    ['a missing delivery header', () => request('push', undefined, BRANCH_PUSH), 400, /X-GitHub-Delivery/],
    ['a form-encoded body', () => request('push', 'd-x', `payload=${encodeURIComponent(JSON.stringify(BRANCH_PUSH))}`, { contentType: 'application/x-www-form-urlencoded' }), 415, /application\/json/],
    ['a body that is not JSON', () => request('push', 'd-x', 'not json'), 400, /not a JSON object/],
  ];
  for (const [what, make, status, message] of refusals) {
    it(`refuses ${what} with ${status} and records nothing`, async () => {
      const answer = await receiver.receive(make());
      assert.equal(answer.status, status);
      assert.match(String(answer.body.message), message);
      assert.equal(await deliveries.get('d-x'), null);
      assert.deepEqual(queued, []);
    });
  }

  it('answers 503 with what to set when no secret is configured', async () => {
    const unconfigured = new GitHubReceiver({ secrets: [], deliveries, clock: { now: () => new Date() }, onDelivery: () => assert.fail() });
    const answer = await unconfigured.receive(request('push', 'd-x', BRANCH_PUSH));
    assert.equal(answer.status, 503);
    assert.match(String(answer.body.message), /GANTRY_GITHUB_WEBHOOK_SECRET/);
  });
});

// The insert is written out by hand (deliveries.ts): the same text must hold on both databases.
for (const database of testDatabases()) {
  describe(`delivery store on ${database.name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await openStore(await database.prepare());
    });
    afterEach(() => store.close());

    const delivery = (deliveryId: string, payload: unknown) => ({
      deliveryId, event: 'push', repository: 'Codertocat/Hello-World', ref: 'refs/heads/master',
      receivedAt: '2026-11-24T12:00:00.000Z', outcome: 'received' as const, detail: null, payload: JSON.stringify(payload),
    });

    it('records each id once, in one batch and across batches, and keeps the payload byte for byte', async () => {
      const deliveries = new DeliveryStore(store.knex);
      const first = await Promise.all(['p-1', 'p-2', 'p-1', 'p-3'].map((id) => deliveries.record(delivery(id, BRANCH_PUSH))));
      assert.deepEqual(first, [true, true, false, true]);
      const again = await Promise.all(['p-2', 'p-4'].map((id) => deliveries.record(delivery(id, TAG_PUSH))));
      assert.deepEqual(again, [false, true]);
      assert.equal((await deliveries.get('p-2'))?.payload, JSON.stringify(BRANCH_PUSH), 'the first recording stays');
      assert.equal((await deliveries.get('p-4'))?.ref, 'refs/heads/master');
      assert.deepEqual((await deliveries.pending()).map((d) => d.deliveryId).sort(), ['p-1', 'p-2', 'p-3', 'p-4']);
    });
  });
}
