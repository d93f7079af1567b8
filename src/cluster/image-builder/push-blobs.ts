// Getting every blob of the new image into the target repository at the least cost: a HEAD first (a
// blob the repository has is skipped: a rebuild pushes only what changed), then, for a base layer,
// a cross-repository mount from the base's repository (no byte moves), and only then an upload: the
// new layer from its file, the config from memory, a base layer the registry would not mount copied
// from the base repository (into the upload session the refused mount opened). Three blobs at a time.
import { createReadStream } from 'node:fs';
import type { RegistryClient } from './registry-client.ts';

export interface BlobToPush {
  digest: string;
  size: number;
  /** For progress lines: "base layer 2/3", "layer", "config". */
  label: string;
  /** Where the bytes are: a base repository (mount or copy from it), a file, or memory. */
  origin: { kind: 'repository'; repository: string } | { kind: 'file'; path: string } | { kind: 'bytes'; bytes: Buffer };
}

export interface PushCounts {
  pushed: number;
  mounted: number;
  skipped: number;
}

const CONCURRENCY = 3;

/** Pushes each digest once (a base may list one layer twice, as old Docker images do their empty layer). */
export async function pushBlobs(client: RegistryClient, target: string, listed: readonly BlobToPush[], progress: (line: string) => void): Promise<PushCounts> {
  const blobs = [...new Map(listed.map((blob) => [blob.digest, blob])).values()];
  const counts: PushCounts = { pushed: 0, mounted: 0, skipped: 0 };
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < blobs.length) {
      const blob = blobs[next++]!;
      try {
        const outcome = await pushBlob(client, target, blob);
        counts[outcome]++;
        progress(`${blob.label} ${shortDigest(blob.digest)} (${formatBytes(blob.size)}): ${outcomeWords(outcome, blob)}`);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  // Settled, not raced: no upload may still read the layer file once the caller removes it.
  const settled = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENCY, blobs.length) }, worker));
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return counts;
}

async function pushBlob(client: RegistryClient, target: string, blob: BlobToPush): Promise<keyof PushCounts> {
  if (await client.blobExists(target, blob.digest)) return 'skipped';
  const origin = blob.origin;
  let session: URL | undefined;
  if (origin.kind === 'repository' && origin.repository !== target) {
    const mount = await client.mountBlob(target, blob.digest, origin.repository);
    if (mount.mounted) return 'mounted';
    session = mount.session;
  }
  const chunks: AsyncIterable<Buffer> | Iterable<Buffer> =
    origin.kind === 'repository'
      ? client.blobStream(origin.repository, blob.digest)
      : origin.kind === 'file'
        ? (createReadStream(origin.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>)
        : [origin.bytes];
  await client.uploadBlob(target, blob.digest, blob.size, toAsync(chunks), session);
  return 'pushed';
}

async function* toAsync(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncIterable<Buffer> {
  for await (const chunk of chunks) yield chunk;
}

function outcomeWords(outcome: keyof PushCounts, blob: BlobToPush): string {
  if (outcome === 'skipped') return 'already in the repository';
  if (outcome === 'mounted') return `mounted from ${(blob.origin as { repository: string }).repository}`;
  return blob.origin.kind === 'repository' ? `copied from ${blob.origin.repository}` : 'uploaded';
}

export function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
