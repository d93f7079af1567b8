// Which instances go first when some must: Marathon's ScalingProposition.sortByConditionAndDate
// (src/main/scala/mesosphere/marathon/core/deployment/ScalingProposition.scala): unreachable, then
// staging, then running; within one condition by the app's killSelection on the time it started
// (state/KillSelection.scala: YOUNGEST_FIRST kills the latest started). Running instances that do not
// count as healthy go before those that do, as TaskReplaceActor orders its old instances ("we always
// prefer to kill unhealthy tasks first") and as ScalingProposition's TODO asks.
import type { KillSelection } from '../definition/index.ts';
import type { InstanceView } from './instance-view.ts';

/** Lower goes first. */
function weight(instance: InstanceView): number {
  if (instance.phase === 'unreachable') return 0;
  if (instance.phase === 'staging') return 1;
  return instance.available ? 3 : 2;
}

/** The instances in the order they should be killed: the first ones first. Ties fall to the id, so the order is stable. */
export function killOrder<T extends InstanceView>(instances: readonly T[], killSelection: KillSelection): T[] {
  const sign = killSelection === 'YOUNGEST_FIRST' ? -1 : 1;
  return [...instances].sort((a, b) => weight(a) - weight(b) || sign * (a.since - b.since) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
