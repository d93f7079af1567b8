// Which of an agent's task users can use the Docker engine's socket: whoever can write it controls the
// engine, which is root on the host. The agent warns about them at start (task-users.ts), so that such
// a grant (a user of the `docker` group in --task-users, for CI steps that build images) is never silent.
import { stat } from 'node:fs/promises';
import type { TaskUser } from '../drivers/driver.ts';

/** The engine's socket as the docker driver finds it: DOCKER_HOST when it is unix://, else the usual path. */
export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/** The socket and the names of `users` that may write it; null when there is no socket here. */
export async function dockerSocketUsers(users: readonly TaskUser[], socket = dockerSocketPath()): Promise<{ socket: string; users: string[] } | null> {
  const info = await stat(socket).catch(() => null);
  if (!info) return null;
  const canWrite = (u: TaskUser): boolean =>
    u.uid === 0 ||
    (u.uid === info.uid && (info.mode & 0o200) !== 0) ||
    (u.groups.concat(u.gid).includes(info.gid) && (info.mode & 0o020) !== 0) ||
    (info.mode & 0o002) !== 0;
  return { socket, users: users.filter(canWrite).map((u) => u.name) };
}
