// Running retention: stored policies (`gantry registry policy set|ls|rm|run`) and ad-hoc prunes
// (`gantry registry prune`), each decided per repository by policy.ts and carried out, or only listed
// in a dry run, by the garbage collector, which deletes the chosen manifests and then the blobs only they
// kept alive. Every run is recorded: what was deleted, when, by which policy, bytes and inodes freed.
import type { Knex } from 'knex';
import { NotFound } from '../../shared/errors.ts';
import { globMatches } from '../auth/acl.ts';
import type { GarbageCollector, GcProgress, GcResult } from '../gc/collector.ts';
import type { RegistryMetadata } from '../metadata/registry-metadata.ts';
import { artifactsToDelete, parsePolicy, type RetentionPolicy } from './policy.ts';

export type RetentionTrigger = 'api' | 'schedule' | 'prune';

/** Where a run is: repositories decided, then the collector's progress (manifests, then blobs). */
export type RetentionProgress = { phase: 'repositories'; done: number; total: number } | GcProgress;

export interface DeletedArtifact {
  repository: string;
  digest: string;
  size: number;
  tags: string[];
}

export interface RetentionRun {
  id: number;
  policy: string;
  trigger: RetentionTrigger;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  /** Repositories the policy covered. */
  repositories: number;
  deleted: DeletedArtifact[];
  blobs: number;
  bytesFreed: number;
  inodesFreed: number;
}

export class Retention {
  constructor(
    private readonly knex: Knex,
    private readonly metadata: RegistryMetadata,
    private readonly gc: GarbageCollector,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  // ---- policies ----------------------------------------------------------------------------------

  /** Creates or replaces a policy; true when it is new. */
  async setPolicy(input: unknown): Promise<{ policy: RetentionPolicy; created: boolean }> {
    const policy = parsePolicy(input);
    const now = this.clock().toISOString();
    const existing = await this.knex('registry_retention_policies').where({ name: policy.name }).first('name');
    await this.knex('registry_retention_policies')
      .insert({ name: policy.name, spec: JSON.stringify(policy), created_at: now, updated_at: now })
      .onConflict('name')
      .merge(['spec', 'updated_at']);
    return { policy, created: !existing };
  }

  async policies(): Promise<RetentionPolicy[]> {
    return (await this.knex('registry_retention_policies').orderBy('name')).map((row: { spec: string }) => JSON.parse(row.spec) as RetentionPolicy);
  }

  async policy(name: string): Promise<RetentionPolicy> {
    const row = await this.knex('registry_retention_policies').where({ name }).first('spec');
    if (!row) throw new NotFound(`no retention policy named "${name}" (gantry registry policy ls)`);
    return JSON.parse(row.spec) as RetentionPolicy;
  }

  async removePolicy(name: string): Promise<void> {
    if ((await this.knex('registry_retention_policies').where({ name }).delete()) === 0) throw new NotFound(`no retention policy named "${name}"`);
  }

  // ---- runs --------------------------------------------------------------------------------------

  /** Applies a policy (stored or ad hoc) to every repository it covers; a dry run deletes nothing. */
  async run(
    policy: RetentionPolicy,
    options: { dryRun: boolean; graceMs: number; trigger: RetentionTrigger; onProgress?: (progress: RetentionProgress) => void },
  ): Promise<RetentionRun> {
    const now = this.clock();
    const repositories = (await this.metadata.repositoryNames()).filter((name) => globMatches(policy.repositories, name));
    if (repositories.length === 0 && !/[*?{]/.test(policy.repositories)) throw new NotFound(`no repository named "${policy.repositories}"`);
    const deleted: DeletedArtifact[] = [];
    for (const [i, repository] of repositories.entries()) {
      for (const artifact of artifactsToDelete(policy, await this.metadata.artifacts(repository), now)) {
        deleted.push({ repository, digest: artifact.digest, size: artifact.size, tags: artifact.tags.map((t) => t.name).sort() });
      }
      options.onProgress?.({ phase: 'repositories', done: i + 1, total: repositories.length });
    }
    if (policy.untagged) {
      const covered = new Set(repositories);
      for (const manifest of await this.metadata.untaggedManifests(now.toISOString())) {
        if (covered.has(manifest.repository)) deleted.push({ ...manifest, tags: [] });
      }
    }
    const collected = await this.gc.collect({
      dryRun: options.dryRun,
      untagged: false,
      graceMs: options.graceMs,
      manifests: deleted,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const gone = new Set(collected.manifests.map((m) => `${m.repository}@${m.digest}`));
    return this.record(policy.name, options.trigger, repositories.length, deleted.filter((d) => gone.has(`${d.repository}@${d.digest}`)), collected);
  }

  async runs(limit: number, policy?: string): Promise<RetentionRun[]> {
    const q = this.knex('registry_retention_runs').orderBy('id', 'desc').limit(limit);
    if (policy !== undefined) q.where({ policy });
    return (await q).map((row: Record<string, unknown>) => {
      const details = JSON.parse(String(row.details)) as { repositories: number; deleted: DeletedArtifact[] };
      return {
        id: Number(row.id),
        policy: String(row.policy),
        trigger: row.trigger as RetentionTrigger,
        dryRun: Boolean(row.dry_run),
        startedAt: String(row.started_at),
        finishedAt: String(row.finished_at),
        repositories: details.repositories,
        deleted: details.deleted,
        blobs: Number(row.blobs),
        bytesFreed: Number(row.bytes_freed),
        inodesFreed: Number(row.inodes_freed),
      };
    });
  }

  private async record(policy: string, trigger: RetentionTrigger, repositories: number, deleted: DeletedArtifact[], collected: GcResult): Promise<RetentionRun> {
    const [row] = await this.knex('registry_retention_runs')
      .insert({
        policy,
        trigger,
        dry_run: collected.dryRun,
        started_at: collected.startedAt,
        finished_at: collected.finishedAt,
        manifests: deleted.length,
        blobs: collected.blobs.length,
        bytes_freed: collected.bytesFreed,
        inodes_freed: collected.inodesFreed,
        details: JSON.stringify({ repositories, deleted }),
      })
      .returning('id');
    const id = typeof row === 'object' ? Number((row as { id: number }).id) : Number(row);
    return {
      id,
      policy,
      trigger,
      dryRun: collected.dryRun,
      startedAt: collected.startedAt,
      finishedAt: collected.finishedAt,
      repositories,
      deleted,
      blobs: collected.blobs.length,
      bytesFreed: collected.bytesFreed,
      inodesFreed: collected.inodesFreed,
    };
  }
}
