// Online garbage collection of the bundled registry: mark every digest a manifest keeps alive, sweep
// blob files and upload sessions that nothing references and that are older than a grace window, while
// pushes and pulls go on. Optionally untagged manifests are collected first (their blobs then follow).
//
// Safe against the race that corrupts CNCF distribution's repositories (a blob deleted while a push is
// about to reference it): each blob is deleted under the blob store's hold on its digest
// (BlobStore.withBlobsHeld), which the store also takes for pushes, mounts, manifest PUTs and HEADs,
// after re-checking in one transaction that nothing references it and that it was not pushed within the
// grace window; its rows go before its file.
// A push racing the collection therefore ends in a pullable image or in MANIFEST_BLOB_UNKNOWN (the
// client pushes the blob again), never in an accepted manifest whose blob is gone.
//
// A dry run walks the same way and lists exactly what a real run would delete at that moment.
import type { BlobStore } from '../storage/index.ts';
import type { RegistryMetadata } from '../metadata/registry-metadata.ts';

export interface CollectOptions {
  dryRun: boolean;
  /** Also collect manifests no tag points to (and then their blobs). */
  untagged: boolean;
  /** Nothing pushed, mounted or uploaded within this long is touched. */
  graceMs: number;
  /** Manifests to delete first (a retention policy's verdict), whatever their tags; then their blobs follow. */
  manifests?: ReadonlyArray<{ repository: string; digest: string; size: number }>;
  /** Told after each manifest deleted and each batch of blobs swept (for a progress bar). */
  onProgress?: (progress: GcProgress) => void;
}

/** Where a collection is: manifests deleted of those to delete, blobs deleted so far. */
export interface GcProgress {
  phase: 'manifests' | 'blobs';
  done: number;
  total: number | null;
}

export interface CollectedBlob {
  digest: string;
  size: number;
}

export interface GcResult {
  dryRun: boolean;
  untagged: boolean;
  graceMs: number;
  startedAt: string;
  finishedAt: string;
  manifests: Array<{ repository: string; digest: string; size: number }>;
  blobs: CollectedBlob[];
  uploads: Array<{ id: string; size: number }>;
  /** Bytes of the blob files and upload files deleted (or that would be). */
  bytesFreed: number;
  /** Files deleted (or that would be): one inode each; the fan-out directories stay. */
  inodesFreed: number;
}

/** Blobs deleted per transaction and per hold: short holds of the store's connection, so pushes go on (bench/README.md). */
const SWEEP_BATCH = 32;

export class GarbageCollector {
  /** One collection at a time: a second request waits for the first. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: RegistryMetadata,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  collect(options: CollectOptions): Promise<GcResult> {
    const run = this.running.then(() => this.collectNow(options));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async collectNow(options: CollectOptions): Promise<GcResult> {
    const started = this.clock();
    const olderThan = new Date(started.getTime() - options.graceMs).toISOString();
    const result: GcResult = {
      dryRun: options.dryRun,
      untagged: options.untagged,
      graceMs: options.graceMs,
      startedAt: started.toISOString(),
      finishedAt: '',
      manifests: [],
      blobs: [],
      uploads: [],
      bytesFreed: 0,
      inodesFreed: 0,
    };

    // 1. Manifests to delete (given, and untagged ones with the option): deleted through the metadata,
    //    which also drops their tags and references.
    const goingManifests = new Set<string>();
    const doomed = [...(options.manifests ?? []), ...(options.untagged ? await this.metadata.untaggedManifests(olderThan) : [])];
    for (const manifest of doomed) {
      if (goingManifests.has(`${manifest.repository}@${manifest.digest}`)) continue;
      if (!options.dryRun && !(await this.metadata.deleteManifest(manifest.repository, manifest.digest))) continue;
      result.manifests.push(manifest);
      goingManifests.add(`${manifest.repository}@${manifest.digest}`);
      options.onProgress?.({ phase: 'manifests', done: result.manifests.length, total: doomed.length });
    }

    // 2. Mark. In a dry run the manifests above are still there: leave out what they alone keep alive.
    const live = options.dryRun && goingManifests.size > 0 ? await this.metadata.liveDigestsExcept(goingManifests) : await this.metadata.liveDigests();
    const linked = await this.metadata.linkedBlobs();

    // 3. Sweep blobs: unreferenced, file and links older than the grace window; deleted a batch at a
    //    time (one transaction and one hold per batch; pushes go on in between).
    const batch: CollectedBlob[] = [];
    const sweep = async (): Promise<void> => {
      const deleted = options.dryRun ? batch : await this.deleteBlobs(batch, olderThan);
      for (const blob of deleted) {
        result.blobs.push(blob);
        result.bytesFreed += blob.size;
        result.inodesFreed++;
      }
      batch.length = 0;
      options.onProgress?.({ phase: 'blobs', done: result.blobs.length, total: null });
    };
    for await (const file of this.blobs.listBlobs()) {
      if (live.has(file.digest)) continue;
      if (file.modifiedAt.toISOString() >= olderThan) continue;
      const latestLink = linked.get(file.digest);
      if (latestLink !== undefined && latestLink >= olderThan) continue;
      batch.push({ digest: file.digest, size: file.size });
      if (batch.length >= SWEEP_BATCH) await sweep();
    }
    await sweep();

    // 4. Upload sessions started before the window, and temporary files no session owns (a crash's).
    const stale = new Set(await this.metadata.staleUploads(olderThan));
    const sessions = await this.metadata.uploadIds();
    for (const upload of await this.blobs.listUploads()) {
      const orphan = !sessions.has(upload.id) && upload.modifiedAt.toISOString() < olderThan;
      if (!stale.has(upload.id) && !orphan) continue;
      if (!options.dryRun) {
        await this.blobs.cancelUpload(upload.id);
        await this.metadata.deleteUpload(upload.id);
      }
      result.uploads.push({ id: upload.id, size: upload.size });
      result.bytesFreed += upload.size;
      result.inodesFreed++;
    }
    result.finishedAt = this.clock().toISOString();
    return result;
  }

  /**
   * Holding the blobs: unlinks those still unreferenced and old everywhere (one transaction), then
   * deletes their files. Returns the ones deleted.
   */
  private deleteBlobs(candidates: readonly CollectedBlob[], olderThan: string): Promise<CollectedBlob[]> {
    return this.blobs.withBlobsHeld(
      candidates.map((c) => c.digest),
      async (held) => {
        const unlinked = new Set(await this.metadata.unlinkUnreferencedBlobs(candidates.map((c) => c.digest), olderThan));
        const deleted: CollectedBlob[] = [];
        for (const candidate of candidates) if (unlinked.has(candidate.digest) && (await held.delete(candidate.digest))) deleted.push(candidate);
        return deleted;
      },
    );
  }
}
