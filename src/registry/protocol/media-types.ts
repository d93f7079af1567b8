// Media types of the OCI image spec v1.1 and of Docker's image manifest v2 schema 2.

export const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_TAR_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** Deprecated in v1.1 but still pushed: layers that may live elsewhere (`urls`). */
export const OCI_LAYER_NONDISTRIBUTABLE_TAR = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';

/** The empty JSON object `{}`: config (or sole layer) of artifacts that have none. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const OCI_EMPTY_SIZE = 2;

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
/** Schema 1 (signed and unsigned): long deprecated, refused by this registry. */
export const DOCKER_SCHEMA1_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export type ManifestKind = 'image' | 'index';

/** Manifest media types the registry stores, with what each is. */
export const MANIFEST_MEDIA_TYPES: Readonly<Record<string, ManifestKind>> = {
  [OCI_IMAGE_MANIFEST]: 'image',
  [OCI_IMAGE_INDEX]: 'index',
  [DOCKER_MANIFEST]: 'image',
  [DOCKER_MANIFEST_LIST]: 'index',
};

export function manifestKind(mediaType: string): ManifestKind | null {
  return Object.hasOwn(MANIFEST_MEDIA_TYPES, mediaType) ? MANIFEST_MEDIA_TYPES[mediaType]! : null;
}

/** Layers whose descriptor may point outside the registry (by `urls`); they need not be pushed. */
export const FOREIGN_LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  DOCKER_FOREIGN_LAYER,
  OCI_LAYER_NONDISTRIBUTABLE_TAR,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
  OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
]);

/** RFC 6838 `type/subtype`, as the image spec's JSON schema checks it. */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function isMediaType(text: string): boolean {
  return MEDIA_TYPE.test(text);
}

/** A Content-Type header without its parameters, lowercased: `Application/JSON; charset=utf-8` → `application/json`. */
export function essence(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}
