// Read-only views of the registry for people (the web frontend, src/web/): repositories and tags sorted
// and paged by the store, so that tens of thousands of tags stay one small query per page.
import type { Knex } from 'knex';
import { NotFound } from '../../shared/errors.ts';

export type RepositorySort = 'name' | 'size' | 'tags' | 'pushed';
export type TagSort = 'name' | 'size' | 'pushed';
export type Order = 'asc' | 'desc';

export interface Page<T> {
  total: number;
  items: T[];
}

export interface RepositorySummary {
  repository: string;
  tags: number;
  bytes: number;
  lastPushedAt: string | null;
}

export interface TagSummary {
  name: string;
  digest: string;
  mediaType: string;
  /** The manifest and every blob it references, as pushed (compressed). */
  size: number;
  pushedAt: string;
  pushedBy: string | null;
  lastPulledAt: string | null;
}

const REPOSITORY_ORDER: Record<RepositorySort, string> = { name: 'name', size: 'bytes', tags: 'tags', pushed: 'last_pushed_at' };
const TAG_ORDER: Record<TagSort, string> = { name: 't.name', size: 'size', pushed: 't.pushed_at' };

export class RegistryBrowser {
  constructor(private readonly knex: Knex) {}

  /** `only`: the repositories the caller may see (all when absent). */
  async repositories(options: { q?: string; only?: readonly string[]; sort: RepositorySort; order: Order; offset: number; limit: number }): Promise<Page<RepositorySummary>> {
    const k = this.knex;
    const base = k('registry_repositories as r');
    if (options.only) base.whereIn('r.name', options.only);
    if (options.q) base.whereRaw(`r.name LIKE ? ESCAPE '\\'`, [containing(options.q)]);
    const total = await countOf(base);
    const rows = await base
      .select(
        'r.name',
        k.raw('(SELECT COUNT(*) FROM registry_tags t WHERE t.repository_id = r.id) AS tags'),
        k.raw(
          '(SELECT COALESCE(SUM(b.size), 0) FROM registry_repository_blobs b WHERE b.repository_id = r.id) + (SELECT COALESCE(SUM(m.size), 0) FROM registry_manifests m WHERE m.repository_id = r.id) AS bytes',
        ),
        k.raw('(SELECT MAX(t.pushed_at) FROM registry_tags t WHERE t.repository_id = r.id) AS last_pushed_at'),
      )
      .orderBy(REPOSITORY_ORDER[options.sort], options.order)
      .orderBy('r.name', 'asc')
      .offset(options.offset)
      .limit(options.limit);
    return {
      total,
      items: rows.map((row: Record<string, unknown>) => ({
        repository: String(row.name),
        tags: Number(row.tags),
        bytes: Number(row.bytes),
        lastPushedAt: (row.last_pushed_at as string | null) ?? null,
      })),
    };
  }

  async tags(repository: string, options: { q?: string; sort: TagSort; order: Order; offset: number; limit: number }): Promise<Page<TagSummary>> {
    const k = this.knex;
    const repo = await k('registry_repositories').where({ name: repository }).first('id');
    if (!repo) throw new NotFound(`no repository named "${repository}"`);
    const base = k('registry_tags as t')
      .join('registry_manifests as m', function () {
        this.on('m.repository_id', 't.repository_id').andOn('m.digest', 't.manifest_digest');
      })
      .where('t.repository_id', repo.id);
    if (options.q) base.whereRaw(`t.name LIKE ? ESCAPE '\\'`, [containing(options.q)]);
    const total = await countOf(base);
    const rows = await base
      .select(
        't.name',
        't.manifest_digest',
        't.pushed_at',
        't.pushed_by',
        'm.media_type',
        'm.last_pulled_at',
        k.raw(
          `m.size + (SELECT COALESCE(SUM(b.size), 0) FROM registry_manifest_references f
             JOIN registry_repository_blobs b ON b.repository_id = f.repository_id AND b.digest = f.target_digest
             WHERE f.repository_id = m.repository_id AND f.manifest_digest = m.digest AND f.kind = 'blob') AS size`,
        ),
      )
      .orderBy(TAG_ORDER[options.sort], options.order)
      .orderBy('t.name', 'asc')
      .offset(options.offset)
      .limit(options.limit);
    return {
      total,
      items: rows.map((row: Record<string, unknown>) => ({
        name: String(row.name),
        digest: String(row.manifest_digest),
        mediaType: String(row.media_type),
        size: Number(row.size),
        pushedAt: String(row.pushed_at),
        pushedBy: (row.pushed_by as string | null) ?? null,
        lastPulledAt: (row.last_pulled_at as string | null) ?? null,
      })),
    };
  }
}

/** A LIKE pattern (the escape character is a backslash) for names containing `text`, its own % and _ taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** How many rows the query (before paging) has. */
async function countOf(query: Knex.QueryBuilder): Promise<number> {
  return Number(((await query.clone().count({ n: '*' }).first()) as { n: number } | undefined)?.n ?? 0);
}
