// Passive ejection: a server whose connections fail `failures` times in a row is taken out of the
// balancing for a while, so that a dead instance (crashed, not yet out of the catalog) costs one retry
// per request for a moment rather than for as long as the catalog takes. Pure decisions on an immutable
// state; the pool (backend-pool.ts) keeps one per server and reads the time from the clock.
//
// The period doubles with each ejection (baseMs, 2·baseMs, ... up to maxMs). Once the period is over the
// server gets traffic again on probation: one success clears everything, one more failure ejects it
// again for the next, doubled, period (it already failed `failures` times in a row).

export interface EjectionPolicy {
  /** Connection failures in a row that eject a server. */
  failures: number;
  /** The first ejection's length. */
  baseMs: number;
  /** The longest ejection. */
  maxMs: number;
}

export const DEFAULT_EJECTION: EjectionPolicy = { failures: 3, baseMs: 5000, maxMs: 60000 };

export interface EjectionState {
  /** Connection failures since the last success. */
  readonly failuresInARow: number;
  /** The last failure's code (ECONNREFUSED, connect timeout, ...), or null. */
  readonly lastError: string | null;
  /** Ejections since the last success: the next one lasts baseMs · 2^ejections. */
  readonly ejections: number;
  /** Epoch milliseconds the current (or last) ejection ends at; null: not ejected since the last success. */
  readonly ejectedUntil: number | null;
  /** How long the current (or last) ejection lasts. */
  readonly ejectedForMs: number;
}

export const NOT_EJECTED: EjectionState = { failuresInARow: 0, lastError: null, ejections: 0, ejectedUntil: null, ejectedForMs: 0 };

export function isEjected(state: EjectionState, nowMs: number): boolean {
  return state.ejectedUntil !== null && nowMs < state.ejectedUntil;
}

/** A connection was established: everything is forgiven. */
export function afterSuccess(): EjectionState {
  return NOT_EJECTED;
}

/** A connection failed before it was established (refused, timed out, unreachable). */
export function afterFailure(state: EjectionState, policy: EjectionPolicy, nowMs: number, error: string): EjectionState {
  const failed = { ...state, failuresInARow: state.failuresInARow + 1, lastError: error };
  // Tried while ejected (panic mode, or connections picked just before the ejection): no longer period.
  if (isEjected(state, nowMs)) return failed;
  const onProbation = state.ejections > 0;
  if (!onProbation && failed.failuresInARow < policy.failures) return failed;
  const ejectedForMs = Math.min(policy.maxMs, policy.baseMs * 2 ** state.ejections);
  return { ...failed, ejections: state.ejections + 1, ejectedUntil: nowMs + ejectedForMs, ejectedForMs };
}

/** Why the server is down ("refused 3 connections in a row: ECONNREFUSED; ejected for 5s"), or null while it is not. */
export function ejectionReason(state: EjectionState, nowMs: number): string | null {
  if (!isEjected(state, nowMs)) return null;
  const verb = state.lastError === 'ECONNREFUSED' ? 'refused' : 'failed';
  return `${verb} ${state.failuresInARow} connections in a row: ${state.lastError}; ejected for ${seconds(state.ejectedForMs)}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
