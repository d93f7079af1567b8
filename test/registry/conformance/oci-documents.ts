// The suite's image-spec documents (its image.go), serialised as Go's json.MarshalIndent(v, "", "\t")
// writes them: fields in struct order, `omitempty` fields left out when empty, []byte as base64, and the
// descriptor's `newUnspecifiedField` always present (null when unset) so that every pushed manifest
// carries a field the image spec does not know, which a registry must store and serve unchanged.
import { createHash } from 'node:crypto';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  /** Embedded content (Go []byte: base64 in JSON). */
  data?: Buffer;
  artifactType?: string;
  newUnspecifiedField?: Buffer;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  author?: string;
  architecture: string;
  os: string;
  rootfs: { type: string; diff_ids: string[] };
}

export function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A descriptor of these bytes. */
export function descriptorOf(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

export function marshalManifest(manifest: ImageManifest): Buffer {
  return goIndent({
    schemaVersion: manifest.schemaVersion,
    ...omitEmpty('mediaType', manifest.mediaType),
    ...omitEmpty('artifactType', manifest.artifactType),
    config: descriptorJson(manifest.config),
    layers: manifest.layers.map(descriptorJson),
    ...(manifest.subject ? { subject: descriptorJson(manifest.subject) } : {}),
    ...omitEmptyMap('annotations', manifest.annotations),
  });
}

export function marshalIndex(index: ImageIndex): Buffer {
  return goIndent({
    schemaVersion: index.schemaVersion,
    ...omitEmpty('mediaType', index.mediaType),
    ...omitEmpty('artifactType', index.artifactType),
    manifests: index.manifests.map(descriptorJson),
    ...(index.subject ? { subject: descriptorJson(index.subject) } : {}),
    ...omitEmptyMap('annotations', index.annotations),
  });
}

export function marshalConfig(config: ImageConfig): Buffer {
  return goIndent({
    ...omitEmpty('author', config.author),
    architecture: config.architecture,
    os: config.os,
    rootfs: { type: config.rootfs.type, diff_ids: config.rootfs.diff_ids },
  });
}

function descriptorJson(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...omitEmptyMap('annotations', d.annotations),
    ...(d.data && d.data.length > 0 ? { data: d.data.toString('base64') } : {}),
    ...omitEmpty('artifactType', d.artifactType),
    // No omitempty in Go: a nil []byte is null.
    newUnspecifiedField: d.newUnspecifiedField ? d.newUnspecifiedField.toString('base64') : null,
  };
}

function omitEmpty(key: string, value: string | undefined): Record<string, string> {
  return value ? { [key]: value } : {};
}

function omitEmptyMap(key: string, value: Record<string, string> | undefined): Record<string, Record<string, string>> {
  if (!value || Object.keys(value).length === 0) return {};
  // Go writes map keys sorted.
  return { [key]: Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

/** json.MarshalIndent with a tab: the same layout as JSON.stringify with a tab for these documents. */
function goIndent(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, '\t'), 'utf8');
}
