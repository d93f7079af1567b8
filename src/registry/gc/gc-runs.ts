// The record of registry garbage collections (migration 009-registry-gc), newest first.
import type { Knex } from 'knex';
import type { GcResult } from './collector.ts';

export type GcTrigger = 'api' | 'schedule';

export interface GcRun extends GcResult {
  id: number;
  trigger: GcTrigger;
}

export class GcRunStore {
  constructor(private readonly knex: Knex) {}

  async record(result: GcResult, trigger: GcTrigger): Promise<GcRun> {
    const [row] = await this.knex('registry_gc_runs')
      .insert({
        started_at: result.startedAt,
        finished_at: result.finishedAt,
        dry_run: result.dryRun,
        untagged: result.untagged,
        trigger,
        manifests: result.manifests.length,
        blobs: result.blobs.length,
        uploads: result.uploads.length,
        bytes_freed: result.bytesFreed,
        inodes_freed: result.inodesFreed,
        details: JSON.stringify({ graceMs: result.graceMs, manifests: result.manifests, blobs: result.blobs, uploads: result.uploads }),
      })
      .returning('id');
    const id = typeof row === 'object' ? Number((row as { id: number }).id) : Number(row);
    return { ...result, id, trigger };
  }

  async list(limit: number): Promise<GcRun[]> {
    const rows: Array<Record<string, unknown>> = await this.knex('registry_gc_runs').orderBy('id', 'desc').limit(limit);
    return rows.map((row) => {
      const details = JSON.parse(String(row.details)) as Pick<GcResult, 'graceMs' | 'manifests' | 'blobs' | 'uploads'>;
      return {
        id: Number(row.id),
        trigger: row.trigger as GcTrigger,
        dryRun: Boolean(row.dry_run),
        untagged: Boolean(row.untagged),
        startedAt: String(row.started_at),
        finishedAt: String(row.finished_at),
        bytesFreed: Number(row.bytes_freed),
        inodesFreed: Number(row.inodes_freed),
        ...details,
      };
    });
  }
}
