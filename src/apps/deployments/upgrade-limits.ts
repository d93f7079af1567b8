// The two bounds of a rolling replacement, from Marathon's TaskReplaceActor.computeRestartStrategy
// (src/main/scala/mesosphere/marathon/core/deployment/impl/TaskReplaceActor.scala):
//   minHealthy  = ceil(N × minimumHealthCapacity)
//   maxCapacity = floor(N × (1 + maximumOverCapacity)), and one more when it equals minHealthy
// With minHealthy == maxCapacity (minimumHealthCapacity 1 and an over-capacity under one instance) no
// old instance may go and no new one fit, so Marathon allows "temporary over-capacity of one instance
// to allow restarting" (for resident apps it kills one first instead; Gantry has none).
import type { UpgradeStrategy } from '../definition/index.ts';

export interface UpgradeLimits {
  /** Instances that must stay healthy (running, healthy, ready) throughout. */
  minHealthy: number;
  /** Instances, old and new, that may exist at once (an instance being killed still counts until it has ended). */
  maxCapacity: number;
}

/**
 * N × fraction as the decimal arithmetic a user does: 25 × 0.28 is 7, where doubles (and so Marathon)
 * give 7.000000000000001 and a minimum of 8.
 */
function product(n: number, fraction: number): number {
  return Math.round(n * fraction * 1e9) / 1e9;
}

export function upgradeLimits(instances: number, strategy: UpgradeStrategy): UpgradeLimits {
  const minHealthy = Math.ceil(product(instances, strategy.minimumHealthCapacity));
  const maxCapacity = Math.floor(product(instances, 1 + strategy.maximumOverCapacity));
  // Marathon adds the one only when at least maxCapacity instances were healthy when the deployment
  // began; deciding it from the strategy alone keeps the bound the same on every recomputation (a
  // health check flapping mid-deployment would otherwise move it under instances already started).
  return { minHealthy, maxCapacity: instances > 0 && minHealthy === maxCapacity ? maxCapacity + 1 : maxCapacity };
}
