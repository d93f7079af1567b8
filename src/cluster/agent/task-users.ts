// The users an agent's tasks may run as (`gantry agent --task-users a,b`, `gantry server
// --agent-task-users`, config `agent.taskUsers`, GANTRY_TASK_USERS), so that no task runs as root on
// the agent's host unless its operator said so.
//
// - The first user is the default: a task naming no user (TaskSpec.user) runs as it, with a private uid
//   of its own (private-uids.ts: its group and groups, not its uid, so that no two tasks share a uid;
//   `--task-uids off` shares the user's). A task naming one runs as that very user, if the agent allows
//   it (placement and the submission check see to that; the agent checks again at launch).
// - Nothing configured, running as root: `gantry-task`, a system user created at start if missing,
//   with a group of its own and no other group.
// - Not running as root: the agent cannot switch users. Its tasks run as itself, and it allows only its
//   own user name (anything configured besides is ignored, with a warning).
// - An unknown user in the list stops the agent's start with one line saying which.
// - Users who can use the Docker socket (root, its owner, a member of its group) are named in a warning:
//   that is root on the host, granted visibly (an operator adds a user of the `docker` group for CI
//   steps that build images, and the pipeline names it).
import os from 'node:os';
import type { Logger } from 'pino';
import { Invalid, Unavailable } from '../../shared/errors.ts';
import type { TaskUser } from '../drivers/driver.ts';
import { findSetpriv } from '../drivers/exec-user.ts';
import { USER_NAME, USER_NAME_RULE } from '../task-spec.ts';
import type { TaskSpec } from '../types.ts';
import { dockerSocketUsers } from './docker-socket-users.ts';
import { DEFAULT_PRIVATE_UIDS, PrivateUids, type UidHolder, type UidRange } from './private-uids.ts';
import { createSystemUser, DEFAULT_TASK_USER, lookUpUser } from './system-user.ts';

/** What a task with a private uid makes is group-writable: see TaskUser.umask. */
export const PRIVATE_UID_UMASK = 0o002;

export class TaskUsers {
  /**
   * `users`: the allowed users, the default first. `switches`: whether the agent runs tasks as them (it
   * runs as root). `privateUids`: the uids the default user's tasks get one of each, or null.
   */
  constructor(
    readonly users: readonly TaskUser[],
    readonly switches: boolean,
    readonly privateUids: PrivateUids | null = null,
  ) {}

  /** The agent's own user only, without switching: an agent not running as root, or one built without task users. */
  static own(): TaskUsers {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    return new TaskUsers([{ name: ownUserName(), uid, gid, groups: process.getgroups?.() ?? [gid] }], false);
  }

  get names(): string[] {
    return this.users.map((u) => u.name);
  }

  /** The user a task runs as: the one it names, else the default. Throws when this agent does not allow it. */
  forTask(spec: Pick<TaskSpec, 'user'>): TaskUser {
    if (spec.user === undefined) return this.users[0]!;
    const user = this.users.find((u) => u.name === spec.user);
    if (!user) throw new Error(`this agent does not allow tasks to run as ${spec.user} (allowed: ${this.names.join(', ')})`);
    return user;
  }

  /**
   * Who an exec task runs as: forTask's user, and for the default user a private uid held by the task
   * (or its workspace) until release. The same holder gets the same uid each time (restarts, probes).
   */
  runAs(spec: Pick<TaskSpec, 'user'>, holder: UidHolder): TaskUser {
    const user = this.forTask(spec);
    if (spec.user !== undefined || !this.privateUids || !this.switches || user.uid === 0) return user;
    return { ...user, uid: this.privateUids.claim(holder), umask: PRIVATE_UID_UMASK };
  }

  /** The holder no longer needs its private uid (see PrivateUids.release). */
  release(holder: UidHolder): void {
    this.privateUids?.release(holder);
  }
}

/** `a,b` as given on the command line or in GANTRY_TASK_USERS: the names, checked, without duplicates. */
export function parseTaskUsers(text: string, source: string): string[] {
  const names = text.split(',').map((n) => n.trim()).filter(Boolean);
  for (const name of names) if (!USER_NAME.test(name)) throw new Invalid(`${source}: "${name}": ${USER_NAME_RULE}`);
  return [...new Set(names)];
}

/**
 * Resolves the configured names (see the top of this file); logs what it decided. `uids`: the range of
 * private uids for the default user's tasks (--task-uids), null for none.
 */
export async function resolveTaskUsers(names: readonly string[], logger: Logger, uids: UidRange | null = DEFAULT_PRIVATE_UIDS): Promise<TaskUsers> {
  if (process.getuid?.() !== 0) {
    const own = TaskUsers.own();
    const ignored = names.filter((n) => n !== own.names[0]);
    logger.warn({ user: own.names[0], ...(ignored.length > 0 ? { ignored } : {}) }, `not running as root: tasks run as ${own.names[0]}, the only task user this agent allows`);
    return own;
  }
  const users: TaskUser[] = [];
  if (names.length === 0) {
    const found = await lookUpUser(DEFAULT_TASK_USER);
    if (found) users.push(found);
    else {
      const made = await createSystemUser(DEFAULT_TASK_USER);
      logger.info({ user: made.name, uid: made.uid, gid: made.gid }, `created the system user ${made.name} to run tasks as`);
      users.push(made);
    }
  }
  for (const name of names) {
    const user = await lookUpUser(name);
    if (!user) throw new Invalid(`unknown task user "${name}": no such user on this host`);
    users.push(user);
  }
  if (users.some((u) => u.uid !== 0) && !findSetpriv()) {
    throw new Unavailable(`setpriv (util-linux) is needed to run tasks as ${users.find((u) => u.uid !== 0)!.name}: install util-linux, or allow only root (--task-users root)`);
  }
  const privateUids = uids && users[0]!.uid !== 0 ? new PrivateUids(uids) : null;
  const taskUsers = new TaskUsers(users, true, privateUids);
  const how = privateUids ? ` with a private uid each (${uids!.first}-${uids!.last})` : '';
  logger.info({ taskUsers: taskUsers.names }, `tasks run as ${taskUsers.names[0]}${how} unless they name another allowed user`);
  const docker = await dockerSocketUsers(users);
  if (docker && docker.users.length > 0) {
    logger.warn({ socket: docker.socket, users: docker.users }, `task users with access to the Docker socket ${docker.socket} (root on this host): ${docker.users.join(', ')}`);
  }
  return taskUsers;
}

function ownUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown'); // a uid with no name on this host
  }
}
