// Helpers for the blob storage tests: temporary roots, streams and an inode count.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

export async function tempRoot(prefix = 'blobs'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `gantry-${prefix}-`));
}

export async function removeRoot(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

/** A stream of the given parts, one chunk each, yielding to the event loop between them. */
export function streamOf(...parts: Array<Buffer | string>): Readable {
  return Readable.from(
    (async function* () {
      for (const part of parts) {
        await new Promise((resolve) => setImmediate(resolve));
        yield Buffer.from(part);
      }
    })(),
  );
}

/** A stream that yields `parts` and then fails, as a client that hangs up mid-upload. */
export function failingStream(...parts: Array<Buffer | string>): Readable {
  return Readable.from(
    (async function* () {
      for (const part of parts) yield Buffer.from(part);
      throw new Error('client went away');
    })(),
  );
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Files and directories under `root`, relative, sorted (the root itself not included). */
export async function treeOf(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map((e) => e.split(path.sep).join('/')).sort();
}

/** Blob files under <root>/blobs (the entries four levels deep: blobs/alg/xx/hex). */
export async function blobFiles(root: string): Promise<string[]> {
  return (await treeOf(root)).filter((e) => e.startsWith('blobs/') && e.split('/').length === 4);
}

export async function uploadFiles(root: string): Promise<string[]> {
  return (await treeOf(root)).filter((e) => e.startsWith('uploads/'));
}
