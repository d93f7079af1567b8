// RegistryMetadata: everything the registry knows besides the blob bytes, in the platform's store.
// Writes that must agree with each other (a manifest, its references, its tag) happen in one
// transaction; the protocol layer never touches tables.
//
// Every write to registry_repositories, registry_manifests and registry_tags must go through this class:
// resolutions of tags and digests are remembered in memory (manifest-lookups.ts), and the writes here are
// what forget them. Code that changes those tables some other way (a future garbage collector, say) must
// call a method here or `invalidate`, or pulls would keep seeing what it removed.
import type { Knex } from 'knex';
import { ManifestUnknown, MissingReferences, RepositoryUnknown } from './errors.ts';
import { ManifestLookups } from './manifest-lookups.ts';
import type { Actor, ManifestHead, ManifestInput, ManifestRecord, Page, TagRecord, UploadRecord } from './records.ts';

type Db = Knex | Knex.Transaction;

const PULL_RECORD_INTERVAL_MS = 60_000;

/**
 * One resolution cache per database handle, so that two RegistryMetadata over the same store (the
 * registry's and, say, a test's or an admin route's) forget each other's writes.
 */
const lookupsByDatabase = new WeakMap<Knex, ManifestLookups>();

/** A manifest of a repository as retention sees it. */
export interface Artifact {
  repository: string;
  digest: string;
  size: number;
  pushedAt: string;
  lastPulledAt: string | null;
  /** The manifest it refers to (a signature, an SBOM), or null. */
  subjectDigest: string | null;
  /** Another manifest of the repository (an index) references it. */
  referenced: boolean;
  tags: Array<{ name: string; pushedAt: string }>;
}

export class RegistryMetadata {
  /** When each manifest's pull was last written, so that busy manifests are written once a minute. */
  private readonly pullsRecorded = new Map<string, number>();
  private readonly lookups: ManifestLookups;

  constructor(private readonly knex: Knex) {
    let lookups = lookupsByDatabase.get(knex);
    if (!lookups) {
      lookups = new ManifestLookups();
      lookupsByDatabase.set(knex, lookups);
    }
    this.lookups = lookups;
  }

  /** Forgets what tags and digests of the repository resolve to (every write here does it). */
  invalidate(repository: string): void {
    this.lookups.invalidate(repository);
  }

  /**
   * Runs a write that may change what the repository's tags or digests resolve to, forgetting the
   * resolutions before it starts (reads while it runs go to the store) and after it has ended, committed
   * or not (a read that raced with it is filed under a generation that is no longer current).
   */
  private async changing<T>(repository: string, write: () => Promise<T>): Promise<T> {
    this.lookups.invalidate(repository);
    try {
      return await write();
    } finally {
      this.lookups.invalidate(repository);
    }
  }

  /**
   * A column in byte order on every database (SQLite's default; PostgreSQL's default collation is the
   * locale's), so `n`/`last` paging gives the same pages on both, as distribution's Go sort does.
   */
  private byteOrder(column: string): string {
    return this.knex.client.config.client === 'pg' ? `${column} COLLATE "C"` : column;
  }

  // ---- repositories ------------------------------------------------------------------------------

  /** The repository's id, creating it on first push. */
  async ensureRepository(name: string, at: string, db: Db = this.knex): Promise<number> {
    await db('registry_repositories').insert({ name, created_at: at }).onConflict('name').ignore();
    return this.repositoryId(name, db);
  }

  async repositoryExists(name: string): Promise<boolean> {
    return (await this.findRepositoryId(name)) !== null;
  }

  /** Repository names in lexical order after `last`, at most `n` (the `_catalog` page). */
  async listRepositories(n: number, last?: string): Promise<Page<string>> {
    const q = this.knex('registry_repositories').select('name').orderByRaw(this.byteOrder('name')).limit(n + 1);
    if (last !== undefined) q.whereRaw(`${this.byteOrder('name')} > ?`, [last]);
    return page((await q).map((r: { name: string }) => r.name), n);
  }

  private async findRepositoryId(name: string, db: Db = this.knex): Promise<number | null> {
    const row = await db('registry_repositories').where({ name }).first('id');
    return row ? Number(row.id) : null;
  }

  private async repositoryId(name: string, db: Db = this.knex): Promise<number> {
    const id = await this.findRepositoryId(name, db);
    if (id === null) throw new RepositoryUnknown(name);
    return id;
  }

  // ---- blobs -------------------------------------------------------------------------------------

  /** Makes a stored blob readable in the repository (after a push or a mount). Idempotent. */
  async linkBlob(repository: string, digest: string, size: number, actor: Actor): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const id = await this.ensureRepository(repository, actor.at, trx);
      await trx('registry_repository_blobs')
        .insert({ repository_id: id, digest, size, pushed_at: actor.at, pushed_by: actor.by })
        .onConflict(['repository_id', 'digest'])
        // Pushed again: the garbage collector's grace window counts from now (a manifest may follow).
        .merge(['pushed_at', 'pushed_by']);
    });
  }

  /** The blob's size when the repository may read it, else null. */
  async blobSize(repository: string, digest: string): Promise<number | null> {
    const row = await this.knex('registry_repository_blobs as b')
      .join('registry_repositories as r', 'r.id', 'b.repository_id')
      .where({ 'r.name': repository, 'b.digest': digest })
      .first('b.size');
    return row ? Number(row.size) : null;
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const id = await this.findRepositoryId(repository);
    if (id === null) return false;
    return (await this.knex('registry_repository_blobs').where({ repository_id: id, digest }).delete()) > 0;
  }

  // ---- manifests and tags ------------------------------------------------------------------------

  /**
   * Records a pushed manifest, what it references, and optionally points a tag at it, all or nothing.
   * Throws MissingReferences when it names blobs or manifests the repository does not have.
   */
  async putManifest(repository: string, manifest: ManifestInput, tag: string | null, actor: Actor): Promise<void> {
    await this.changing(repository, () => this.insertManifest(repository, manifest, tag, actor));
  }

  private async insertManifest(repository: string, manifest: ManifestInput, tag: string | null, actor: Actor): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const id = await this.ensureRepository(repository, actor.at, trx);
      await this.checkReferences(trx, id, manifest);
      await trx('registry_manifests')
        .insert({
          repository_id: id,
          digest: manifest.digest,
          media_type: manifest.mediaType,
          size: manifest.size,
          artifact_type: manifest.artifactType ?? null,
          subject_digest: manifest.subjectDigest ?? null,
          annotations: manifest.annotations ? JSON.stringify(manifest.annotations) : null,
          pushed_at: actor.at,
          pushed_by: actor.by,
        })
        .onConflict(['repository_id', 'digest'])
        .ignore();
      const references = dedupe(manifest.references).map((r) => ({ repository_id: id, manifest_digest: manifest.digest, target_digest: r.digest, kind: r.kind }));
      for (let i = 0; i < references.length; i += 100) {
        await trx('registry_manifest_references').insert(references.slice(i, i + 100)).onConflict(['repository_id', 'manifest_digest', 'target_digest']).ignore();
      }
      if (tag !== null) {
        await trx('registry_tags')
          .insert({ repository_id: id, name: tag, manifest_digest: manifest.digest, pushed_at: actor.at, pushed_by: actor.by })
          .onConflict(['repository_id', 'name'])
          .merge(['manifest_digest', 'pushed_at', 'pushed_by']);
      }
    });
  }

  private async checkReferences(trx: Knex.Transaction, repositoryId: number, manifest: ManifestInput): Promise<void> {
    const blobs = manifest.references.filter((r) => r.kind === 'blob').map((r) => r.digest);
    const manifests = manifest.references.filter((r) => r.kind === 'manifest').map((r) => r.digest);
    const present = new Set<string>();
    for (let i = 0; i < blobs.length; i += 500) {
      const rows = await trx('registry_repository_blobs').where({ repository_id: repositoryId }).whereIn('digest', blobs.slice(i, i + 500)).select('digest');
      for (const row of rows) present.add(row.digest);
    }
    for (let i = 0; i < manifests.length; i += 500) {
      const rows = await trx('registry_manifests').where({ repository_id: repositoryId }).whereIn('digest', manifests.slice(i, i + 500)).select('digest');
      for (const row of rows) present.add(row.digest);
    }
    const missing = [...new Set([...blobs, ...manifests])].filter((d) => !present.has(d));
    if (missing.length > 0) throw new MissingReferences(missing);
  }

  /** A manifest by tag or digest. */
  async getManifest(repository: string, reference: string): Promise<ManifestRecord> {
    const id = await this.repositoryId(repository);
    const digest = reference.includes(':') ? reference : await this.tagTarget(id, reference);
    const row = digest ? await this.knex('registry_manifests').where({ repository_id: id, digest }).first() : undefined;
    if (!row) throw new ManifestUnknown(repository, reference);
    return toManifest(repository, row);
  }

  /**
   * What a GET or HEAD needs of a manifest by tag or digest, from memory when this repository has not
   * changed since it was last read (see manifest-lookups.ts); RepositoryUnknown / ManifestUnknown as
   * getManifest. Unknown references are not remembered: the next push may create them.
   */
  async resolveManifest(repository: string, reference: string): Promise<ManifestHead> {
    const known = this.lookups.get(repository, reference);
    if (known !== undefined) return known;
    const generation = this.lookups.generation(repository);
    const record = await this.getManifest(repository, reference);
    const head: ManifestHead = { digest: record.digest, mediaType: record.mediaType, size: record.size };
    this.lookups.set(repository, reference, generation, head);
    return head;
  }

  private async tagTarget(repositoryId: number, tag: string): Promise<string | null> {
    const row = await this.knex('registry_tags').where({ repository_id: repositoryId, name: tag }).first('manifest_digest');
    return row ? String(row.manifest_digest) : null;
  }

  /**
   * Records a pull (for retention by last pull). At most one write per manifest per minute: a write
   * on every GET would serialise pulls behind SQLite's single writer, and retention works in days.
   */
  async markPulled(repository: string, digest: string, at: string): Promise<void> {
    const key = `${repository}@${digest}`;
    const when = Date.parse(at);
    const last = this.pullsRecorded.get(key);
    if (last !== undefined && when - last < PULL_RECORD_INTERVAL_MS) return;
    if (this.pullsRecorded.size >= 100_000) this.pullsRecorded.clear();
    this.pullsRecorded.set(key, when);
    const id = await this.findRepositoryId(repository);
    if (id !== null) await this.knex('registry_manifests').where({ repository_id: id, digest }).update({ last_pulled_at: at });
  }

  /** Deletes a manifest, the tags pointing at it and its references. False when it was not there. */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const id = await this.repositoryId(repository);
    return this.changing(repository, () =>
      this.knex.transaction(async (trx) => {
        await trx('registry_tags').where({ repository_id: id, manifest_digest: digest }).delete();
        await trx('registry_manifest_references').where({ repository_id: id, manifest_digest: digest }).delete();
        return (await trx('registry_manifests').where({ repository_id: id, digest }).delete()) > 0;
      }),
    );
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const id = await this.repositoryId(repository);
    return this.changing(repository, async () => (await this.knex('registry_tags').where({ repository_id: id, name: tag }).delete()) > 0);
  }

  /** Tag names in lexical order after `last`, at most `n`. */
  async listTags(repository: string, n: number, last?: string): Promise<Page<string>> {
    const id = await this.repositoryId(repository);
    const q = this.knex('registry_tags').where({ repository_id: id }).select('name').orderByRaw(this.byteOrder('name')).limit(n + 1);
    if (last !== undefined) q.whereRaw(`${this.byteOrder('name')} > ?`, [last]);
    return page((await q).map((r: { name: string }) => r.name), n);
  }

  async tags(repository: string): Promise<TagRecord[]> {
    const id = await this.repositoryId(repository);
    const rows = await this.knex('registry_tags').where({ repository_id: id }).orderBy('name');
    return rows.map((r: Record<string, unknown>) => ({ name: String(r.name), digest: String(r.manifest_digest), pushedAt: String(r.pushed_at), pushedBy: (r.pushed_by as string | null) ?? null }));
  }

  /** Manifests whose subject is `digest`, optionally only those of one artifact type. */
  async referrers(repository: string, digest: string, artifactType?: string): Promise<ManifestRecord[]> {
    const id = await this.repositoryId(repository);
    const q = this.knex('registry_manifests').where({ repository_id: id, subject_digest: digest }).orderBy('digest');
    if (artifactType !== undefined) q.where({ artifact_type: artifactType });
    return (await q).map((row: Record<string, unknown>) => toManifest(repository, row));
  }

  // ---- garbage collection (src/registry/gc/) -----------------------------------------------------------

  /** Every digest something keeps alive: each manifest (its own bytes) and everything a manifest references. */
  async liveDigests(): Promise<Set<string>> {
    const live = new Set<string>();
    for (const row of await this.knex('registry_manifests').distinct('digest')) live.add(String(row.digest));
    for (const row of await this.knex('registry_manifest_references').distinct('target_digest')) live.add(String(row.target_digest));
    return live;
  }

  /** liveDigests() as it would be without the manifests in `going` (`repository@digest`): for a dry run. */
  async liveDigestsExcept(going: ReadonlySet<string>): Promise<Set<string>> {
    const live = new Set<string>();
    const manifests = await this.knex('registry_manifests as m').join('registry_repositories as r', 'r.id', 'm.repository_id').select('r.name as repository', 'm.digest');
    for (const row of manifests as Array<{ repository: string; digest: string }>) if (!going.has(`${row.repository}@${row.digest}`)) live.add(row.digest);
    const references = await this.knex('registry_manifest_references as f').join('registry_repositories as r', 'r.id', 'f.repository_id').select('r.name as repository', 'f.manifest_digest', 'f.target_digest');
    for (const row of references as Array<{ repository: string; manifest_digest: string; target_digest: string }>) {
      if (!going.has(`${row.repository}@${row.manifest_digest}`)) live.add(row.target_digest);
    }
    return live;
  }

  /** Blobs linked to repositories: digest → the latest time one was pushed or mounted. */
  async linkedBlobs(): Promise<Map<string, string>> {
    const rows: Array<{ digest: string; latest: string }> = await this.knex('registry_repository_blobs').select('digest').max({ latest: 'pushed_at' }).groupBy('digest');
    return new Map(rows.map((row) => [String(row.digest), String(row.latest)]));
  }

  /**
   * Of `digests`, unlinks from every repository those that nothing references and that were not pushed
   * or mounted since `olderThan`, in one transaction; returns them (they may be deleted). The caller
   * holds the digests (BlobStore.withBlobsHeld), so no push, mount or manifest can take one meanwhile.
   */
  async unlinkUnreferencedBlobs(digests: readonly string[], olderThan: string): Promise<string[]> {
    if (digests.length === 0) return [];
    return this.knex.transaction(async (trx) => {
      const keep = new Set<string>();
      for (const row of await trx('registry_manifests').whereIn('digest', digests).distinct('digest')) keep.add(String(row.digest));
      for (const row of await trx('registry_manifest_references').whereIn('target_digest', digests).distinct('target_digest')) keep.add(String(row.target_digest));
      for (const row of await trx('registry_repository_blobs').whereIn('digest', digests).where('pushed_at', '>=', olderThan).distinct('digest')) keep.add(String(row.digest));
      const unlinked = digests.filter((d) => !keep.has(d));
      if (unlinked.length > 0) await trx('registry_repository_blobs').whereIn('digest', unlinked).delete();
      return unlinked;
    });
  }

  /**
   * Manifests no tag points to, that no other manifest of their repository references (an index's
   * children), that are not referrers of a manifest that stays, pushed before `olderThan`.
   */
  async untaggedManifests(olderThan: string): Promise<Array<{ repository: string; digest: string; size: number }>> {
    const rows = await this.knex('registry_manifests as m')
      .join('registry_repositories as r', 'r.id', 'm.repository_id')
      .leftJoin('registry_tags as t', function () {
        this.on('t.repository_id', 'm.repository_id').andOn('t.manifest_digest', 'm.digest');
      })
      .leftJoin('registry_manifests as s', function () {
        this.on('s.repository_id', 'm.repository_id').andOn('s.digest', 'm.subject_digest');
      })
      .whereNull('t.name')
      .where('m.pushed_at', '<', olderThan)
      .whereNotExists(function () {
        this.select('*').from('registry_manifest_references as ref').whereRaw('ref.repository_id = m.repository_id').whereRaw('ref.target_digest = m.digest');
      })
      .select('r.name as repository', 'm.digest', 'm.size', 'm.subject_digest', 's.digest as subject_present');
    const untagged = new Set(rows.map((row: { repository: string; digest: string }) => `${row.repository}@${row.digest}`));
    return (rows as Array<{ repository: string; digest: string; size: number; subject_digest: string | null; subject_present: string | null }>)
      // A signature or SBOM stays with its image: collected only when its subject goes too (or is gone).
      .filter((row) => row.subject_digest === null || row.subject_present === null || untagged.has(`${row.repository}@${row.subject_digest}`))
      .map((row) => ({ repository: String(row.repository), digest: String(row.digest), size: Number(row.size) }));
  }

  // ---- usage (quotas, `gantry registry df --repos`) -------------------------------------------------

  /** Bytes a repository holds: its blobs (pushed or mounted into it, each once) and its manifests. */
  async repositoryBytes(repository: string): Promise<number> {
    const id = await this.findRepositoryId(repository);
    if (id === null) return 0;
    const blobs = await this.knex('registry_repository_blobs').where({ repository_id: id }).sum({ bytes: 'size' }).first();
    const manifests = await this.knex('registry_manifests').where({ repository_id: id }).sum({ bytes: 'size' }).first();
    return Number(blobs?.bytes ?? 0) + Number(manifests?.bytes ?? 0);
  }

  /** Whether the repository already holds this blob or manifest (pushing it again adds nothing). */
  async repositoryHolds(repository: string, digest: string): Promise<boolean> {
    const id = await this.findRepositoryId(repository);
    if (id === null) return false;
    const blob = await this.knex('registry_repository_blobs').where({ repository_id: id, digest }).first('digest');
    return blob !== undefined || (await this.knex('registry_manifests').where({ repository_id: id, digest }).first('digest')) !== undefined;
  }

  /**
   * Bytes per repository, and in total with every blob and manifest counted once however many
   * repositories hold it (a shared base layer is one file on disk).
   */
  async usageByRepository(): Promise<{ repositories: Array<{ repository: string; bytes: number; tags: number }>; totalBytes: number }> {
    const sums = (table: string) =>
      this.knex(`${table} as x`).join('registry_repositories as r', 'r.id', 'x.repository_id').groupBy('r.name').select('r.name as repository').sum({ bytes: 'x.size' });
    const bytes = new Map<string, number>();
    for (const row of [...(await sums('registry_repository_blobs')), ...(await sums('registry_manifests'))] as Array<{ repository: string; bytes: number }>) {
      bytes.set(row.repository, (bytes.get(row.repository) ?? 0) + Number(row.bytes ?? 0));
    }
    const tags = new Map<string, number>();
    const tagRows = await this.knex('registry_tags as t').join('registry_repositories as r', 'r.id', 't.repository_id').groupBy('r.name').select('r.name as repository').count({ n: '*' });
    for (const row of tagRows as Array<{ repository: string; n: number }>) tags.set(row.repository, Number(row.n));
    const distinct = await this.knex
      .from(
        this.knex('registry_repository_blobs').select('digest', 'size').union(this.knex('registry_manifests').select('digest', 'size')).as('all_digests'),
      )
      .select(this.knex.raw('SUM(size) as total'))
      .first();
    const names = await this.repositoryNames();
    return {
      repositories: names.map((repository) => ({ repository, bytes: bytes.get(repository) ?? 0, tags: tags.get(repository) ?? 0 })),
      totalBytes: Number((distinct as { total?: number } | undefined)?.total ?? 0),
    };
  }

  /** Every repository's name (retention walks them all; 10,000 names are a few hundred KiB). */
  async repositoryNames(): Promise<string[]> {
    return (await this.knex('registry_repositories').orderBy('name').select('name')).map((row: { name: string }) => String(row.name));
  }

  /**
   * A repository's manifests with their tags, push and pull times, and whether another manifest of the
   * repository references them (an index's children: never deleted on their own).
   */
  async artifacts(repository: string): Promise<Artifact[]> {
    const id = await this.findRepositoryId(repository);
    if (id === null) return [];
    const manifests: Array<Record<string, unknown>> = await this.knex('registry_manifests').where({ repository_id: id });
    const tags: Array<Record<string, unknown>> = await this.knex('registry_tags').where({ repository_id: id });
    const referenced = new Set((await this.knex('registry_manifest_references').where({ repository_id: id, kind: 'manifest' }).distinct('target_digest')).map((r: { target_digest: string }) => r.target_digest));
    const byDigest = new Map<string, Artifact>();
    for (const row of manifests) {
      byDigest.set(String(row.digest), {
        repository,
        digest: String(row.digest),
        size: Number(row.size),
        pushedAt: String(row.pushed_at),
        lastPulledAt: (row.last_pulled_at as string | null) ?? null,
        subjectDigest: (row.subject_digest as string | null) ?? null,
        referenced: referenced.has(String(row.digest)),
        tags: [],
      });
    }
    for (const row of tags) byDigest.get(String(row.manifest_digest))?.tags.push({ name: String(row.name), pushedAt: String(row.pushed_at) });
    return [...byDigest.values()];
  }

  /** Upload sessions started before `olderThan`. */
  async staleUploads(olderThan: string): Promise<string[]> {
    return (await this.knex('registry_uploads').where('started_at', '<', olderThan).select('id')).map((row: { id: string }) => String(row.id));
  }

  async uploadIds(): Promise<Set<string>> {
    return new Set((await this.knex('registry_uploads').select('id')).map((row: { id: string }) => String(row.id)));
  }

  // ---- upload sessions ---------------------------------------------------------------------------

  async createUpload(repository: string, uploadId: string, actor: Actor): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const id = await this.ensureRepository(repository, actor.at, trx);
      await trx('registry_uploads').insert({ id: uploadId, repository_id: id, started_at: actor.at, started_by: actor.by });
    });
  }

  /** The upload session when it belongs to the repository, else null (OCI BLOB_UPLOAD_UNKNOWN). */
  async findUpload(repository: string, uploadId: string): Promise<UploadRecord | null> {
    const row = await this.knex('registry_uploads as u')
      .join('registry_repositories as r', 'r.id', 'u.repository_id')
      .where({ 'u.id': uploadId, 'r.name': repository })
      .first('u.id', 'u.started_at', 'u.started_by');
    return row ? { id: String(row.id), repository, startedAt: String(row.started_at), startedBy: (row.started_by as string | null) ?? null } : null;
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await this.knex('registry_uploads').where({ id: uploadId }).delete();
  }
}

function page<T>(rows: T[], n: number): Page<T> {
  return { items: rows.slice(0, n), more: rows.length > n };
}

function dedupe<T extends { digest: string }>(items: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(item.digest)) seen.set(item.digest, item);
  return [...seen.values()];
}

function toManifest(repository: string, row: Record<string, unknown>): ManifestRecord {
  return {
    repository,
    digest: String(row.digest),
    mediaType: String(row.media_type),
    size: Number(row.size),
    artifactType: (row.artifact_type as string | null) ?? null,
    subjectDigest: (row.subject_digest as string | null) ?? null,
    annotations: row.annotations ? (JSON.parse(String(row.annotations)) as Record<string, string>) : null,
    pushedAt: String(row.pushed_at),
    pushedBy: (row.pushed_by as string | null) ?? null,
    lastPulledAt: (row.last_pulled_at as string | null) ?? null,
  };
}
