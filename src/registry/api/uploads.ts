// Blob uploads as docker, skopeo and podman drive them: monolithic (POST ?digest=, or POST then PUT with
// the body), streamed (POST, PATCH without Content-Range, PUT ?digest=), chunked (PATCH with
// Content-Range; out of order → 416), session status (GET → 204 + Range), cancel (DELETE → 204) and
// cross-repository mount (POST ?mount=&from=, falling back to a session). Bodies stream to the store,
// which holds the blob's digest until its link to the repository is recorded: the garbage collector
// cannot delete a blob between its publication (or a mount's check) and that record.
import { RegistryError } from '../protocol/errors.ts';
import { isName } from '../protocol/names.ts';
import { parseDigest } from '../protocol/digest.ts';
import { isAllowed } from './access.ts';
import { actorOf, answerEmpty, contentLength, hasBody, header, queryParam, type RegistryCall } from './context.ts';
import { parseContentRange, uploadRange } from './ranges.ts';

/** POST /v2/<name>/blobs/uploads/ */
export async function startUpload(call: RegistryCall, name: string): Promise<void> {
  const { ctx, deps } = call;
  const mount = queryParam(ctx, 'mount');
  if (mount !== undefined && (await tryMount(call, name, mount, queryParam(ctx, 'from')))) return;

  const digest = queryParam(ctx, 'digest');
  await deps.blobs.checkCapacity(deps.reserves, contentLength(ctx) ?? 0);
  if (digest !== undefined) {
    parseDigest(digest);
    const length = contentLength(ctx);
    await deps.quotas?.check(name, length ?? 0, digest);
    const stored = await deps.blobs.put(ctx.req, { digest, ...(length !== null ? { size: length } : {}) }, async (put) => {
      // Streamed without a length: the quota is checked on the real size (an unlinked blob is garbage).
      if (length === null) await deps.quotas?.check(name, put.size, put.digest);
      await deps.metadata.linkBlob(name, put.digest, put.size, actorOf(call));
    });
    answerBlobCreated(call, name, stored.digest);
    return;
  }

  await deps.quotas?.check(name, 0);
  const id = await deps.blobs.startUpload();
  try {
    await deps.metadata.createUpload(name, id, actorOf(call));
  } catch (err) {
    await deps.blobs.cancelUpload(id).catch(() => undefined);
    throw err;
  }
  answerSession(call, name, id, 0, 202);
}

/** PATCH /v2/<name>/blobs/uploads/<id>: a chunk at Content-Range, or the next bytes of a stream. */
export async function patchUpload(call: RegistryCall, name: string, id: string): Promise<void> {
  const { ctx, deps } = call;
  await findSession(call, name, id);
  await deps.blobs.checkCapacity(deps.reserves, contentLength(ctx) ?? 0);
  const offset = chunkOffset(call);
  const size = await deps.blobs.appendUpload(id, ctx.req, offset === undefined ? {} : { offset });
  answerSession(call, name, id, size, 202);
}

/** PUT /v2/<name>/blobs/uploads/<id>?digest=: the optional last chunk, then verify and publish. */
export async function finishUpload(call: RegistryCall, name: string, id: string): Promise<void> {
  const { ctx, deps } = call;
  const digest = queryParam(ctx, 'digest');
  if (digest === undefined) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required to finish an upload');
  parseDigest(digest);
  await findSession(call, name, id);
  const body = hasBody(ctx);
  if (body) await deps.blobs.checkCapacity(deps.reserves, contentLength(ctx) ?? 0);
  const offset = body ? chunkOffset(call) : undefined;
  if (offset !== undefined) await deps.blobs.appendUpload(id, ctx.req, { offset });
  const lastChunk = offset === undefined && body ? ctx.req : undefined;
  let published = false;
  const stored = await deps.blobs
    .finishUpload(id, digest, lastChunk, async (finished) => {
      published = true;
      try {
        await deps.quotas?.check(name, finished.size, finished.digest);
      } catch (err) {
        await deps.metadata.deleteUpload(id); // the bytes, unlinked, are garbage for the next collection
        throw err;
      }
      await deps.metadata.linkBlob(name, finished.digest, finished.size, actorOf(call));
    })
    .catch(async (err: unknown) => {
      // A digest mismatch cancels the upload in the store: forget the session too.
      if (!published && !(await deps.blobs.uploadSize(id).then(() => true, () => false))) await deps.metadata.deleteUpload(id);
      throw err;
    });
  await deps.metadata.deleteUpload(id);
  answerBlobCreated(call, name, stored.digest);
}

/** GET /v2/<name>/blobs/uploads/<id>: how far the upload has come (204 + Range). */
export async function uploadStatus(call: RegistryCall, name: string, id: string): Promise<void> {
  await findSession(call, name, id);
  answerSession(call, name, id, await call.deps.blobs.uploadSize(id), 204);
}

/** DELETE /v2/<name>/blobs/uploads/<id> */
export async function cancelUpload(call: RegistryCall, name: string, id: string): Promise<void> {
  await findSession(call, name, id);
  await call.deps.blobs.cancelUpload(id);
  await call.deps.metadata.deleteUpload(id);
  answerEmpty(call.ctx, 204);
}

/** Links a blob of `from` into `name` when the caller may read it there; false to fall back to a session. */
async function tryMount(call: RegistryCall, name: string, digest: string, from: string | undefined): Promise<boolean> {
  const { deps } = call;
  parseDigest(digest);
  if (from === undefined || !isName(from)) return false;
  if (!(await isAllowed(deps.authorizer, call.identity, from, 'pull'))) return false;
  const mounted = await deps.blobs.mount(digest, async () => {
    const size = await deps.metadata.blobSize(from, digest);
    if (size === null) return false;
    await deps.quotas?.check(name, size, digest);
    await deps.metadata.linkBlob(name, digest, size, actorOf(call));
    return true;
  });
  if (!mounted) return false;
  answerBlobCreated(call, name, digest);
  return true;
}

async function findSession(call: RegistryCall, name: string, id: string): Promise<void> {
  if ((await call.deps.metadata.findUpload(name, id)) === null) {
    throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `no upload session "${id}" in ${name}`, { uploadId: id });
  }
}

/** The chunk's start from Content-Range (checked against Content-Length), undefined for a streamed PATCH. */
function chunkOffset(call: RegistryCall): number | undefined {
  const value = header(call.ctx, 'content-range');
  if (value === undefined) return undefined;
  const range = parseContentRange(value);
  const length = contentLength(call.ctx);
  if (length !== null && length !== range.end - range.start + 1) {
    throw new RegistryError(
      'SIZE_INVALID',
      `Content-Range ${range.start}-${range.end} is ${range.end - range.start + 1} bytes but Content-Length is ${length}`,
      { contentRange: value, contentLength: length },
    );
  }
  return range.start;
}

function answerSession(call: RegistryCall, name: string, id: string, size: number, status: 202 | 204): void {
  const { ctx } = call;
  ctx.set('Location', `/v2/${name}/blobs/uploads/${id}`);
  ctx.set('Range', uploadRange(size));
  ctx.set('Docker-Upload-UUID', id);
  answerEmpty(ctx, status);
}

function answerBlobCreated(call: RegistryCall, name: string, digest: string): void {
  call.ctx.set('Location', `/v2/${name}/blobs/${digest}`);
  call.ctx.set('Docker-Content-Digest', digest);
  answerEmpty(call.ctx, 201);
}
