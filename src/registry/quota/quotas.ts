// Storage quotas per repository glob. The quota of a repository is that of the longest glob matching
// it (as ACL rules: `team/**` for a team, `team/big` for one repository). A push that would take the
// repository over its quota (blob upload, mount, manifest) is refused with 403 DENIED and a message that
// says by how much; what the repository already holds costs nothing again. Usage is what the repository
// holds (its blobs once each, and its manifests), so a layer shared by two repositories counts in both
// quotas but once in the registry's total.
import type { Knex } from 'knex';
import { NotFound } from '../../shared/errors.ts';
import { globMatches } from '../auth/acl.ts';
import type { RegistryMetadata } from '../metadata/registry-metadata.ts';
import { RegistryError } from '../protocol/errors.ts';
import { checkGlob } from '../retention/policy.ts';

export interface Quota {
  repositoryGlob: string;
  maxBytes: number;
  createdAt: string;
}

export class RepositoryQuotas {
  /** The quotas, read once and again after each change made here. */
  private cached: Promise<Quota[]> | null = null;

  constructor(
    private readonly knex: Knex,
    private readonly metadata: RegistryMetadata,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async set(repositoryGlob: string, maxBytes: number): Promise<Quota> {
    checkGlob(repositoryGlob);
    const quota = { repository_glob: repositoryGlob, max_bytes: maxBytes, created_at: this.clock().toISOString() };
    await this.knex('registry_quotas').insert(quota).onConflict('repository_glob').merge(['max_bytes']);
    this.cached = null;
    return (await this.list()).find((q) => q.repositoryGlob === repositoryGlob)!;
  }

  async remove(repositoryGlob: string): Promise<void> {
    const removed = await this.knex('registry_quotas').where({ repository_glob: repositoryGlob }).delete();
    this.cached = null;
    if (removed === 0) throw new NotFound(`no quota for "${repositoryGlob}" (gantry registry quota ls)`);
  }

  list(): Promise<Quota[]> {
    this.cached ??= this.knex('registry_quotas')
      .orderBy('repository_glob')
      .then((rows: Array<{ repository_glob: string; max_bytes: number; created_at: string }>) =>
        rows.map((r) => ({ repositoryGlob: r.repository_glob, maxBytes: Number(r.max_bytes), createdAt: r.created_at })),
      );
    return this.cached;
  }

  /** The quota that applies to the repository (longest matching glob), or null. */
  async quotaFor(repository: string): Promise<Quota | null> {
    let best: Quota | null = null;
    for (const quota of await this.list()) {
      if (globMatches(quota.repositoryGlob, repository) && (best === null || quota.repositoryGlob.length > best.repositoryGlob.length)) best = quota;
    }
    return best;
  }

  /**
   * Refuses (403 DENIED) when adding `bytes` of `digest` would take the repository over its quota. A
   * digest the repository already holds adds nothing; without a digest (a session starting) the check
   * is whether the repository is already full.
   */
  async check(repository: string, bytes: number, digest?: string): Promise<void> {
    const quota = await this.quotaFor(repository);
    if (quota === null) return;
    if (digest !== undefined && (await this.metadata.repositoryHolds(repository, digest))) return;
    const used = await this.metadata.repositoryBytes(repository);
    if (used + bytes <= quota.maxBytes && (bytes > 0 || used < quota.maxBytes)) return;
    throw new RegistryError(
      'DENIED',
      `repository ${repository} is over its quota: ${used} of ${quota.maxBytes} bytes used (quota "${quota.repositoryGlob}"), this push needs ${bytes} more; delete tags and collect garbage, or raise the quota`,
      { repository, quota: quota.repositoryGlob, maxBytes: quota.maxBytes, usedBytes: used, neededBytes: bytes },
    );
  }
}
