// Passive ejection as a table: the state after a run of connection successes and failures at given times.
import assert from 'node:assert/strict';
import { NOT_EJECTED, afterFailure, afterSuccess, ejectionReason, isEjected, type EjectionPolicy, type EjectionState } from '../../../src/discovery/proxy/ejection.ts';

const POLICY: EjectionPolicy = { failures: 3, baseMs: 5000, maxMs: 12000 };

type Event = [at: number, outcome: 'ok' | string];

function run(events: Event[]): EjectionState {
  return events.reduce((state, [at, outcome]) => (outcome === 'ok' ? afterSuccess() : afterFailure(state, POLICY, at, outcome)), NOT_EJECTED);
}

describe('proxy passive ejection', () => {
  const table: Array<[string, Event[], { at: number; ejected: boolean; reason: string | null }]> = [
    ['two failures do not eject', [[0, 'ECONNREFUSED'], [1, 'ECONNREFUSED']], { at: 2, ejected: false, reason: null }],
    ['three in a row eject for the base period', [[0, 'ECONNREFUSED'], [1, 'ECONNREFUSED'], [2, 'ECONNREFUSED']], { at: 3, ejected: true, reason: 'refused 3 connections in a row: ECONNREFUSED; ejected for 5s' }],
    ['a success in between starts the count again', [[0, 'ECONNREFUSED'], [1, 'ECONNREFUSED'], [2, 'ok'], [3, 'ECONNREFUSED']], { at: 4, ejected: false, reason: null }],
    ['timeouts are failures too', [[0, 'connect timeout'], [1, 'connect timeout'], [2, 'EHOSTUNREACH']], { at: 3, ejected: true, reason: 'failed 3 connections in a row: EHOSTUNREACH; ejected for 5s' }],
    ['the period ends', [[0, 'ECONNREFUSED'], [1, 'ECONNREFUSED'], [2, 'ECONNREFUSED']], { at: 5002, ejected: false, reason: null }],
    ['a failure while ejected (panic mode) does not lengthen it', [[0, 'E'], [0, 'E'], [0, 'E'], [4000, 'E']], { at: 5000, ejected: false, reason: null }],
    ['one failure on probation ejects again for twice as long', [[0, 'E'], [0, 'E'], [0, 'E'], [5000, 'E']], { at: 14999, ejected: true, reason: 'failed 4 connections in a row: E; ejected for 10s' }],
    ['the period stops growing at the maximum', [[0, 'E'], [0, 'E'], [0, 'E'], [5000, 'E'], [15000, 'E']], { at: 26999, ejected: true, reason: 'failed 5 connections in a row: E; ejected for 12s' }],
    ['one success after the period clears everything', [[0, 'E'], [0, 'E'], [0, 'E'], [5000, 'ok'], [5001, 'E'], [5002, 'E']], { at: 5003, ejected: false, reason: null }],
  ];
  for (const [name, events, expected] of table) {
    it(name, () => {
      const state = run(events);
      assert.equal(isEjected(state, expected.at), expected.ejected);
      assert.equal(ejectionReason(state, expected.at), expected.reason);
    });
  }
});
