// The submission check of TaskSpec.user: a task naming a user that no agent allows could never run, so
// it is refused (400) before anything is stored, with the users the agents do allow. Agents register
// their allowed users (Registration.taskUsers); placement then keeps such a task to the agents that
// allow it (placement/filters/task-user.ts).
import { Invalid } from '../../shared/errors.ts';
import type { TaskSpec } from '../types.ts';

/**
 * Throws Invalid when `spec.user` is allowed by none of the agents in `byAgent` (agent id → its task
 * users). With no agent known yet the task is accepted and waits, as for resources.
 */
export function checkTaskUser(spec: Pick<TaskSpec, 'user'>, byAgent: ReadonlyMap<string, readonly string[]>): void {
  if (spec.user === undefined || byAgent.size === 0) return;
  const allowed = new Set<string>();
  for (const users of byAgent.values()) for (const user of users) allowed.add(user);
  if (allowed.has(spec.user)) return;
  const names = [...allowed].sort();
  throw new Invalid(`invalid task: no agent allows user "${spec.user}" (allowed: ${names.length > 0 ? names.join(', ') : 'none'}; see gantry agent --task-users)`);
}
