// The bundled registry, assembled: blob store on the filesystem, metadata in the platform's store,
// the access policy (users, robots, ACLs, the Docker token flow), and the OCI API. The composition
// root (src/main.ts) gives it a listener. Every long-lived object is built here, once, the read models
// too (the pull path's manifest bytes, the frontend's browser): routes and handlers are given them.
import type { Knex } from 'knex';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { createRegistryApp, DEFAULT_MANIFEST_CACHE_BYTES, ManifestBytes } from './api/index.ts';
import { StoreAuthorizer, type AdminTokenCheck } from './auth/store-authorizer.ts';
import { GarbageCollector } from './gc/collector.ts';
import { GcRunStore } from './gc/gc-runs.ts';
import { RegistryBrowser } from './metadata/browse.ts';
import { RegistryMetadata } from './metadata/registry-metadata.ts';
import { RepositoryQuotas } from './quota/quotas.ts';
import { Retention } from './retention/retention.ts';
import { BlobStore, prepareLayout, type StorageReserves } from './storage/index.ts';

export interface RegistryOptions {
  /** Where blobs live (`<data>/registry`). */
  root: string;
  knex: Knex;
  isAdminToken: AdminTokenCheck;
  reserves: StorageReserves;
  logger: Logger;
  /** The registry's URL as clients see it, for the token realm; by default the request's Host. */
  externalUrl?: string;
  clock?: () => Date;
  /** How many bytes of manifests are kept in memory for pulls (default 16 MiB; 0 keeps none). */
  manifestCacheBytes?: number;
}

export interface Registry {
  /** The OCI API and GET /token, for the registry's own listener. */
  app: Koa;
  blobs: BlobStore;
  metadata: RegistryMetadata;
  /** Repositories and tags sorted and paged for people (the web frontend's read model). */
  browser: RegistryBrowser;
  /** Users, robots and ACL rules (auth.users, auth.acl), for the platform API and CLI. */
  auth: StoreAuthorizer;
  /** Online garbage collection (gc/collector.ts) and the record of its runs. */
  gc: GarbageCollector;
  gcRuns: GcRunStore;
  /** Retention policies and prunes (retention/), carried out by `gc`. */
  retention: Retention;
  /** Storage quotas per repository glob (quota/), enforced on pushes. */
  quotas: RepositoryQuotas;
}

export function createRegistry(options: RegistryOptions): Registry {
  prepareLayout(options.root);
  const blobs = new BlobStore(options.root);
  const metadata = new RegistryMetadata(options.knex);
  const manifestBytes = new ManifestBytes(blobs, options.manifestCacheBytes ?? DEFAULT_MANIFEST_CACHE_BYTES);
  const quotas = new RepositoryQuotas(options.knex, metadata, options.clock);
  const auth = new StoreAuthorizer({
    knex: options.knex,
    isAdminToken: options.isAdminToken,
    ...(options.externalUrl !== undefined ? { externalUrl: options.externalUrl } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = createRegistryApp({
    blobs,
    metadata,
    manifestBytes,
    authorizer: auth,
    tokenIssuer: auth,
    reserves: options.reserves,
    quotas,
    logger: options.logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const gc = new GarbageCollector(blobs, metadata, options.clock);
  return {
    app,
    blobs,
    metadata,
    browser: new RegistryBrowser(options.knex),
    auth,
    gc,
    gcRuns: new GcRunStore(options.knex),
    retention: new Retention(options.knex, metadata, gc, options.clock),
    quotas,
  };
}

export { ensurePlatformRobot, PLATFORM_GROUP, PLATFORM_ROBOT, type RegistryCredentials } from './platform-robot.ts';
export type { BlobStore } from './storage/index.ts';
export type { RegistryMetadata } from './metadata/registry-metadata.ts';
export type { RegistryBrowser } from './metadata/browse.ts';
export type { RegistryUsers, RegistryUser, AddedUser } from './auth/users.ts';
export type { RegistryAcl, StoredAclRule } from './auth/acl-store.ts';
