// Dependent jobs (Chronos parents): a child runs once per generation of its parents. Each parent's
// finished run is recorded for each of its children in the store; when every parent of a child has a
// record, the child's trigger rule decides, and the records are consumed together with the child's run
// being inserted (one transaction, its key derived from the parents' runs), so a diamond A→B,C→D runs
// D once per run of A, after both B and C, even across restarts.
import { createHash } from 'node:crypto';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { BatchStore, ParentCompletion, RunRecord } from '../store/batch-store.ts';
import type { JobView, TriggerRule } from './job-view.ts';
import { newRun } from './new-run.ts';

export type ParentOutcome = 'success' | 'failure';

export class DependencyTracker {
  constructor(
    private readonly store: BatchStore,
    private readonly clock: Clock,
    /** The jobs that name `parent` among their parents (an index: no walk over every job). */
    private readonly childrenOf: (parent: string) => JobView[],
  ) {}

  /** Records a parent's finished run; returns the children's runs now due (inserted, pending). */
  async parentFinished(parent: string, runId: string, outcome: ParentOutcome): Promise<Array<{ job: JobView; run: RunRecord }>> {
    const children = this.childrenOf(parent);
    await this.store.recordCompletion(children.map((c) => c.name), parent, runId, outcome, this.clock.now().toISOString());
    const due: Array<{ job: JobView; run: RunRecord }> = [];
    for (const child of children) {
      const run = await this.evaluate(child);
      if (run) due.push({ job: child, run });
    }
    return due;
  }

  /**
   * Decides a child whose parents all finished since its last generation: inserts its run (pending)
   * when the trigger rule holds, or a skipped run saying why not. Null when a parent is still missing,
   * the rule failed, or another evaluation consumed the generation first.
   */
  async evaluate(child: JobView): Promise<RunRecord | null> {
    if (child.parents.length === 0) return null;
    const completions = (await this.store.listCompletions(child.name)).filter((c) => child.parents.includes(c.parent));
    if (completions.length < child.parents.length) return null;
    const now = this.clock.now();
    const run = newRun(newId('r', now.getTime()), child.name, generationKey(completions), 'dependency', now, now);
    const refusal = child.disabled ? 'the job is disabled' : ruleRefusal(child.triggerRule, completions);
    if (refusal) {
      await this.store.consumeCompletions(child.name, completions, { ...run, state: 'skipped', finishedAt: now.toISOString(), reason: refusal });
      return null;
    }
    return (await this.store.consumeCompletions(child.name, completions, run)) ? run : null;
  }
}

/** Why the rule does not hold for these parents' outcomes, or null when it does. */
export function ruleRefusal(rule: TriggerRule, completions: readonly ParentCompletion[]): string | null {
  const failed = completions.filter((c) => c.outcome === 'failure').map((c) => `${c.parent} (run ${c.runId})`);
  const succeeded = completions.filter((c) => c.outcome === 'success');
  switch (rule) {
    case 'all_done':
      return null;
    case 'all_success':
      return failed.length === 0 ? null : `trigger rule all_success: parent ${failed.join(', ')} failed`;
    case 'one_failed':
      return failed.length > 0 ? null : 'trigger rule one_failed: every parent succeeded';
    case 'one_success':
      return succeeded.length > 0 ? null : 'trigger rule one_success: every parent failed';
  }
}

/** The generation's key: the parents' runs it consumed (unique per child, so it runs once). */
function generationKey(completions: readonly ParentCompletion[]): string {
  const runs = completions.map((c) => `${c.parent}=${c.runId}`).sort().join(',');
  return `after:${createHash('sha256').update(runs).digest('hex').slice(0, 32)}`;
}
