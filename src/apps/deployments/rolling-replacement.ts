// One decision of a rolling replacement (a restart, or an upgrade to a new version): what to start and
// what to kill now, from the instances as they are. The engine calls it on every change of the app's
// instances and applies the answer; nothing is remembered between calls, so a master that restarts in
// the middle resumes with the same arithmetic (Marathon rebuilds its actor's counters from the
// instances for the same reason: TaskReplaceActor.State, "in case previous master was abdicated").
//
// Translated from Marathon's TaskReplaceActor
// (src/main/scala/mesosphere/marathon/core/deployment/impl/TaskReplaceActor.scala) and the readiness
// gate it mixes in (ReadinessBehavior.scala), with N the new version's instances:
//   start = max(0, min(N − new, maxCapacity − old − new))       (its launchInstances' leftCapacity)
//   kill  = old healthy − max(0, minHealthy − new healthy) of the old healthy ones, by kill order
//           (its ignition's nrToKillImmediately = healthy − minHealthy, then one per new instance that
//           becomes healthy and ready: the same count, recomputed instead of counted)
//   done  = no old instance left and N new ones, all healthy and ready           (its checkFinished)
// where "old" counts every old instance not yet ended, those being killed included (Marathon removes one
// from oldActiveInstanceIds only on its terminal event), and the bounds are upgradeLimits'.
import type { KillSelection, UpgradeStrategy } from '../definition/index.ts';
import type { InstanceView } from './instance-view.ts';
import { killOrder } from './kill-order.ts';
import type { DeploymentProgress } from './progress.ts';
import { upgradeLimits, type UpgradeLimits } from './upgrade-limits.ts';

export interface ReplacementInput {
  /** N: the new version's instance count. */
  target: number;
  upgradeStrategy: UpgradeStrategy;
  killSelection: KillSelection;
  /** The app's instances of any other version that have not ended. */
  oldInstances: readonly InstanceView[];
  /** The app's instances of the new version that have not ended. */
  newInstances: readonly InstanceView[];
}

export interface ReplacementDecision {
  /** New-version instances to launch now. */
  start: number;
  /** Instances to kill now, in kill order: old ones, and new ones beyond N. */
  kill: string[];
  /** The replacement is complete: nothing else to start or kill, nothing left to wait for. */
  done: boolean;
  limits: UpgradeLimits;
  progress: DeploymentProgress;
}

export function nextReplacementStep(input: ReplacementInput): ReplacementDecision {
  const { target, killSelection, oldInstances, newInstances } = input;
  const limits = upgradeLimits(target, input.upgradeStrategy);
  const occupied = oldInstances.length + newInstances.length;
  const alreadyKilling = oldInstances.filter((i) => i.killing).length + newInstances.filter((i) => i.killing).length;

  // New instances beyond N (an agent back with instances already replaced): Marathon leaves them; they
  // would hold room and the deployment would end above N.
  const liveNew = newInstances.filter((i) => !i.killing);
  const surplusNew = killOrder(liveNew, killSelection).slice(0, Math.max(0, liveNew.length - target));
  const surplus = new Set(surplusNew);
  const keptNew = liveNew.filter((i) => !surplus.has(i));
  const newAvailable = keptNew.filter((i) => i.available).length;

  // Old healthy instances: keep the fewest that, with the new healthy ones, still make the minimum.
  const liveOld = oldInstances.filter((i) => !i.killing);
  const oldAvailable = liveOld.filter((i) => i.available);
  const keepAvailable = Math.max(0, limits.minHealthy - newAvailable);
  const oldAvailableKills = killOrder(oldAvailable, killSelection).slice(0, Math.max(0, oldAvailable.length - keepAvailable));

  const missing = Math.max(0, target - keptNew.length);
  const start = Math.max(0, Math.min(missing, limits.maxCapacity - occupied));

  // Old instances that do not count as healthy cost the minimum nothing. Marathon queues them first for
  // kills but spends its kill count on them (an unhealthy old instance keeps a healthy one alive and
  // holds room), and with no room left waits for its health checks to kill them. Here they go at once
  // while the minimum holds without them; under it (which is also what a broken checker looks like)
  // only as many as the missing new instances need room.
  const oldUnavailable = killOrder(
    liveOld.filter((i) => !i.available),
    killSelection,
  );
  const healthyAfter = oldAvailable.length - oldAvailableKills.length + newAvailable;
  // Room the missing new instances still lack once every kill under way or decided here has ended.
  const roomStillNeeded = occupied + missing - limits.maxCapacity - alreadyKilling - oldAvailableKills.length - surplusNew.length;
  const oldUnavailableKills = healthyAfter >= limits.minHealthy ? oldUnavailable : oldUnavailable.slice(0, Math.max(0, roomStillNeeded));

  const kill = [...oldUnavailableKills, ...oldAvailableKills, ...surplusNew].map((i) => i.id);
  const done = oldInstances.length === 0 && newInstances.length === target && newInstances.every((i) => !i.killing && i.available);
  return {
    start,
    kill,
    done,
    limits,
    progress: { available: newAvailable, leftToRemove: oldInstances.length + newInstances.length - keptNew.length },
  };
}
