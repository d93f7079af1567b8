// Whether a deployment is still getting somewhere (beyond Marathon, whose deployments could wait
// forever: marathon issues #829, #731, #1620). Progress is a step toward the end state: one more
// instance of the target healthy and ready, or one fewer instance to remove. Measured against the best
// seen so far, so an instance whose health check flaps does not count as progress each time it passes.

export interface DeploymentProgress {
  /** Instances of the target version (or, when scaling, of the app) that count as healthy. */
  available: number;
  /** Instances still to go: old ones, and any beyond the target count. */
  leftToRemove: number;
}

/** The best of each measure so far, and whether `now` beat it. Start each step of a plan with `best` null. */
export function recordProgress(best: DeploymentProgress | null, now: DeploymentProgress): { best: DeploymentProgress; progressed: boolean } {
  if (best === null) return { best: now, progressed: false };
  const progressed = now.available > best.available || now.leftToRemove < best.leftToRemove;
  return {
    best: { available: Math.max(best.available, now.available), leftToRemove: Math.min(best.leftToRemove, now.leftToRemove) },
    progressed,
  };
}

export interface DeadlineInput {
  /** Epoch ms. */
  startedAt: number;
  /** Seconds without progress after which the deployment has failed; null: no deadline. */
  deadlineSeconds: number | null;
  /** Epoch ms of the last progress (recordProgress said so); null: none since the start. */
  lastProgressAt: number | null;
  /** Epoch ms. */
  now: number;
}

export type DeadlineVerdict = { expired: false; remainingMs: number | null } | { expired: true; reason: string };

/** Expired once `deadlineSeconds` have passed since the last progress, or since the start if there was none. */
export function checkProgressDeadline(input: DeadlineInput): DeadlineVerdict {
  if (input.deadlineSeconds === null) return { expired: false, remainingMs: null };
  const since = Math.max(input.startedAt, input.lastProgressAt ?? input.startedAt);
  const remainingMs = since + input.deadlineSeconds * 1000 - input.now;
  if (remainingMs > 0) return { expired: false, remainingMs };
  const idle = Math.floor((input.now - since) / 1000);
  const what = input.lastProgressAt === null ? `no progress since the deployment started ${idle} s ago` : `no progress for ${idle} s (last at ${new Date(since).toISOString()})`;
  return { expired: true, reason: `${what}: past its progress deadline of ${input.deadlineSeconds} s` };
}
