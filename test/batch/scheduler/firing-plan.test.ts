import assert from 'node:assert/strict';
import { MAX_RECORDED_SKIPS, planFiring } from '../../../src/batch/scheduler/firing-plan.ts';
import { parseSchedule } from '../../../src/batch/schedule/index.ts';

const hourly = parseSchedule({ schedule: 'R/2026-11-24T10:00:00Z/PT1H' });
const at = (iso: string) => new Date(iso);
const iso = (d: Date | undefined) => d?.toISOString();

describe('batch firing plan (catch-up after downtime)', () => {
  it('runs the due occurrence on time and moves to the next one', () => {
    const plan = planFiring(hourly, { at: at('2026-11-24T10:00:00Z'), index: 0 }, 60_000, at('2026-11-24T10:00:00.005Z'));
    assert.equal(iso(plan.run?.at), '2026-11-24T10:00:00.000Z');
    assert.deepEqual(plan.skipped, []);
    assert.equal(iso(plan.next?.at), '2026-11-24T11:00:00.000Z');
    assert.equal(plan.next?.index, 1);
  });

  it('after downtime runs the latest occurrence within epsilon once and records the older ones as missed', () => {
    const plan = planFiring(hourly, { at: at('2026-11-24T10:00:00Z'), index: 0 }, 60_000, at('2026-11-24T13:00:30Z'));
    assert.equal(iso(plan.run?.at), '2026-11-24T13:00:00.000Z');
    assert.equal(plan.run?.index, 3);
    assert.deepEqual(plan.skipped.map((s) => iso(s.occurrence.at)), ['2026-11-24T10:00:00.000Z', '2026-11-24T11:00:00.000Z', '2026-11-24T12:00:00.000Z']);
    assert.ok(plan.skipped.every((s) => s.reason.startsWith('missed: due')));
    assert.equal(iso(plan.next?.at), '2026-11-24T14:00:00.000Z');
  });

  it('runs nothing when even the latest occurrence is older than epsilon', () => {
    const plan = planFiring(hourly, { at: at('2026-11-24T10:00:00Z'), index: 0 }, 60_000, at('2026-11-24T13:05:00Z'));
    assert.equal(plan.run, null);
    assert.deepEqual(plan.skipped.map((s) => iso(s.occurrence.at)).slice(-1), ['2026-11-24T13:00:00.000Z']);
    assert.equal(plan.skipped.length, 4);
    assert.equal(iso(plan.next?.at), '2026-11-24T14:00:00.000Z');
  });

  it('lists at most a hundred skipped occurrences and says the rest were skipped too', () => {
    const everySecond = parseSchedule({ schedule: 'R/2026-11-24T00:00:00Z/PT1S' });
    const plan = planFiring(everySecond, { at: at('2026-11-24T00:00:00Z'), index: 0 }, 60_000, at('2026-11-25T00:00:00.500Z'));
    assert.equal(iso(plan.run?.at), '2026-11-25T00:00:00.000Z');
    assert.equal(plan.run?.index, 86_400);
    assert.equal(plan.skipped.length, MAX_RECORDED_SKIPS);
    assert.match(plan.skipped[MAX_RECORDED_SKIPS - 1]!.reason, /skipped too and are not listed/);
    assert.equal(iso(plan.next?.at), '2026-11-25T00:00:01.000Z');
  });

  it('marks occurrences superseded within epsilon, and ends with the schedule', () => {
    const threeTimes = parseSchedule({ schedule: 'R3/2026-11-24T10:00:00Z/PT10S' });
    const plan = planFiring(threeTimes, { at: at('2026-11-24T10:00:00Z'), index: 0 }, 60_000, at('2026-11-24T10:00:25Z'));
    assert.equal(iso(plan.run?.at), '2026-11-24T10:00:20.000Z');
    assert.deepEqual(plan.skipped.map((s) => s.reason.split(' ')[0]), ['superseded', 'superseded']);
    assert.equal(plan.next, null, 'R3: three occurrences in all');
  });
});
