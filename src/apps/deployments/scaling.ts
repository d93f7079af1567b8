// One decision of a scale step (and of a new app's start, a scale from 0): how many to start, which to
// kill. From Marathon's ScalingProposition.propose
// (src/main/scala/mesosphere/marathon/core/deployment/ScalingProposition.scala):
//   kills = max(live − N, sentenced), the sentenced first (`/v2/tasks/delete?scale=true`), then by kill order
//   start = N − live + kills
// where "live" are the instances not being killed. Instances being killed are not counted: their kill
// is under way. Done when no kill is under way and N are live, all healthy and ready. Marathon's
// TaskStartActor waits only for the instances it started (targetCountReached) and a scale down for its
// kills; waiting for all N means a step never ends with the app short of healthy instances.
import type { KillSelection } from '../definition/index.ts';
import type { InstanceView } from './instance-view.ts';
import { killOrder } from './kill-order.ts';
import type { DeploymentProgress } from './progress.ts';

export interface ScalingInput {
  /** N: the instance count to reach. */
  target: number;
  killSelection: KillSelection;
  /** The app's instances that have not ended (of its current version). */
  instances: readonly InstanceView[];
  /** Ids asked to be killed by name; they go first and count toward the kills. */
  sentenced?: readonly string[];
}

export interface ScalingDecision {
  start: number;
  /** In kill order. */
  kill: string[];
  done: boolean;
  progress: DeploymentProgress;
}

export function nextScalingStep(input: ScalingInput): ScalingDecision {
  const { target, killSelection } = input;
  const sentencedIds = new Set(input.sentenced ?? []);
  const live = input.instances.filter((i) => !i.killing);
  const killing = input.instances.length - live.length;
  const sentenced = live.filter((i) => sentencedIds.has(i.id));
  const rest = killOrder(
    live.filter((i) => !sentencedIds.has(i.id)),
    killSelection,
  );
  const killCount = Math.max(live.length - target, sentenced.length);
  const kills = [...sentenced, ...rest].slice(0, killCount);
  const start = target - live.length + killCount;
  const killed = new Set(kills);
  const kept = live.filter((i) => !killed.has(i));
  const done = killing === 0 && kills.length === 0 && start === 0 && kept.every((i) => i.available);
  return {
    start,
    kill: kills.map((i) => i.id),
    done,
    progress: { available: kept.filter((i) => i.available).length, leftToRemove: killing + kills.length },
  };
}
