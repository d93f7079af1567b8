// Who an app's tasks belong to, in the pool's owner format (cluster/owner.ts): `app:<app id>:<instance>`,
// e.g. `app:/prod/web:i-3f9c2a`. The app id keeps its leading slash, so that the prefix of a group,
// `app:/prod/`, lists every app below it and no other (`/production` is `app:/production:...`). An
// instance is one of the app's running slots; a task replacing a failed one keeps its instance's owner,
// so findByOwner(owner) tells, after a crash, every task that instance ever had. The instance id is the
// instances' code to choose: no ":", and short enough for the pool's 200 characters.
import { ownerPrefix, taskOwner } from '../../cluster/index.ts';
import { Invalid } from '../../shared/errors.ts';
import { ROOT_ID } from '../definition/index.ts';

export const APP_OWNER_KIND = 'app';

/** Matches cluster/task-spec.ts: an owner longer than this is refused at submission. */
const MAX_OWNER_LENGTH = 200;

/** The owner of an instance's tasks: `app:/prod/web:INSTANCE`. */
export function instanceOwner(appId: string, instanceId: string): string {
  const owner = taskOwner(APP_OWNER_KIND, appId, instanceId);
  if (owner.length > MAX_OWNER_LENGTH) {
    throw new Invalid(`task owner "${owner.slice(0, 40)}..." is longer than ${MAX_OWNER_LENGTH} characters: use a shorter instance id`);
  }
  return owner;
}

/** The prefix of every task of one app (`app:/prod/web:`), to list and watch them. */
export function appOwnerPrefix(appId: string): string {
  return ownerPrefix(APP_OWNER_KIND, appId);
}

/** The prefix of every task of every app in a group and below it (`app:/prod/`; `app:/` for all apps). */
export function groupOwnerPrefix(groupId: string): string {
  return `${APP_OWNER_KIND}:${groupId === ROOT_ID ? ROOT_ID : `${groupId}/`}`;
}

/**
 * The pool's task group of an app's tasks (`app:/prod/web`): constraints that count tasks (UNIQUE,
 * MAX_PER, GROUP_BY) and the spread ranker count the app's instances together, as Marathon counts an app's.
 */
export function appTaskGroup(appId: string): string {
  return taskOwner(APP_OWNER_KIND, appId);
}
