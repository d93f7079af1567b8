// Builds a small, valid OCI image layout on disk (no Docker Hub here): N gzip'd tar layers of
// generated files, an image config with the right diff_ids, a manifest, and index.json tagging it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export interface BuiltImage {
  dir: string;
  tag: string;
  manifestDigest: string;
  blobDigests: string[];
}

export function buildOciLayout(dir: string, tag: string, layerCount: number, seed = 'gantry'): BuiltImage {
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const writeBlob = (data: Buffer): { digest: string; size: number } => {
    const hex = sha256(data);
    writeFileSync(path.join(dir, 'blobs', 'sha256', hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const layers: Array<{ digest: string; size: number }> = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layerCount; i++) {
    const content = path.join(dir, `layer-src-${i}`);
    mkdirSync(path.join(content, 'data'), { recursive: true });
    writeFileSync(path.join(content, 'data', `file-${i}.txt`), `${seed} layer ${i}\n`.repeat(1000 * (i + 1)));
    const tar = execFileSync('tar', ['-C', content, '--sort=name', '--mtime=2026-01-01', '--owner=0', '--group=0', '-cf', '-', 'data']);
    diffIds.push(`sha256:${sha256(tar)}`);
    layers.push(writeBlob(gzipSync(tar)));
  }
  const config = writeBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: layers.map((_, i) => ({ created_by: `layer ${i}` })),
      }),
    ),
  );
  const manifest = writeBlob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
      }),
    ),
  );
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return { dir, tag, manifestDigest: manifest.digest, blobDigests: [config.digest, ...layers.map((l) => l.digest)] };
}

export function readBlob(dir: string, digest: string): Buffer {
  return readFileSync(path.join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}
