// Registry users and robots in the store. Passwords are kept as bcrypt hashes (cost 10) and never
// returned nor logged; a robot's password is a generated 32-byte token, returned once by add().
// Every write goes through this class and moves the users' write generation on (generations.ts), which
// is what makes the authorizer forget remembered accounts and verified passwords at once.
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Knex } from 'knex';
import { Conflict, Invalid } from '../../shared/errors.ts';
import { ACCESS_CACHE_MS, fresh, writeGeneration, type WriteGeneration } from './generations.ts';
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

export interface RegistryUsersOptions {
  /** How long find() trusts an account read from the store at most (default 10 s; 0: read every time). */
  cacheMs?: number;
}

const MAX_REMEMBERED = 1000;

export class RegistryUsers {
  /** Moved on by every write (add, remove); see generations.ts. */
  readonly generation: WriteGeneration;
  private readonly cacheMs: number;
  private readonly remembered = new Map<string, { user: RegistryUser | null; generation: number; readAt: number }>();

  constructor(
    private readonly knex: Knex,
    private readonly clock: () => Date = () => new Date(),
    options: RegistryUsersOptions = {},
  ) {
    this.generation = writeGeneration(knex, 'users');
    this.cacheMs = options.cacheMs ?? ACCESS_CACHE_MS;
  }

  /**
   * get(), remembered: for the authorizer, which needs a bearer token's account (does it still exist,
   * which groups) on every request. A write through this class is seen by the next call; a write from
   * outside the process after `cacheMs` at most.
   */
  async find(name: string): Promise<RegistryUser | null> {
    const now = this.clock().getTime();
    const known = this.remembered.get(name);
    if (known !== undefined && known.generation === this.generation.value && fresh(known.readAt, now, this.cacheMs)) return known.user;
    const generation = this.generation.value;
    const user = await this.get(name);
    if (this.cacheMs > 0 && this.generation.value === generation) {
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
      this.remembered.set(name, { user, generation, readAt: now });
    }
    return user;
  }

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
    const inserted = await this.generation.during(() =>
      this.knex('registry_users')
        .insert({ name, password_hash: hash, kind: input.kind, groups: JSON.stringify(groups), created_at: createdAt })
        .onConflict('name')
        .ignore()
        .returning('name'),
    );
    if (inserted.length === 0) throw new Conflict(`registry ${input.kind} "${name}" already exists`);
    const user: AddedUser = { name, kind: input.kind, groups, createdAt };
    if (token !== undefined) user.token = token;
    return user;
  }

  /** True when the user existed. */
  async remove(name: string): Promise<boolean> {
    return this.generation.during(async () => (await this.knex('registry_users').where({ name }).delete()) > 0);
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
