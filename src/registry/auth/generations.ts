// Write generations for the registry's access tables (users, ACL rules): a counter per database handle
// that every write through RegistryUsers / RegistryAcl moves on, before it starts and after it ends.
// What the authorizer keeps in memory (the ACL rules, a user's groups, a verified Basic password) is
// filed under the generation it was read at and used only while that generation is current, so a write
// made in this process is seen by the very next request. The counter lives per knex instance, not per
// object, so that every RegistryUsers / RegistryAcl over the same store (the registry's, the platform
// API's) sees the others' writes. Writes from outside the process (someone editing the database by hand)
// are not seen this way: each cache also has a time bound (ACCESS_CACHE_MS by default).
import type { Knex } from 'knex';

/** How long access data read from the store is trusted at most, for writes this process did not make. */
export const ACCESS_CACHE_MS = 10_000;

/** Whether something read at `readAt` may still be used at `now` (a clock set back counts as stale). */
export function fresh(readAt: number, now: number, maxAgeMs: number): boolean {
  return now >= readAt && now - readAt < maxAgeMs;
}

export class WriteGeneration {
  private current = 0;

  get value(): number {
    return this.current;
  }

  /** Runs a write; anything read before it ends (committed or not) is no longer current afterwards. */
  async during<T>(write: () => Promise<T>): Promise<T> {
    this.current++;
    try {
      return await write();
    } finally {
      this.current++;
    }
  }
}

const byDatabase = new WeakMap<Knex, Map<string, WriteGeneration>>();

export function writeGeneration(knex: Knex, table: 'users' | 'acl'): WriteGeneration {
  let tables = byDatabase.get(knex);
  if (!tables) {
    tables = new Map();
    byDatabase.set(knex, tables);
  }
  let generation = tables.get(table);
  if (!generation) {
    generation = new WriteGeneration();
    tables.set(table, generation);
  }
  return generation;
}
