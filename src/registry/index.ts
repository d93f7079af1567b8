// The bundled registry, assembled: blob store on the filesystem, metadata in the platform's store,
// the access policy, and the OCI API. The composition root (src/main.ts) gives it a listener.
import type { Knex } from 'knex';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { createRegistryApp } from './api/index.ts';
import { PlatformTokenAuthorizer, type AdminTokenCheck } from './auth/platform-token-authorizer.ts';
import { RegistryMetadata } from './metadata/registry-metadata.ts';
import { BlobStore, type StorageReserves } from './storage/index.ts';

export interface RegistryOptions {
  /** Where blobs live (`<data>/registry`). */
  root: string;
  knex: Knex;
  isAdminToken: AdminTokenCheck;
  reserves: StorageReserves;
  logger: Logger;
}

export interface Registry {
  /** The OCI API, for the registry's own listener. */
  app: Koa;
  blobs: BlobStore;
  metadata: RegistryMetadata;
}

export function createRegistry(options: RegistryOptions): Registry {
  const blobs = new BlobStore(options.root);
  const metadata = new RegistryMetadata(options.knex);
  const app = createRegistryApp({
    blobs,
    metadata,
    authorizer: new PlatformTokenAuthorizer(options.isAdminToken),
    reserves: options.reserves,
    logger: options.logger,
  });
  return { app, blobs, metadata };
}

export type { BlobStore } from './storage/index.ts';
export type { RegistryMetadata } from './metadata/registry-metadata.ts';
