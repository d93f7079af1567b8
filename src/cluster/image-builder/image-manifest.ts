// Manifests as the image builder reads and writes them, pure: which of the two formats a base is in
// (OCI, or Docker's v2 schema 2), the platform's image of an index or manifest list, and the new
// manifest: the base's layer descriptors as they are, then the new layer and config in the base's own
// media types, so that a Docker base stays a Docker image and an OCI base an OCI image.
import { Invalid } from '../../shared/errors.ts';
import type { Platform } from './build-request.ts';

export type ImageFormat = 'oci' | 'docker';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

interface FormatTypes {
  manifest: string;
  config: string;
  gzipLayer: string;
}

export const MEDIA_TYPES: Record<ImageFormat, FormatTypes> = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    gzipLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    gzipLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
};

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ImageManifest {
  format: ImageFormat;
  config: Descriptor;
  /** The base's layer descriptors exactly as written (annotations, urls and all). */
  layers: ReadonlyArray<Record<string, unknown> & Descriptor>;
}

export type ParsedManifest = { kind: 'image'; image: ImageManifest } | { kind: 'index'; manifests: ReadonlyArray<Descriptor & { platform?: Partial<Platform> }> };

/** Reads a manifest's JSON; its `mediaType` field decides, else the Content-Type it was served with. */
export function parseManifest(bytes: Buffer, contentType: string, what: string): ParsedManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Invalid(`${what} is not JSON`);
  }
  if (typeof json !== 'object' || json === null) throw new Invalid(`${what} is not a JSON object`);
  const declared = typeof json.mediaType === 'string' ? json.mediaType : contentType.split(';')[0]!.trim();
  if (json.schemaVersion === 1 || declared.includes('manifest.v1+prettyjws') || declared === 'application/vnd.docker.distribution.manifest.v1+json') {
    throw new Invalid(`${what} is a Docker schema 1 manifest, which the image builder does not read: push the base again with a current client`);
  }
  if (declared === OCI_INDEX || declared === DOCKER_LIST || (declared === '' && Array.isArray(json.manifests))) {
    if (!Array.isArray(json.manifests)) throw new Invalid(`${what} is an index without manifests`);
    return { kind: 'index', manifests: json.manifests.map((m, i) => descriptor(m, `${what}, manifests[${i}]`) as Descriptor & { platform?: Partial<Platform> }) };
  }
  const format: ImageFormat | null = declared === MEDIA_TYPES.docker.manifest ? 'docker' : declared === MEDIA_TYPES.oci.manifest || declared === '' ? 'oci' : null;
  if (format === null) throw new Invalid(`${what} is a ${declared}, not an image manifest`);
  if (!Array.isArray(json.layers)) throw new Invalid(`${what} has no layers`);
  return {
    kind: 'image',
    image: {
      format,
      config: descriptor(json.config, `${what}, config`),
      layers: json.layers.map((layer, i) => descriptor(layer, `${what}, layers[${i}]`) as Record<string, unknown> & Descriptor),
    },
  };
}

function descriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== 'object' || d === null || typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || !DIGEST.test(d.digest) || !Number.isSafeInteger(d.size) || d.size! < 0) {
    throw new Invalid(`${what} is not a descriptor with a mediaType, a sha256 digest and a size`);
  }
  return d as Descriptor;
}

/** The index entry for the platform (its variant too when asked, else the first of its os/architecture). */
export function pickPlatform(manifests: ReadonlyArray<Descriptor & { platform?: Partial<Platform> }>, platform: Platform, what: string): Descriptor {
  const fits = manifests.filter((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture);
  const chosen = platform.variant === undefined ? fits[0] : fits.find((m) => m.platform?.variant === platform.variant);
  if (!chosen) {
    const offered = manifests.map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/')).join(', ');
    const wanted = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
    throw new Invalid(`${what} has no ${wanted} image (it has: ${offered || 'none with a platform'})`);
  }
  return chosen;
}

/** The new manifest's bytes: the base's layers, then the new one, with a config in the base's format. */
export function imageManifest(base: ImageManifest, config: { digest: string; size: number }, layer: { digest: string; size: number }): { bytes: Buffer; mediaType: string } {
  const types = MEDIA_TYPES[base.format];
  const manifest = {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: { mediaType: types.config, digest: config.digest, size: config.size },
    layers: [...base.layers, { mediaType: types.gzipLayer, digest: layer.digest, size: layer.size }],
  };
  return { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: types.manifest };
}
