// POST /hooks/github is answered by the HTTP server before koa (src/server/webhook-listener.ts): the
// receiver's answers as JSON, a store that fails as a 500 in the API's error shape (and logged), and
// every other request handed on untouched. A real HTTP server and a real SQLite store.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { DeliveryStore } from '../../src/ci/store/deliveries.ts';
import { GitHubReceiver } from '../../src/ci/webhooks/github-receiver.ts';
import { withWebhooks } from '../../src/server/webhook-listener.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { tempDir } from '../helpers/processes.ts';

const SECRET = 'webhook-listener-test-secret';
const PUSH = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40), repository: { full_name: 'acme/app', clone_url: 'file:///nowhere' } });

describe('the webhook listener in front of koa', () => {
  let store: Store;
  let server: http.Server;
  let url = '';
  const logged: string[] = [];
  const passedOn: string[] = [];

  beforeEach(async () => {
    store = await openStore({ dataDir: path.join(tempDir('webhook-listener'), 'data') });
    const receiver = new GitHubReceiver({ secrets: [SECRET], deliveries: new DeliveryStore(store.knex), clock: { now: () => new Date() }, onDelivery: () => undefined });
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    server = http.createServer(withWebhooks({ '/hooks/github': receiver }, logger, (req, res) => {
      passedOn.push(`${req.method} ${req.url}`);
      res.end('koa');
    }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close().catch(() => undefined);
    logged.length = 0;
    passedOn.length = 0;
  });

  const deliver = (id: string) =>
    fetch(`${url}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(PUSH).digest('hex')}` },
      body: PUSH,
    });

  it("answers with the receiver's status and JSON, and hands every other request on", async () => {
    const first = await deliver('l-1');
    assert.equal(first.status, 202);
    assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await first.json()) as { delivery: string }).delivery, 'l-1');
    assert.equal((await deliver('l-1')).status, 200, 'a redelivery');
    assert.equal(await (await fetch(`${url}/hooks/github`)).text(), 'koa');
    assert.equal(await (await fetch(`${url}/api/v1/health`, { method: 'POST' })).text(), 'koa');
    assert.deepEqual(passedOn, ['GET /hooks/github', 'POST /api/v1/health']);
  });

  it('answers 500 in the API\'s error shape when the delivery cannot be recorded, and logs why', async () => {
    await store.close(); // the store is gone: recording fails
    const answer = await deliver('l-2');
    assert.equal(answer.status, 500);
    assert.deepEqual(await answer.json(), { error: 'internal', message: 'internal error; see the server log' });
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /a webhook delivery could not be received/);
    assert.doesNotMatch(logged[0]!, new RegExp(SECRET), 'the secret stays out of the log');
  });
});
