// The platform's own registry account: a robot that agents (pulling task images) and pipelines
// (pushing what they build) use without anyone typing a password. It is made at the first start; its
// token lives in the store only as a bcrypt hash, and in clear in one file of the data directory
// (mode 0600, like the store itself), so that the server can hand it to its agents after a restart.
// A lost or wrong file gets a fresh token: the old one stops working.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeSecretFile } from '../shared/secret-files.ts';
import type { RegistryUsers } from './auth/users.ts';

export const PLATFORM_ROBOT = 'gantry-platform';
/** The robot's group, for ACL rules on private repositories: `acl set 'team/**' group:gantry-platform pull`. */
export const PLATFORM_GROUP = 'gantry-platform';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export async function ensurePlatformRobot(users: RegistryUsers, secretsDir: string): Promise<RegistryCredentials> {
  const file = path.join(secretsDir, 'registry-robot.token');
  const kept = await readFile(file, 'utf8').then((text) => text.trim(), () => '');
  if (kept !== '' && (await users.verify(PLATFORM_ROBOT, kept))?.kind === 'robot') {
    return { username: PLATFORM_ROBOT, password: kept };
  }
  await users.remove(PLATFORM_ROBOT);
  const robot = await users.add({ name: PLATFORM_ROBOT, kind: 'robot', groups: [PLATFORM_GROUP] });
  await writeSecretFile(file, `${robot.token!}\n`);
  return { username: PLATFORM_ROBOT, password: robot.token! };
}
