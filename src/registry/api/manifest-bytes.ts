// Manifest bytes by digest, kept in memory so that a pull does not open, stat, read and close a file and
// stream it through a pipeline for a few hundred bytes of JSON.
//
// Why it is never stale: the key is the digest of the bytes (content addressing). A digest names one
// content forever, and the bytes are checked against it when they are read from disk, so what is kept is
// exactly what the digest says. Whether a repository may see a digest, or what a tag points at, is not
// decided here: the metadata answers that on every request (RegistryMetadata.resolveManifest), before
// these bytes are looked up. Memory is bounded: at most `maxBytes` in all, least recently used first out.
import { digestOf, type DigestAlgorithm } from '../protocol/digest.ts';
import { MAX_MANIFEST_BYTES } from '../protocol/manifest.ts';
import type { BlobStore } from '../storage/index.ts';

export const DEFAULT_MANIFEST_CACHE_BYTES = 16 * 1024 * 1024;

export class ManifestBytes {
  private readonly entries = new Map<string, Buffer>();
  private cachedBytes = 0;
  /** Reads in flight, so that a burst of pulls of one manifest reads it once. */
  private readonly loading = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly maxBytes = DEFAULT_MANIFEST_CACHE_BYTES,
  ) {}

  /** The manifest's bytes; BlobUnknown when the file is missing. */
  get(digest: string): Promise<Buffer> {
    const bytes = this.entries.get(digest);
    if (bytes !== undefined) {
      this.entries.delete(digest);
      this.entries.set(digest, bytes);
      return Promise.resolve(bytes);
    }
    let loading = this.loading.get(digest);
    if (loading === undefined) {
      loading = this.load(digest).finally(() => this.loading.delete(digest));
      this.loading.set(digest, loading);
    }
    return loading;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.cachedBytes };
  }

  private async load(digest: string): Promise<Buffer> {
    const bytes = await this.blobs.read(digest, MAX_MANIFEST_BYTES);
    const algorithm = digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
    const actual = digestOf(bytes, algorithm);
    // The store verified the digest when the manifest was pushed; a mismatch now is a damaged disk.
    if (actual !== digest) throw new Error(`the stored manifest ${digest} is damaged: its content's digest is ${actual}`);
    if (bytes.length <= this.maxBytes) {
      this.entries.set(digest, bytes);
      this.cachedBytes += bytes.length;
      for (const [oldest, old] of this.entries) {
        if (this.cachedBytes <= this.maxBytes) break;
        this.entries.delete(oldest);
        this.cachedBytes -= old.length;
      }
    }
    return bytes;
  }
}
