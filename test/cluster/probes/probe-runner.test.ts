// A probe's verdicts as the master hears them: only changes, healthy within one try of a pass,
// unhealthy after the failures in a row it allows, failures in the grace period ignored until a pass,
// readiness from "not ready" to ready and back. Tries are scripted; intervals are a few milliseconds.
import assert from 'node:assert/strict';
import { ProbeRunner } from '../../../src/cluster/agent/probes/probe-runner.ts';
import { probeSpec, type ProbeSpec } from '../../../src/cluster/probes/probe-spec.ts';

/** Runs a probe over scripted outcomes (then keeps passing) until `verdicts` changes have been heard. */
async function verdictsOf(options: { which: 'health' | 'readiness'; spec: Partial<ProbeSpec>; outcomes: Array<true | string | 'hang'>; verdicts: number; startedAt?: number; now?: () => number }): Promise<Array<[boolean, string]>> {
  const heard: Array<[boolean, string]> = [];
  const spec: ProbeSpec = { kind: 'tcp', portIndex: 0, gracePeriodMs: 0, intervalMs: 5, timeoutMs: 5, consecutiveFailures: 1, ...options.spec };
  let tries = 0;
  let resolveDone!: () => void;
  const enough = new Promise<void>((resolve) => (resolveDone = resolve));
  const runner = new ProbeRunner({
    which: options.which,
    spec,
    startedAt: options.startedAt ?? Date.now(),
    ...(options.now ? { now: options.now } : {}),
    attempt: async (signal) => {
      const outcome = options.outcomes[tries++] ?? true;
      if (outcome === 'hang') return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      return outcome;
    },
    onChange: (passing, message) => {
      heard.push([passing, message]);
      if (heard.length >= options.verdicts) resolveDone();
    },
  });
  await enough;
  runner.stop();
  await runner.done;
  return heard;
}

describe('probe runner: verdicts, only on change', () => {
  it('health: healthy at the first pass; unhealthy after the failures in a row it allows; healthy again at a pass', async () => {
    const heard = await verdictsOf({ which: 'health', spec: { consecutiveFailures: 3 }, outcomes: [true, true, 'refused', 'refused', true, 'refused', 'refused', 'refused', 'refused'], verdicts: 3 });
    assert.deepEqual(heard, [
      [true, 'health probe passed'],
      [false, 'health probe failed: refused (3 failures in a row)'],
      [true, 'health probe passed'],
    ]);
  });

  it('health: failures before the first pass are ignored during the grace period, and count after it', async () => {
    let clock = 0;
    const now = (): number => (clock += 10); // each look at the clock: 10 ms later
    const inGrace = await verdictsOf({ which: 'health', spec: { gracePeriodMs: 1_000_000 }, outcomes: ['starting', 'starting', 'starting', true], verdicts: 1, startedAt: 0, now });
    assert.deepEqual(inGrace, [[true, 'health probe passed']], 'no unhealthy verdict while it starts');
    clock = 0;
    const pastGrace = await verdictsOf({ which: 'health', spec: { gracePeriodMs: 1 }, outcomes: ['starting'], verdicts: 2, startedAt: 0, now });
    assert.deepEqual(pastGrace, [
      [false, 'health probe failed: starting'],
      [true, 'health probe passed'],
    ]);
  });

  it('readiness: not ready at once, ready at the first pass, not ready at a failure', async () => {
    const heard = await verdictsOf({ which: 'readiness', spec: {}, outcomes: ['warming up', true, true, 'draining'], verdicts: 4 });
    assert.deepEqual(heard, [
      [false, 'no readiness probe has passed yet'],
      [true, 'readiness probe passed'],
      [false, 'readiness probe failed: draining'],
      [true, 'readiness probe passed'],
    ]);
  });

  it('tries every second until its first pass, not every interval: an instance starting counts as healthy within a second or two', async () => {
    const began = Date.now();
    const heard = await verdictsOf({ which: 'health', spec: { intervalMs: 60_000, timeoutMs: 1000, gracePeriodMs: 60_000 }, outcomes: ['refused', 'refused', true], verdicts: 1 });
    assert.deepEqual(heard, [[true, 'health probe passed']]);
    const took = Date.now() - began;
    assert.ok(took >= 1900 && took < 10_000, `the third try a second after the second: ${took} ms, not a minute`);
  });

  it('a try that does not answer fails at its timeout', async () => {
    const heard = await verdictsOf({ which: 'health', spec: { timeoutMs: 20, intervalMs: 20 }, outcomes: ['hang'], verdicts: 2 });
    assert.deepEqual(heard[0], [false, 'health probe failed: no answer within 20 ms']);
    assert.deepEqual(heard[1], [true, 'health probe passed']);
  });
});

describe('probe settings', () => {
  const cases: Array<[string, Parameters<typeof probeSpec>, ProbeSpec | RegExp]> = [
    ['http defaults', ['health', { kind: 'http' }, 1], { kind: 'http', portIndex: 0, path: '/', gracePeriodMs: 30_000, intervalMs: 10_000, timeoutMs: 5_000, consecutiveFailures: 3 }],
    ['readiness defaults', ['readiness', { kind: 'tcp', portIndex: 1 }, 2], { kind: 'tcp', portIndex: 1, gracePeriodMs: 0, intervalMs: 5_000, timeoutMs: 5_000, consecutiveFailures: 1 }],
    ['a short interval shortens the default timeout', ['health', { kind: 'command', command: 'true', intervalMs: 1000 }, 0], { kind: 'command', command: 'true', gracePeriodMs: 30_000, intervalMs: 1000, timeoutMs: 1000, consecutiveFailures: 3 }],
    ['a port the task does not have', ['health', { kind: 'http', portIndex: 1 }, 1], /health\.portIndex: 1 is not one of its ports: the task has 1 port \(PORT0\)/],
    ['no port at all', ['readiness', { kind: 'tcp' }, 0], /readiness\.portIndex: 0 is not one of its ports: the task asks for no port/],
    ['a timeout longer than the interval', ['health', { kind: 'tcp', intervalMs: 1000, timeoutMs: 2000 }, 1], /health\.timeoutMs: 2000 is longer than intervalMs \(1000\)/],
    ['a command probe without its command', ['health', { kind: 'command' }, 0], /health\.command: a command probe needs the command/],
    ['a path on a tcp probe', ['health', { kind: 'tcp', path: '/x' }, 1], /health\.path: a tcp probe has no path/],
    ['https with the statuses that pass', ['readiness', { kind: 'https', path: '/ready', statuses: [200, 204, 200] }, 1], { kind: 'https', portIndex: 0, path: '/ready', statuses: [200, 204], gracePeriodMs: 0, intervalMs: 5_000, timeoutMs: 5_000, consecutiveFailures: 1 }],
    ['statuses on a tcp probe', ['health', { kind: 'tcp', statuses: [200] }, 1], /health\.statuses: a tcp probe has no status/],
    ['statuses on a command probe', ['health', { kind: 'command', command: 'true', statuses: [200] }, 0], /health\.statuses: a command probe has no statuses/],
  ];
  for (const [what, args, expected] of cases) {
    it(what, () => {
      const result = probeSpec(...args);
      if (expected instanceof RegExp) {
        assert.ok(Array.isArray(result), `refused: ${JSON.stringify(result)}`);
        assert.match(result.join('; '), expected);
      } else assert.deepEqual(result, expected);
    });
  }
});
