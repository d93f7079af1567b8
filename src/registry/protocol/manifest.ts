// Reading a pushed manifest: an image manifest (OCI or Docker schema 2) or an index (OCI image index or
// Docker manifest list). Validation is what the registry needs to store it safely and answer the
// referrers API; every failure is MANIFEST_INVALID with the field at fault and why, e.g.
// `layers[1].digest: a sha256 digest is 64 lowercase hex digits`.
import { clip, digestOf, digestProblem, type DigestAlgorithm } from './digest.ts';
import { RegistryError } from './errors.ts';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1_MANIFEST,
  DOCKER_SCHEMA1_SIGNED_MANIFEST,
  FOREIGN_LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  essence,
  isMediaType,
  manifestKind,
  type ManifestKind,
} from './media-types.ts';

export * from './media-types.ts';

/** The largest manifest accepted, as CNCF distribution (4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** The error for a manifest over the limit: SIZE_INVALID answered with 413 Payload Too Large. */
export function manifestTooLarge(size: number | null, limit: number = MAX_MANIFEST_BYTES): RegistryError {
  const shown = size === null ? 'larger than' : `${size} bytes; over`;
  return new RegistryError('SIZE_INVALID', `the manifest is ${shown} the limit of ${limit} bytes`, { size, limit }, { status: 413 });
}

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  /** Base64 of the content itself, embedded; checked against digest and size. */
  data?: string;
  artifactType?: string;
  /** Only on index entries. */
  platform?: Platform;
}

export interface ManifestReference {
  digest: string;
  kind: 'blob' | 'manifest';
}

export interface ParsedManifest {
  mediaType: string;
  kind: ManifestKind;
  /** Images only. */
  config?: Descriptor;
  /** Images only; empty for an index. */
  layers: Descriptor[];
  /** Indexes only; empty for an image. */
  manifests: Descriptor[];
  /** The manifest this one is about (a signature, an SBOM): not required to exist. */
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Digests of every blob and child manifest it points to, once each (not the subject, not foreign layers). */
  references(): string[];
  /** The same, each with whether it is a blob (config, layer) or a manifest (index entry). */
  referenceList(): ManifestReference[];
}

/** Content types that say nothing about which manifest this is: the body's `mediaType` decides. */
const GENERIC_CONTENT_TYPES = new Set(['', 'application/json', 'application/octet-stream', 'text/plain']);

/**
 * Validates and reads a manifest body. `contentType` is the request's Content-Type (parameters allowed);
 * when it and the body's `mediaType` are both given they must agree.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw manifestTooLarge(bytes.length);
  const declared = essence(contentType ?? '');
  const generic = GENERIC_CONTENT_TYPES.has(declared);
  if (!generic) assertSupported(declared, 'Content-Type');

  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid('', `the manifest is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw invalid('', 'the manifest must be a JSON object');

  if (json.schemaVersion === undefined) throw invalid('schemaVersion', 'is missing; it must be 2');
  if (json.schemaVersion !== 2) throw invalid('schemaVersion', `must be 2 (got ${clip(JSON.stringify(json.schemaVersion))})`);

  const bodyType = optionalString(json, 'mediaType', '');
  if (bodyType !== undefined) assertSupported(bodyType, 'mediaType');
  if (!generic && bodyType !== undefined && bodyType !== declared) {
    throw invalid('mediaType', `"${clip(bodyType)}" does not match the Content-Type "${clip(declared)}"`);
  }
  const mediaType = generic ? (bodyType ?? inferMediaType(json)) : declared;
  if ((mediaType === DOCKER_MANIFEST || mediaType === DOCKER_MANIFEST_LIST) && bodyType === undefined) {
    throw invalid('mediaType', `is required in a Docker manifest (expected "${mediaType}")`);
  }
  const kind = manifestKind(mediaType)!;

  const artifactType = optionalMediaType(json, 'artifactType', '');
  const annotations = optionalStringMap(json, 'annotations', '');
  const subject = json.subject === undefined ? undefined : readDescriptor(json.subject, 'subject', false);

  let config: Descriptor | undefined;
  let layers: Descriptor[] = [];
  let manifests: Descriptor[] = [];
  if (kind === 'image') {
    if (json.manifests !== undefined) throw invalid('manifests', `an image manifest (${mediaType}) has no "manifests"; is this an index?`);
    if (json.config === undefined) throw invalid('config', 'is missing; an image manifest needs a config descriptor');
    config = readDescriptor(json.config, 'config', false);
    layers = readDescriptors(json, 'layers', false);
  } else {
    for (const field of ['config', 'layers'] as const) {
      if (json[field] !== undefined) throw invalid(field, `an index (${mediaType}) has no "${field}"; is this an image manifest?`);
    }
    manifests = readDescriptors(json, 'manifests', true);
  }

  const referenceList = (): ManifestReference[] => {
    const seen = new Set<string>();
    const out: ManifestReference[] = [];
    const add = (digest: string, refKind: ManifestReference['kind']): void => {
      if (seen.has(digest)) return;
      seen.add(digest);
      out.push({ digest, kind: refKind });
    };
    if (config) add(config.digest, 'blob');
    for (const layer of layers) if (!isForeign(layer)) add(layer.digest, 'blob');
    for (const child of manifests) add(child.digest, 'manifest');
    return out;
  };

  return {
    mediaType,
    kind,
    ...(config ? { config } : {}),
    layers,
    manifests,
    ...(subject ? { subject } : {}),
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(annotations !== undefined ? { annotations } : {}),
    references: () => referenceList().map((r) => r.digest),
    referenceList,
  };
}

/**
 * The artifact type the referrers API reports for a manifest: its `artifactType`, else (for an image)
 * its config's media type, as distribution-spec v1.1 says.
 */
export function referrerArtifactType(manifest: Pick<ParsedManifest, 'artifactType' | 'config'>): string | undefined {
  return manifest.artifactType ?? manifest.config?.mediaType;
}

/** A foreign (non-distributable) layer with `urls` lives elsewhere and need not be in the registry. */
export function isForeign(descriptor: Descriptor): boolean {
  return FOREIGN_LAYER_MEDIA_TYPES.has(descriptor.mediaType) && (descriptor.urls?.length ?? 0) > 0;
}

/** A media type (from the Content-Type header or the body's `mediaType`) must be one the registry stores. */
function assertSupported(mediaType: string, from: 'Content-Type' | 'mediaType'): void {
  if (manifestKind(mediaType) !== null) return;
  const supported = Object.keys(MANIFEST_MEDIA_TYPES).join(', ');
  const schema1 = mediaType === DOCKER_SCHEMA1_MANIFEST || mediaType === DOCKER_SCHEMA1_SIGNED_MANIFEST;
  const reason = schema1
    ? `Docker schema 1 manifests are not supported (use one of: ${supported})`
    : `unsupported manifest media type "${clip(mediaType)}" (supported: ${supported})`;
  throw from === 'mediaType' ? invalid('mediaType', reason) : invalid('', reason, 'Content-Type');
}

/** Without a declared media type: an index lists manifests, an image has a config. */
function inferMediaType(json: Record<string, unknown>): string {
  if (json.manifests !== undefined && json.config === undefined) return OCI_IMAGE_INDEX;
  if (json.config !== undefined && json.manifests === undefined) return OCI_IMAGE_MANIFEST;
  throw invalid('mediaType', 'is missing and the Content-Type does not say which manifest this is; set one of them');
}

function readDescriptors(json: Record<string, unknown>, field: 'layers' | 'manifests', inIndex: boolean): Descriptor[] {
  const value = json[field];
  if (value === undefined) throw invalid(field, 'is missing (it may be an empty array)');
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of descriptors');
  return value.map((item, i) => readDescriptor(item, `${field}[${i}]`, inIndex));
}

function readDescriptor(value: unknown, at: string, inIndex: boolean): Descriptor {
  if (!isObject(value)) throw invalid(at, 'must be a descriptor object {mediaType, digest, size}');
  const mediaType = value.mediaType;
  if (typeof mediaType !== 'string') throw invalid(`${at}.mediaType`, 'is missing');
  if (!isMediaType(mediaType)) throw invalid(`${at}.mediaType`, `"${clip(mediaType)}" is not a media type (type/subtype)`);
  const digest = value.digest;
  if (typeof digest !== 'string') throw invalid(`${at}.digest`, 'is missing');
  const problem = digestProblem(digest);
  if (problem !== null) throw invalid(`${at}.digest`, problem);
  const size = value.size;
  if (size === undefined) throw invalid(`${at}.size`, 'is missing');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${at}.size`, `must be a non-negative integer (got ${clip(JSON.stringify(size))})`);
  }
  const descriptor: Descriptor = { mediaType, digest, size };

  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || value.urls.some((u) => typeof u !== 'string' || u === '')) {
      throw invalid(`${at}.urls`, 'must be an array of URLs');
    }
    descriptor.urls = value.urls as string[];
  }
  const annotations = optionalStringMap(value, 'annotations', at);
  if (annotations !== undefined) descriptor.annotations = annotations;
  const artifactType = optionalMediaType(value, 'artifactType', at);
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (value.data !== undefined) descriptor.data = readData(value.data, descriptor, at);
  // Only index entries have a platform; elsewhere it is an unknown property, which readers ignore.
  if (inIndex && value.platform !== undefined) descriptor.platform = readPlatform(value.platform, `${at}.platform`);
  return descriptor;
}

/** Embedded content must be base64 of exactly the bytes the digest and size name. */
function readData(data: unknown, descriptor: Descriptor, at: string): string {
  if (typeof data !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(data)) {
    throw invalid(`${at}.data`, 'must be base64');
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length !== descriptor.size) throw invalid(`${at}.data`, `holds ${bytes.length} bytes but size says ${descriptor.size}`);
  const algorithm = descriptor.digest.slice(0, descriptor.digest.indexOf(':')) as DigestAlgorithm;
  if (digestOf(bytes, algorithm) !== descriptor.digest) throw invalid(`${at}.data`, `does not match the digest ${descriptor.digest}`);
  return data;
}

function readPlatform(value: unknown, at: string): Platform {
  if (!isObject(value)) throw invalid(at, 'must be an object {architecture, os}');
  if (typeof value.architecture !== 'string' || value.architecture === '') throw invalid(`${at}.architecture`, 'is missing');
  if (typeof value.os !== 'string' || value.os === '') throw invalid(`${at}.os`, 'is missing');
  const platform: Platform = { architecture: value.architecture, os: value.os };
  const osVersion = optionalString(value, 'os.version', at);
  if (osVersion !== undefined) platform['os.version'] = osVersion;
  const variant = optionalString(value, 'variant', at);
  if (variant !== undefined) platform.variant = variant;
  for (const field of ['os.features', 'features'] as const) {
    const list = value[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((f) => typeof f !== 'string')) throw invalid(`${at}.${field}`, 'must be an array of strings');
    platform[field] = list as string[];
  }
  return platform;
}

function optionalString(obj: Record<string, unknown>, field: string, at: string): string | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(join(at, field), 'must be a string');
  return value;
}

function optionalMediaType(obj: Record<string, unknown>, field: string, at: string): string | undefined {
  const value = optionalString(obj, field, at);
  if (value !== undefined && !isMediaType(value)) throw invalid(join(at, field), `"${clip(value)}" is not a media type (type/subtype)`);
  return value;
}

function optionalStringMap(obj: Record<string, unknown>, field: string, at: string): Record<string, string> | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw invalid(join(at, field), 'must be an object of string values');
  }
  return value as Record<string, string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(at: string, field: string): string {
  return at === '' ? field : `${at}.${field}`;
}

/** MANIFEST_INVALID; `field` is where in the manifest (empty for the whole of it). */
function invalid(field: string, reason: string, header?: 'Content-Type'): RegistryError {
  const message = field === '' ? reason : `${field}: ${reason}`;
  const detail: Record<string, string> = field === '' ? { reason } : { field, reason };
  if (header !== undefined) detail.header = header;
  return new RegistryError('MANIFEST_INVALID', `invalid manifest: ${message}`, detail);
}
