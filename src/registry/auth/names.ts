// Registry user, robot, group and ACL subject names.
import { Invalid } from '../../shared/errors.ts';

const NAME = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

/** Names that mean something else as an ACL subject or as a Basic user name. */
export const RESERVED_NAMES: readonly string[] = ['admin', 'anonymous', 'authenticated'];

export function assertAccountName(name: string): string {
  if (!NAME.test(name)) throw new Invalid(`"${name.slice(0, 80)}" is not a valid name (lower-case letters, digits, . _ -, at most 64)`);
  if (RESERVED_NAMES.includes(name)) throw new Invalid(`"${name}" is reserved`);
  return name;
}

export function assertGroupName(name: string): string {
  if (!NAME.test(name)) throw new Invalid(`"${name.slice(0, 80)}" is not a valid group name (lower-case letters, digits, . _ -, at most 64)`);
  return name;
}

/** A valid ACL subject: a user or robot name, `group:NAME`, `authenticated` or `anonymous`. */
export function assertSubject(subject: string): string {
  if (subject === 'anonymous' || subject === 'authenticated') return subject;
  if (subject.startsWith('group:')) {
    assertGroupName(subject.slice('group:'.length));
    return subject;
  }
  if (!NAME.test(subject) || subject === 'admin') throw new Invalid(`"${subject.slice(0, 80)}" is not an ACL subject (a user name, group:NAME, authenticated or anonymous)`);
  return subject;
}
