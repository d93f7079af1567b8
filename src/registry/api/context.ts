// What every registry handler is given: the building blocks (blob bytes, metadata, who may do what), the
// clock and the storage reserves, and the request's caller.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { RegistryAuthorizer, RegistryIdentity } from '../auth/authorizer.ts';
import type { RegistryTokenIssuer } from '../auth/token-issuer.ts';
import type { RegistryMetadata } from '../metadata/registry-metadata.ts';
import type { Actor } from '../metadata/records.ts';
import type { BlobStore, StorageReserves } from '../storage/index.ts';
import type { RepositoryQuotas } from '../quota/quotas.ts';
import type { ManifestBytes } from './manifest-bytes.ts';

export interface RegistryAppOptions {
  blobs: BlobStore;
  metadata: RegistryMetadata;
  /** Manifest bytes by digest for pulls, built with the registry (createRegistry) over `blobs`. */
  manifestBytes: ManifestBytes;
  authorizer: RegistryAuthorizer;
  /** Answers GET /token (the Docker token flow) when given. */
  tokenIssuer?: RegistryTokenIssuer;
  /** Free bytes and inodes that must remain after an upload or a manifest is accepted. */
  reserves: StorageReserves;
  clock?: () => Date;
  logger?: Logger;
  /** Storage quotas per repository glob; none enforced without. */
  quotas?: RepositoryQuotas;
}

export interface RegistryDeps {
  blobs: BlobStore;
  metadata: RegistryMetadata;
  authorizer: RegistryAuthorizer;
  reserves: StorageReserves;
  clock: () => Date;
  logger: Logger | undefined;
  /** Manifest bytes by digest (content-addressed, so never stale). */
  manifestBytes: ManifestBytes;
  quotas: RepositoryQuotas | undefined;
}

/** One request as a handler sees it. */
export interface RegistryCall {
  ctx: Context;
  deps: RegistryDeps;
  identity: RegistryIdentity;
}

/** Who did it and when, for the metadata's pushed_by / pushed_at. */
export function actorOf(call: RegistryCall): Actor {
  return { by: call.identity.name, at: call.deps.clock().toISOString() };
}

/** An answer without a body: the status is kept and Content-Length is 0. */
export function answerEmpty(ctx: Context, status: number): void {
  // In this order: Koa turns a null body into a 204 unless the status is set afterwards.
  ctx.body = null;
  ctx.status = status;
}

/** A header value from the request, undefined when absent or empty. */
export function header(ctx: Context, name: string): string | undefined {
  const value = ctx.get(name);
  return value === '' ? undefined : value;
}

/** A single query parameter (the last one when repeated), undefined when absent. */
export function queryParam(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** The request's declared body length, or null when it is not declared (chunked transfer encoding). */
export function contentLength(ctx: Context): number | null {
  const raw = header(ctx, 'content-length');
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

/** Whether the request carries a body at all. */
export function hasBody(ctx: Context): boolean {
  const length = contentLength(ctx);
  if (length !== null) return length > 0;
  return header(ctx, 'transfer-encoding') !== undefined;
}
