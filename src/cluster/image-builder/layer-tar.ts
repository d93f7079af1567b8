// The image builder's one layer, byte for byte the same for the same files and epoch: a ustar stream
// (tar-stream; pax only for a long or non-ASCII name, and then with path and linkpath records only)
// whose entries come in byte order of their paths, every one owned 0:0 with no user or group name,
// mode 0755 for directories and files with any execute bit, 0644 for other files, 0777 for links, and
// mtime SOURCE_DATE_EPOCH; gzip'd by zlib at a fixed level, whose header has no name and mtime 0.
// Written to a file while both digests are computed: the tar's (the config's diff_id) and the gzip's
// (the blob's).
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { Invalid } from '../../shared/errors.ts';
import { openSourceFile, workspaceName, type LayerEntry, type LayerSources, type OpenedSource } from './layer-sources.ts';

/** zlib's level: part of what makes the digest; changing it changes every image's digest. */
export const GZIP_LEVEL = 6;
const READ_CHUNK = 256 * 1024;

export interface WrittenLayer {
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
  /** sha256 of the gzip'd tar: the blob's digest. */
  digest: string;
  /** Bytes of the gzip'd tar (the file's size). */
  size: number;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  /** Regular files in it. */
  files: number;
}

type TarPack = ReturnType<typeof tar.pack>;

/** Writes the layer of `sources` to `file` (which must not exist); its digests. */
export async function writeLayer(sources: LayerSources, sourceDateEpoch: number, file: string): Promise<WrittenLayer> {
  const tarHash = counting(createHash('sha256'));
  const gzipHash = counting(createHash('sha256'));
  const pack = tar.pack();
  // tar-stream's pack is a streamx stream: read through its async iterator, as a Node stream.
  const written = pipeline(Readable.from(pack, { objectMode: false }), tarHash.stream, createGzip({ level: GZIP_LEVEL }), gzipHash.stream, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  written.catch(() => undefined); // awaited below, after the entries (or their error)
  const mtime = new Date(sourceDateEpoch * 1000);
  let files = 0;
  try {
    for (const entry of sources.entries) {
      if (entry.type === 'file') {
        await writeFile(sources, pack, entry, mtime);
        files++;
      } else {
        await writeHeader(pack, entry, mtime);
      }
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  }
  await written;
  return { diffId: tarHash.digest(), digest: gzipHash.digest(), size: gzipHash.bytes(), tarSize: tarHash.bytes(), files };
}

/** A pass-through stream that hashes and counts what goes through. */
function counting(hash: Hash): { stream: Transform; digest(): string; bytes(): number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${hash.digest('hex')}`, bytes: () => bytes };
}

/** The header fields every entry shares; no uname/gname, no devices, no times but mtime. */
function header(entry: LayerEntry, mtime: Date, mode: number, size = 0): Partial<tar.Header> & { name: string } {
  const base = { uid: 0, gid: 0, mtime, mode, size };
  if (entry.type === 'directory') return { ...base, name: `${entry.path}/`, type: 'directory' };
  if (entry.type === 'symlink') return { ...base, name: entry.path, type: 'symlink', linkname: entry.linkname };
  return { ...base, name: entry.path, type: 'file' };
}

function writeHeader(pack: TarPack, entry: Exclude<LayerEntry, { type: 'file' }>, mtime: Date): Promise<void> {
  const mode = entry.type === 'directory' ? 0o755 : 0o777;
  return new Promise<void>((resolve, reject) => pack.entry(header(entry, mtime, mode), (err) => (err ? reject(err) : resolve())));
}

/** One file: its header with the size read when it was opened, then exactly that many bytes. */
async function writeFile(sources: LayerSources, pack: TarPack, entry: Extract<LayerEntry, { type: 'file' }>, mtime: Date): Promise<void> {
  const opened: OpenedSource = await openSourceFile(sources, entry);
  const { handle, size } = opened;
  let settle!: (err?: Error | null) => void;
  const taken = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  taken.catch(() => undefined); // awaited below; it may fail (the pack destroyed) while a read is under way
  let failure: unknown = null;
  try {
    const sink = pack.entry(header(entry, mtime, opened.executable ? 0o755 : 0o644, size), settle);
    sink.on('error', () => undefined); // the same error, through `taken`
    try {
      // Never past the header's size: a file that grows meanwhile is cut there; one that shrinks fails.
      for (let position = 0; position < size; ) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) throw new Invalid(`files: ${workspaceName(sources, entry.source)} shrank while the layer was written`);
        position += bytesRead;
        if (!sink.write(buffer.subarray(0, bytesRead))) await Promise.race([new Promise<void>((resolve) => sink.once('drain', () => resolve())), taken]);
      }
      sink.end(null);
    } catch (err) {
      failure = err;
      sink.destroy(err as Error);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  await taken.catch((err: unknown) => {
    throw failure ?? err;
  });
  if (failure) throw failure;
}
