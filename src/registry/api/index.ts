// The registry's OCI Distribution API: what the server's composition root imports.
export { createRegistryApp } from './app.ts';
export { DEFAULT_MANIFEST_CACHE_BYTES, ManifestBytes } from './manifest-bytes.ts';
export type { RegistryAppOptions } from './context.ts';
export { toRegistryError } from './errors.ts';
