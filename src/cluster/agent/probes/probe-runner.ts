// Runs one probe of a task, try after try, and says when its verdict changes: only changes go to the
// master (a task healthy for a month costs no report after its first). Marathon's rules: a health
// probe's failures do not count during the grace period until it has passed once; `consecutiveFailures`
// failures in a row make the task unhealthy, one pass makes it healthy again. A readiness probe starts
// at "not ready" and has no grace: it is ready from its first pass until failures in a row.
// Until a probe first passes, it tries every second (Docker's health start interval), not every
// interval: a task is usually up within a second or two, and the interval (Marathon's default: 10 s)
// would keep it from counting as healthy or ready for that long: a rolling upgrade waits on each. This
// fast start lasts the health grace period (failures do not count in it), a readiness probe's first
// minute; a probe whose interval is shorter keeps its interval.
import type { ProbeSpec } from '../../probes/probe-spec.ts';

export interface ProbeRunnerOptions {
  which: 'health' | 'readiness';
  spec: ProbeSpec;
  /** One try, abandoned when `signal` aborts (its timeout): true, or why it failed. */
  attempt(signal: AbortSignal): Promise<true | string>;
  /** The verdict, when it is first known and each time it changes: passing (healthy, ready) or not, and why. */
  onChange(passing: boolean, message: string): void;
  /** When the task started running (ms since the epoch): the grace period counts from it. */
  startedAt: number;
  now?: () => number;
}

/** The wait between tries until a probe first passes. */
export const START_INTERVAL_MS = 1000;
/** How long a readiness probe (no grace period) tries at the start interval before its first pass. */
const READINESS_START_MS = 60_000;

export class ProbeRunner {
  private readonly stopped = new AbortController();
  private verdict: boolean | undefined;
  private failures = 0;
  private passedOnce = false;
  private readonly now: () => number;
  readonly done: Promise<void>;

  constructor(private readonly options: ProbeRunnerOptions) {
    this.now = options.now ?? Date.now;
    if (options.which === 'readiness') this.decide(false, 'no readiness probe has passed yet');
    this.done = this.loop();
  }

  /** No try after this, and no verdict. */
  stop(): void {
    this.stopped.abort();
  }

  private async loop(): Promise<void> {
    const { spec } = this.options;
    while (!this.stopped.signal.aborted) {
      const began = this.now();
      const outcome = await this.tryOnce();
      if (this.stopped.signal.aborted) return;
      this.record(outcome);
      await sleep(Math.max(0, began + this.nextIntervalMs() - this.now()), this.stopped.signal);
    }
  }

  private nextIntervalMs(): number {
    const { which, spec, startedAt } = this.options;
    const starting = !this.passedOnce && this.now() - startedAt < (which === 'health' ? spec.gracePeriodMs : READINESS_START_MS);
    return starting ? Math.min(spec.intervalMs, START_INTERVAL_MS) : spec.intervalMs;
  }

  private async tryOnce(): Promise<true | string> {
    const { timeoutMs } = this.options.spec;
    const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const outcome = await Promise.race([this.options.attempt(signal), aborted(signal)]);
      return outcome;
    } catch (err) {
      if (signal.aborted && !this.stopped.signal.aborted) return `no answer within ${timeoutMs} ms`;
      return (err as Error).message;
    }
  }

  private record(outcome: true | string): void {
    const { which, spec } = this.options;
    if (outcome === true) {
      this.failures = 0;
      this.passedOnce = true;
      this.decide(true, `${which} probe passed`);
      return;
    }
    const inGrace = which === 'health' && !this.passedOnce && this.now() - this.options.startedAt < spec.gracePeriodMs;
    if (inGrace) return;
    this.failures++;
    if (this.failures >= spec.consecutiveFailures) {
      const times = spec.consecutiveFailures === 1 ? '' : ` (${this.failures} failures in a row)`;
      this.decide(false, `${which} probe failed: ${outcome}${times}`);
    }
  }

  private decide(passing: boolean, message: string): void {
    if (this.verdict === passing) return;
    this.verdict = passing;
    this.options.onChange(passing, message);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Rejects when the signal aborts: a try that ignores its signal still ends at its timeout. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
}
