// The base image a build starts from, read from the registry: its reference (a tag or a digest)
// resolved to an image manifest (an index or a manifest list resolved to the platform's image, linux/amd64
// by default), and its config. The manifest's digest is the base's identity: the same base digest, files
// and epoch make the same image.
import { Invalid, NotFound } from '../../shared/errors.ts';
import type { ImageReference, Platform } from './build-request.ts';
import { parseManifest, pickPlatform, type ImageManifest } from './image-manifest.ts';
import type { RegistryClient } from './registry-client.ts';

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

export interface BaseImage {
  repository: string;
  /** The image manifest's digest (the platform's, when the reference named an index). */
  digest: string;
  manifest: ImageManifest;
  /** The config as parsed JSON. */
  config: unknown;
}

/** `name` is the reference as the step wrote it, for messages. */
export async function resolveBase(client: RegistryClient, ref: ImageReference, name: string, platform: Platform): Promise<BaseImage> {
  const fetched = await client.getManifest(ref.repository, ref.reference);
  if (fetched === null) throw new NotFound(`base image ${name} not found in the registry ${client.host}`);
  let digest = fetched.digest;
  let parsed = parseManifest(fetched.bytes, fetched.contentType, `the base image ${name}'s manifest`);
  if (parsed.kind === 'index') {
    const chosen = pickPlatform(parsed.manifests, platform, `the base image ${name}`);
    const image = await client.getManifest(ref.repository, chosen.digest);
    if (image === null) throw new NotFound(`base image ${name}: its ${platform.os}/${platform.architecture} manifest ${chosen.digest} not found`);
    digest = image.digest;
    parsed = parseManifest(image.bytes, image.contentType, `the base image ${name}'s ${platform.os}/${platform.architecture} manifest`);
    if (parsed.kind !== 'image') throw new Invalid(`the base image ${name}'s ${platform.os}/${platform.architecture} entry is an index again`);
  }
  const manifest = parsed.image;
  const bytes = await client.getBlob(ref.repository, manifest.config.digest, MAX_CONFIG_BYTES);
  let config: unknown;
  try {
    config = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Invalid(`the base image ${name}'s config is not JSON`);
  }
  return { repository: ref.repository, digest, manifest, config };
}
