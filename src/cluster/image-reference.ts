// Image references as Docker reads them, shared by the docker driver (what to pull, with which
// credentials) and the master (which agents hold a task's image, for placement and pre-warming).

/** Docker Hub's name in references without a registry host. */
export const DEFAULT_REGISTRY = 'docker.io';

export interface ImageReference {
  /** The registry host (with its port), `docker.io` when the reference names none. */
  registry: string;
  /** The reference with a tag: `:latest` added when it has neither tag nor digest. */
  normalized: string;
}

/**
 * Splits a reference the way Docker does: the first path component is a registry host when it has a
 * dot or a port, or is `localhost`; the tag is after the last colon of the last component.
 */
export function parseImageReference(ref: string): ImageReference {
  const slash = ref.indexOf('/');
  const first = slash >= 0 ? ref.slice(0, slash) : '';
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasHost ? first.toLowerCase() : DEFAULT_REGISTRY;
  const lastComponent = ref.slice(ref.lastIndexOf('/') + 1);
  const tagged = ref.includes('@') || lastComponent.includes(':');
  return { registry, normalized: tagged ? ref : `${ref}:latest` };
}

/**
 * The name under which an engine lists an image (its RepoTags and RepoDigests): tagged, with Docker
 * Hub's `docker.io/` and `library/` left out. `busybox`, `docker.io/library/busybox:latest` and
 * `busybox:latest` are all `busybox:latest`.
 */
export function canonicalImageName(ref: string): string {
  const { registry, normalized } = parseImageReference(ref);
  if (registry !== DEFAULT_REGISTRY) return normalized;
  const path = normalized.startsWith(`${DEFAULT_REGISTRY}/`) ? normalized.slice(DEFAULT_REGISTRY.length + 1) : normalized;
  return path.startsWith('library/') ? path.slice('library/'.length) : path;
}
