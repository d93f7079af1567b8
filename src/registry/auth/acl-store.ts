// The registry's ACL rules in the store: one rule per (repository glob, subject); setting it again
// replaces its actions.
import type { Knex } from 'knex';
import picomatch from 'picomatch';
import { Invalid } from '../../shared/errors.ts';
import type { AclRule } from './acl.ts';
import { REGISTRY_ACTIONS, type RegistryAction } from './authorizer.ts';
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

export class RegistryAcl {
  constructor(
    private readonly knex: Knex,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Creates or replaces the rule for (glob, subject). An empty action list denies. */
  async set(rule: AclRule): Promise<StoredAclRule> {
    const glob = assertGlob(rule.repositoryGlob);
    const subject = assertSubject(rule.subject);
    for (const action of rule.actions) {
      if (!(REGISTRY_ACTIONS as readonly string[]).includes(action)) throw new Invalid(`unknown action "${String(action)}" (pull, push, delete)`);
    }
    const actions = JSON.stringify(sortActions(rule.actions));
    await this.knex('registry_acl')
      .insert({ repository_glob: glob, subject, actions, created_at: this.clock().toISOString() })
      .onConflict(['repository_glob', 'subject'])
      .merge(['actions']);
    const row: Row = await this.knex('registry_acl').where({ repository_glob: glob, subject }).first();
    return toRule(row);
  }

  /** True when the rule existed. */
  async remove(repositoryGlob: string, subject: string): Promise<boolean> {
    return (await this.knex('registry_acl').where({ repository_glob: repositoryGlob, subject }).delete()) > 0;
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
