// buildImage: files of a CI workspace onto a base image of the bundled registry, without an engine
// (the ko / jib idea). One new layer of the files, a new config and manifest, and only the blobs the
// target repository lacks pushed; then the manifest under each tag. Same base digest, same files and
// same SOURCE_DATE_EPOCH give the same manifest digest on every run and every agent (for one build of
// Node's zlib: the gzip bytes are zlib's).
//
// In order: check the request, walk the sources (a refused path never reaches the registry), resolve
// the base, write the layer to a scratch file, build config and manifest, push, tag.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';
import { resolveBase, DEFAULT_PLATFORM } from './base-image.ts';
import { checkRequest, parseImageReference, type ImageBuildRequest, type ImageBuildResult } from './build-request.ts';
import { imageConfig } from './image-config.ts';
import { imageManifest } from './image-manifest.ts';
import { collectLayerEntries } from './layer-sources.ts';
import { writeLayer } from './layer-tar.ts';
import { formatBytes, pushBlobs, shortDigest, type BlobToPush } from './push-blobs.ts';
import { RegistryClient, sha256Digest } from './registry-client.ts';

export async function buildImage(request: ImageBuildRequest): Promise<ImageBuildResult> {
  const started = Date.now();
  const progress = request.progress ?? (() => undefined);
  checkRequest(request);
  const host = registryHost(request.registry.url);
  const from = parseImageReference(request.from, host, 'from');
  const target = request.image;
  const client = new RegistryClient(request.registry, [`repository:${from.repository}:pull`, `repository:${target}:pull,push`]);

  const sources = await collectLayerEntries(request.root, request.files);
  const base = await resolveBase(client, from, request.from, request.platform ?? DEFAULT_PLATFORM);
  progress(`base ${request.from}: ${base.digest} (${base.manifest.format === 'oci' ? 'OCI' : 'Docker'} image, ${base.manifest.layers.length} layer(s))`);

  const scratch = await mkdtemp(path.join(request.scratchDir ?? os.tmpdir(), 'gantry-image-'));
  try {
    const layerFile = path.join(scratch, 'layer.tar.gz');
    const layer = await writeLayer(sources, request.sourceDateEpoch, layerFile);
    progress(`layer ${shortDigest(layer.digest)}: ${sources.entries.length} entries, ${layer.files} file(s), ${formatBytes(layer.tarSize)} (${formatBytes(layer.size)} gzip'd)`);

    const config = imageConfig(base.config, base.manifest.layers.length, {
      ...(request.entrypoint !== undefined ? { entrypoint: request.entrypoint } : {}),
      ...(request.cmd !== undefined ? { cmd: request.cmd } : {}),
      ...(request.env !== undefined ? { env: request.env } : {}),
      ...(request.workdir !== undefined ? { workdir: request.workdir } : {}),
      ...(request.labels !== undefined ? { labels: request.labels } : {}),
      ...(request.revision !== undefined ? { revision: request.revision } : {}),
      ...(request.source !== undefined ? { source: request.source } : {}),
      sourceDateEpoch: request.sourceDateEpoch,
      createdBy: request.files.map((copy) => `COPY ${copy.src} ${copy.dest}`).join('; '),
      diffId: layer.diffId,
    });
    const configDigest = sha256Digest(config);
    const manifest = imageManifest(base.manifest, { digest: configDigest, size: config.length }, layer);
    const digest = sha256Digest(manifest.bytes);

    const blobs: BlobToPush[] = [
      ...base.manifest.layers.map((d, i): BlobToPush => ({
        digest: d.digest,
        size: d.size,
        label: `base layer ${i + 1}/${base.manifest.layers.length}`,
        origin: { kind: 'repository', repository: base.repository },
      })),
      { digest: layer.digest, size: layer.size, label: 'layer', origin: { kind: 'file', path: layerFile } },
      { digest: configDigest, size: config.length, label: 'config', origin: { kind: 'bytes', bytes: config } },
    ];
    const counts = await pushBlobs(client, target, blobs, progress);

    for (const reference of request.tags.length > 0 ? request.tags : [digest]) {
      await client.putManifest(target, reference, manifest.bytes, manifest.mediaType);
    }
    const image = `${host}/${target}@${digest}`;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const tagged = request.tags.length > 0 ? ` as ${request.tags.map((tag) => `${target}:${tag}`).join(', ')}` : '';
    progress(`pushed ${image}${tagged} in ${seconds} s: ${counts.pushed} blob(s) uploaded, ${counts.mounted} mounted, ${counts.skipped} already there`);
    return { digest, image, pushedBlobs: counts.pushed, mountedBlobs: counts.mounted, skippedBlobs: counts.skipped };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function registryHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    throw new Invalid(`the registry URL ${url} is not a URL`);
  }
}
