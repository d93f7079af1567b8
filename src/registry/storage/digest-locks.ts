// Per-digest mutual exclusion inside the registry process, between the garbage collector deleting a
// blob and everything that could make that blob live again at the same moment: publishing it (an
// upload or a manifest's own bytes) and linking it to a repository, a cross-repository mount, a
// manifest PUT that references it, and a HEAD that says whether it exists. Holding a digest's lock, the
// collector re-checks that nothing references the blob, removes its rows and its file; whoever comes
// next sees either the blob before (and the collector then keeps it) or no blob at all. This is what
// distribution's offline GC lacks (issues #3045, #3743). One server process per store is assumed (see
// src/registry/README.md).
//
// Only BlobStore uses this class (its withBlobsHeld, put, finishUpload, mount and delete): handlers and
// the collector ask the store for a hold and never see a lock.
export class DigestLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` holding the locks of every digest given (taken in sorted order: no deadlock). */
  async withDigests<T>(digests: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const keys = [...new Set(digests)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const key of keys) releases.push(await this.acquire(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      // The last holder cleans up, so that the map holds only digests in use.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
