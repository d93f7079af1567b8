// The registry's ACL rules in the store: one rule per (repository glob, subject); setting it again
// replaces its actions. Every registry request evaluates the rules; they are read from the store once
// and kept in memory (rules()) until a rule is set or removed through this class (any instance over
// the same store, see generations.ts) or, for writes made outside this process, for `cacheMs` at most.
import type { Knex } from 'knex';
import picomatch from 'picomatch';
import { Invalid } from '../../shared/errors.ts';
import type { AclRule } from './acl.ts';
import { REGISTRY_ACTIONS, type RegistryAction } from './authorizer.ts';
import { ACCESS_CACHE_MS, fresh, writeGeneration, type WriteGeneration } from './generations.ts';
import { assertSubject } from './names.ts';
import { sortActions } from './scopes.ts';

export interface StoredAclRule extends AclRule {
  id: number;
  createdAt: string;
}

interface Row {
  id: number;
  repository_glob: string;
  subject: string;
  actions: string;
  created_at: string;
}

export interface RegistryAclOptions {
  /** How long the rules read for evaluation are trusted at most (default 10 s; 0 reads them every time). */
  cacheMs?: number;
}

export class RegistryAcl {
  private readonly generation: WriteGeneration;
  private readonly cacheMs: number;
  private cached: { rules: readonly AclRule[]; generation: number; readAt: number } | undefined;
  private loading: { generation: number; rules: Promise<readonly AclRule[]> } | undefined;

  constructor(
    private readonly knex: Knex,
    private readonly clock: () => Date = () => new Date(),
    options: RegistryAclOptions = {},
  ) {
    this.generation = writeGeneration(knex, 'acl');
    this.cacheMs = options.cacheMs ?? ACCESS_CACHE_MS;
  }

  /**
   * The rules, for evaluating a request: from memory unless a rule was written since they were read
   * (by this process: seen at once) or they are older than `cacheMs` (the bound for any other writer).
   */
  rules(): Promise<readonly AclRule[]> {
    const generation = this.generation.value;
    const now = this.clock().getTime();
    const cached = this.cached;
    if (cached !== undefined && cached.generation === generation && fresh(cached.readAt, now, this.cacheMs)) return Promise.resolve(cached.rules);
    if (this.loading !== undefined && this.loading.generation === generation) return this.loading.rules;
    const rules = this.list().then((list) => {
      const frozen = Object.freeze(list.map((r) => Object.freeze({ repositoryGlob: r.repositoryGlob, subject: r.subject, actions: Object.freeze([...r.actions]) })));
      // Filed under the generation taken before the read: a rule written meanwhile makes it stale at once.
      if (this.generation.value === generation) this.cached = { rules: frozen, generation, readAt: now };
      return frozen;
    });
    const loading = { generation, rules };
    this.loading = loading;
    const done = (): void => {
      if (this.loading === loading) this.loading = undefined;
    };
    rules.then(done, done);
    return rules;
  }

  /** Creates or replaces the rule for (glob, subject). An empty action list denies. */
  async set(rule: AclRule): Promise<StoredAclRule> {
    const glob = assertGlob(rule.repositoryGlob);
    const subject = assertSubject(rule.subject);
    for (const action of rule.actions) {
      if (!(REGISTRY_ACTIONS as readonly string[]).includes(action)) throw new Invalid(`unknown action "${String(action)}" (pull, push, delete)`);
    }
    const actions = JSON.stringify(sortActions(rule.actions));
    return this.generation.during(async () => {
      await this.knex('registry_acl')
        .insert({ repository_glob: glob, subject, actions, created_at: this.clock().toISOString() })
        .onConflict(['repository_glob', 'subject'])
        .merge(['actions']);
      const row: Row = await this.knex('registry_acl').where({ repository_glob: glob, subject }).first();
      return toRule(row);
    });
  }

  /** True when the rule existed. */
  async remove(repositoryGlob: string, subject: string): Promise<boolean> {
    return this.generation.during(async () => (await this.knex('registry_acl').where({ repository_glob: repositoryGlob, subject }).delete()) > 0);
  }

  async list(): Promise<StoredAclRule[]> {
    const rows: Row[] = await this.knex('registry_acl').select('*').orderBy([{ column: 'repository_glob' }, { column: 'subject' }]);
    return rows.map(toRule);
  }
}

function assertGlob(glob: string): string {
  if (glob === '' || glob.length > 255 || /\s/.test(glob)) throw new Invalid(`"${glob.slice(0, 80)}" is not a repository glob`);
  try {
    picomatch.makeRe(glob);
  } catch {
    throw new Invalid(`"${glob.slice(0, 80)}" is not a repository glob`);
  }
  return glob;
}

function toRule(row: Row): StoredAclRule {
  return {
    id: Number(row.id),
    repositoryGlob: row.repository_glob,
    subject: row.subject,
    actions: JSON.parse(row.actions) as RegistryAction[],
    createdAt: row.created_at,
  };
}
