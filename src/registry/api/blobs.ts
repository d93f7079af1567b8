// Blob GET / HEAD (whole or by Range → 206) and DELETE (unlink from the repository). A repository sees
// only the blobs pushed or mounted into it: anything else is BLOB_UNKNOWN, even if the bytes exist.
import { RegistryError } from '../protocol/errors.ts';
import { answerEmpty, header, type RegistryCall } from './context.ts';
import { parseRangeHeader } from './ranges.ts';

export async function headBlob(call: RegistryCall, name: string, digest: string): Promise<void> {
  const { ctx, deps } = call;
  // Both checked under one hold of the digest: a blob the garbage collector is deleting is never reported present.
  const stat = await deps.blobs.withBlobsHeld([digest], async (held) => {
    await visibleSize(call, name, digest);
    return held.stat(digest);
  });
  if (stat === null) throw unknownBlob(digest);
  ctx.status = 200;
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.type = 'application/octet-stream';
  ctx.length = stat.size;
}

export async function getBlob(call: RegistryCall, name: string, digest: string): Promise<void> {
  const { ctx, deps } = call;
  const size = await visibleSize(call, name, digest);
  const range = parseRangeHeader(header(ctx, 'range'), size);
  const read = await deps.blobs.open(digest, range ?? undefined);
  ctx.status = range ? 206 : 200;
  ctx.body = read.stream;
  ctx.type = 'application/octet-stream';
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('Accept-Ranges', 'bytes');
  if (range) ctx.set('Content-Range', `bytes ${read.start}-${read.end}/${read.size}`);
  ctx.length = read.size === 0 ? 0 : read.end - read.start + 1;
}

export async function deleteBlob(call: RegistryCall, name: string, digest: string): Promise<void> {
  if (!(await call.deps.metadata.unlinkBlob(name, digest))) throw unknownBlob(digest);
  call.ctx.set('Docker-Content-Digest', digest);
  answerEmpty(call.ctx, 202);
}

async function visibleSize(call: RegistryCall, name: string, digest: string): Promise<number> {
  const size = await call.deps.metadata.blobSize(name, digest);
  if (size === null) throw unknownBlob(digest);
  return size;
}

function unknownBlob(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not known to this repository`, { digest });
}
