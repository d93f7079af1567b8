// Which handler answers a method on a route (the route itself comes from the protocol's parseV2Path:
// names contain slashes, so a path is read from the right and validated before it means anything).
import { RegistryError } from '../protocol/errors.ts';
import type { V2Route } from '../protocol/names.ts';
import { deleteBlob, getBlob, headBlob } from './blobs.ts';
import type { RegistryCall } from './context.ts';
import { listCatalog, listTags } from './listing.ts';
import { deleteManifest, getManifest, putManifest } from './manifests.ts';
import { listReferrers } from './referrers.ts';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './uploads.ts';

type Handler = (call: RegistryCall) => Promise<void>;

/** The handlers of a route by method; HEAD falls back to nothing (each route that allows it says so). */
export function handlersFor(route: V2Route): Partial<Record<string, Handler>> {
  switch (route.kind) {
    case 'base':
      return { GET: base, HEAD: base };
    case 'catalog':
      return { GET: listCatalog };
    case 'blob':
      return {
        GET: (call) => getBlob(call, route.name, route.digest),
        HEAD: (call) => headBlob(call, route.name, route.digest),
        DELETE: (call) => deleteBlob(call, route.name, route.digest),
      };
    case 'blobUpload':
      return { POST: (call) => startUpload(call, route.name) };
    case 'blobUploadSession':
      return {
        GET: (call) => uploadStatus(call, route.name, route.uploadId),
        PATCH: (call) => patchUpload(call, route.name, route.uploadId),
        PUT: (call) => finishUpload(call, route.name, route.uploadId),
        DELETE: (call) => cancelUpload(call, route.name, route.uploadId),
      };
    case 'manifest':
      return {
        GET: (call) => getManifest(call, route, true),
        HEAD: (call) => getManifest(call, route, false),
        PUT: (call) => putManifest(call, route),
        DELETE: (call) => deleteManifest(call, route),
      };
    case 'tags':
      return { GET: (call) => listTags(call, route.name) };
    case 'referrers':
      return { GET: (call) => listReferrers(call, route.name, route.digest) };
  }
}

/** The handler for the method, or UNSUPPORTED 405 with an Allow header. */
export function pickHandler(route: V2Route, method: string, setAllow: (methods: string) => void): Handler {
  const handlers = handlersFor(route);
  const handler = handlers[method];
  if (handler) return handler;
  setAllow(Object.keys(handlers).join(', '));
  throw new RegistryError('UNSUPPORTED', `${method} is not supported on this endpoint`, { method }, { status: 405 });
}

/**
 * GET /v2/: 200 for an authenticated caller; 401 with the challenge for an anonymous one, as
 * distribution does with auth on. Clients (docker, skopeo, podman) ping here first and send their
 * credentials only after a challenge; an anonymous client goes on without any, and pulls still work.
 */
async function base(call: RegistryCall): Promise<void> {
  if (call.identity.kind === 'anonymous') {
    throw new RegistryError('UNAUTHORIZED', 'authentication required (anonymous callers may still pull)');
  }
  call.ctx.status = 200;
  call.ctx.body = {};
}

export function routeRepository(route: V2Route): string | null {
  return route.kind === 'base' || route.kind === 'catalog' ? null : route.name;
}
