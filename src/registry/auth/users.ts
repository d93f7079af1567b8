// Registry users and robots in the store. Passwords are kept as bcrypt hashes (cost 10) and never
// returned nor logged; a robot's password is a generated 32-byte token, returned once by add().
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Knex } from 'knex';
import { Conflict, Invalid } from '../../shared/errors.ts';
import { assertAccountName, assertGroupName } from './names.ts';

export type AccountKind = 'user' | 'robot';

export interface RegistryUser {
  name: string;
  kind: AccountKind;
  groups: string[];
  createdAt: string;
}

export interface AddUser {
  name: string;
  kind: AccountKind;
  /** Required for a user; a robot's password is generated. */
  password?: string;
  groups?: readonly string[];
}

export interface AddedUser extends RegistryUser {
  /** A robot's generated token: shown once, never stored in clear. */
  token?: string;
}

export const BCRYPT_COST = 10;
/** bcrypt reads at most 72 bytes; a longer password would be silently truncated. */
const MAX_PASSWORD_BYTES = 72;
const MIN_PASSWORD_LENGTH = 8;
/** Compared against when the user does not exist, so that an unknown name costs as much as a wrong password. */
const DUMMY_HASH = bcrypt.hashSync('gantry-no-such-user', BCRYPT_COST);

interface Row {
  name: string;
  password_hash: string;
  kind: string;
  groups: string;
  created_at: string;
}

export class RegistryUsers {
  constructor(
    private readonly knex: Knex,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async add(input: AddUser): Promise<AddedUser> {
    const name = assertAccountName(input.name);
    if (input.kind !== 'user' && input.kind !== 'robot') throw new Invalid(`kind must be user or robot`);
    const groups = [...new Set((input.groups ?? []).map(assertGroupName))].sort();
    let token: string | undefined;
    let password: string;
    if (input.kind === 'robot') {
      if (input.password !== undefined) throw new Invalid('a robot gets a generated token; do not give it a password');
      token = `grr_${randomBytes(32).toString('base64url')}`;
      password = token;
    } else {
      if (input.password === undefined) throw new Invalid('a user needs a password');
      password = input.password;
      if (password.length < MIN_PASSWORD_LENGTH) throw new Invalid(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
      if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new Invalid(`the password must have at most ${MAX_PASSWORD_BYTES} bytes`);
    }
    const createdAt = this.clock().toISOString();
    const hash = await bcrypt.hash(password, BCRYPT_COST);
    const inserted = await this.knex('registry_users')
      .insert({ name, password_hash: hash, kind: input.kind, groups: JSON.stringify(groups), created_at: createdAt })
      .onConflict('name')
      .ignore()
      .returning('name');
    if (inserted.length === 0) throw new Conflict(`registry ${input.kind} "${name}" already exists`);
    const user: AddedUser = { name, kind: input.kind, groups, createdAt };
    if (token !== undefined) user.token = token;
    return user;
  }

  /** True when the user existed. */
  async remove(name: string): Promise<boolean> {
    return (await this.knex('registry_users').where({ name }).delete()) > 0;
  }

  async list(): Promise<RegistryUser[]> {
    const rows: Row[] = await this.knex('registry_users').select('*').orderBy('name');
    return rows.map(toUser);
  }

  async get(name: string): Promise<RegistryUser | null> {
    const row: Row | undefined = await this.knex('registry_users').where({ name }).first();
    return row ? toUser(row) : null;
  }

  /** The user when the password is right, else null (unknown name or wrong password alike). */
  async verify(name: string, password: string): Promise<RegistryUser | null> {
    const row: Row | undefined = await this.knex('registry_users').where({ name }).first();
    if (!row) {
      await bcrypt.compare(password, DUMMY_HASH);
      return null;
    }
    return (await bcrypt.compare(password, row.password_hash)) ? toUser(row) : null;
  }
}

function toUser(row: Row): RegistryUser {
  return { name: row.name, kind: row.kind === 'robot' ? 'robot' : 'user', groups: JSON.parse(row.groups) as string[], createdAt: row.created_at };
}
