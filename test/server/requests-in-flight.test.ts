// What a stop waits for before it closes the store: the requests still being handled, however their
// connections ended; nothing when none is; and not for ever.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { trackRequestsInFlight } from '../../src/server/requests-in-flight.ts';

const req = {} as IncomingMessage;
const res = {} as ServerResponse;

describe('requests in flight', () => {
  it('settles once every handler\'s work has ended, not before', async () => {
    const ends: Array<() => void> = [];
    const tracked = trackRequestsInFlight(() => new Promise<void>((resolve) => ends.push(resolve)));
    tracked.listener(req, res);
    tracked.listener(req, res);
    const order: string[] = [];
    const settled = tracked.settled(60_000).then(() => order.push('settled'));
    ends[0]!();
    await Promise.resolve().then(() => order.push('first ended'));
    ends[1]!();
    await settled;
    assert.deepEqual(order, ['first ended', 'settled']);
  });

  it('is settled at once with nothing in flight, also after a handler that failed', async () => {
    const tracked = trackRequestsInFlight(() => Promise.reject(new Error('boom')));
    tracked.listener(req, res);
    await new Promise((resolve) => setImmediate(resolve));
    let settled = false;
    await tracked.settled(60_000).then(() => (settled = true));
    assert.ok(settled);
  });

  it('gives up waiting after its timeout', async () => {
    const tracked = trackRequestsInFlight(() => new Promise<void>(() => undefined));
    tracked.listener(req, res);
    const outcome = await Promise.race([tracked.settled(20).then(() => 'gave up'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
    assert.equal(outcome, 'gave up');
  });
});
