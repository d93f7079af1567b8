// CI secrets: values pipelines name with `from_secret`. Only names are ever listed; a value leaves the
// store only into the environment of a step that asked for it (and is masked in its output).
import type { Knex } from 'knex';
import { Invalid } from '../../shared/errors.ts';

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/;

export class SecretStore {
  constructor(private readonly knex: Knex) {}

  async set(name: string, value: string, now: string): Promise<void> {
    if (!SECRET_NAME.test(name)) throw new Invalid(`"${name.slice(0, 100)}" is not a secret name (letters, digits, _ . -; at most 100)`);
    if (value.length === 0 || value.length > 64 * 1024) throw new Invalid('a secret value must have 1 to 65536 characters');
    await this.knex('ci_secrets').insert({ name, value, updated_at: now }).onConflict('name').merge(['value', 'updated_at']);
  }

  async remove(name: string): Promise<boolean> {
    return (await this.knex('ci_secrets').where({ name }).delete()) > 0;
  }

  async list(): Promise<Array<{ name: string; updatedAt: string }>> {
    const rows: Array<{ name: string; updated_at: string }> = await this.knex('ci_secrets').orderBy('name').select('name', 'updated_at');
    return rows.map((r) => ({ name: r.name, updatedAt: r.updated_at }));
  }

  /** Environment variable → secret value, for a step's `ENV: {from_secret: NAME}` map. */
  async resolve(wanted: Record<string, string>): Promise<Record<string, string>> {
    const names = [...new Set(Object.values(wanted))];
    if (names.length === 0) return {};
    const rows: Array<{ name: string; value: string }> = await this.knex('ci_secrets').whereIn('name', names).select('name', 'value');
    const values = new Map(rows.map((r) => [r.name, r.value]));
    const missing = names.filter((n) => !values.has(n));
    if (missing.length > 0) throw new Invalid(`secret ${missing.map((n) => `"${n}"`).join(', ')} is not defined (gantry ci secret set NAME)`);
    return Object.fromEntries(Object.entries(wanted).map(([env, name]) => [env, values.get(name)!]));
  }
}
