// Blue-green and canary deployments, the arithmetic (pure): the new version runs as a second app (the
// green) of the live one's deployment group, behind the same service ports; once it is fully healthy,
// traffic moves to it in steps (10 / 50 / 100 % of new requests), each held for a pause (or until
// `gantry apps promote`), the old app (the blue) kept for a rollback window at 0 %, then removed. An
// abort at any point sends everything back to the blue and removes the green. Marathon starts both
// environments and leaves the switch to the user (the seed); marathon-lb's zdd script did it from
// outside; here it is a record the server carries through, restarts included.
import { Invalid } from '../../shared/errors.ts';

export interface SwitchSettings {
  /** Green's share of new requests at each step, ascending, the last 100. */
  steps: number[];
  /** How long each step is held before the next; null: until promoted by hand. */
  pauseMs: number | null;
  /** How long the blue is kept (at 0 %) once the green takes everything, for an instant rollback. */
  rollbackWindowMs: number;
}

export const SWITCH_PHASES = ['starting', 'shifting', 'window', 'succeeded', 'aborted', 'failed'] as const;
export type SwitchPhase = (typeof SWITCH_PHASES)[number];
export const ACTIVE_PHASES: readonly SwitchPhase[] = ['starting', 'shifting', 'window'];

export interface SwitchState {
  phase: SwitchPhase;
  /** Index into settings.steps while shifting. */
  step: number;
  /** Epoch ms the phase or step began. */
  since: number;
}

/** What the switch sees of the green now. */
export interface GreenFacts {
  /** Every wanted instance of the green is up (running, healthy, ready). */
  healthy: boolean;
  /** The green's own deployment failed (its instances kept failing) or it vanished. */
  failed: string | null;
}

export type SwitchDecision =
  | { kind: 'wait'; until: number | null }
  | { kind: 'step'; step: number }
  | { kind: 'window' }
  | { kind: 'finish' }
  | { kind: 'abort'; reason: string };

export const DEFAULT_STEPS = [100];

/** The next move of a running switch; `promote`: the user asked to go on now. */
export function nextSwitchMove(settings: SwitchSettings, state: SwitchState, green: GreenFacts, now: number, promote = false): SwitchDecision {
  if (green.failed !== null && state.phase !== 'window') return { kind: 'abort', reason: green.failed };
  switch (state.phase) {
    case 'starting':
      return green.healthy ? { kind: 'step', step: 0 } : { kind: 'wait', until: null };
    case 'shifting': {
      // The check between steps: a green that lost an instance goes back rather than forward.
      if (!green.healthy) return { kind: 'abort', reason: 'the green lost a healthy instance while it took traffic' };
      // At 100 % there is nothing left to hold a step for: the rollback window is the hold.
      if (state.step + 1 >= settings.steps.length) return { kind: 'window' };
      const due = settings.pauseMs === null ? null : state.since + settings.pauseMs;
      if (!promote && (due === null || now < due)) return { kind: 'wait', until: due };
      return { kind: 'step', step: state.step + 1 };
    }
    case 'window': {
      const due = state.since + settings.rollbackWindowMs;
      if (!promote && now < due) return { kind: 'wait', until: due };
      return { kind: 'finish' };
    }
    default:
      return { kind: 'wait', until: null };
  }
}

/** The green's share of new requests (0..100) in a state. */
export function greenShare(settings: SwitchSettings, state: SwitchState): number {
  if (state.phase === 'shifting') return settings.steps[state.step] ?? 0;
  if (state.phase === 'window' || state.phase === 'succeeded') return 100;
  return 0;
}

/** `10,50,100` → [10, 50, 100]: ascending percentages, the last 100 (added when missing). */
export function parseSteps(text: string | readonly number[]): number[] {
  const values = typeof text === 'string' ? text.split(',').map((s) => s.trim().replace(/%$/, '')).filter((s) => s !== '').map(Number) : [...text];
  if (values.length === 0) return [...DEFAULT_STEPS];
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1 || v > 100) throw new Invalid(`traffic steps are whole percentages from 1 to 100 (got ${JSON.stringify(text)})`);
  }
  for (let i = 1; i < values.length; i++) {
    if (values[i]! <= values[i - 1]!) throw new Invalid(`traffic steps must rise (got ${values.join(', ')})`);
  }
  if (values.at(-1) !== 100) values.push(100);
  return values;
}

/** The other colour's id: `/prod/web` ↔ `/prod/web-green` (the group keeps the first). */
export function otherColour(group: string, live: string): string {
  return live === group ? `${group}-green` : group;
}
