// The suite's test content, as setup.go builds it: one image config and one image manifest per workflow
// slot (configs[i] / manifests[i], each config unique through a random author), a small gzipped layer,
// blobs for the streamed and chunked uploads, and the referrers artifacts (two with the artifact type in
// the config's media type, two in `artifactType`, an index, and one whose subject is never pushed).
import { randomBytes, randomInt } from 'node:crypto';
import type { ConformanceConfig } from './config.ts';
import { descriptorOf, digestOf, marshalConfig, marshalIndex, marshalManifest, type Descriptor, type ImageManifest } from './oci-documents.ts';

export interface TestBlob {
  content: Buffer;
  contentLength: string;
  digest: string;
}

export interface ChunkedBlob {
  blob: Buffer;
  digest: string;
  chunk1: Buffer;
  chunk1Length: string;
  chunk1Range: string;
  chunk2: Buffer;
  chunk2Length: string;
  chunk2Range: string;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const TEST_TAG_NAME = 'tagtest0';
export const EMPTY_LAYER_TEST_TAG = 'emptylayer';
/** The filter the referrers API reports in OCI-Filters-Applied. */
export const ARTIFACT_TYPE_FILTER = 'artifactType';

/**
 * A base64 tarball, obtained like this:
 *   $ echo 'you bothered to find out what was in here. Congratulations!' > test.txt
 *   $ tar czvf test.tar.gz test.txt
 */
const LAYER_BASE64 =
  'H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0' +
  'WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD' +
  'jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA';

/** setup.go's numWorkflows: `1 << 4` (it follows the four workflow bits in the same iota block). */
const SLOTS = 16;

/** The error codes the spec defines; an error body's first code must be one of them. */
export const ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
] as const;

export class TestData {
  readonly configs: TestBlob[] = [];
  readonly manifests: TestBlob[] = [];
  readonly layerBlobData = Buffer.from(LAYER_BASE64, 'base64');
  readonly layerBlobDigest = digestOf(this.layerBlobData);
  readonly layerBlobContentLength = String(this.layerBlobData.length);
  readonly emptyLayerManifestContent: Buffer;
  readonly emptyLayerManifestDigest: string;
  readonly nonexistentManifest = '.INVALID_MANIFEST_NAME';
  readonly invalidManifestContent = Buffer.from('blablabla');
  readonly testBlobA: Buffer;
  readonly testBlobALength: string;
  readonly testBlobADigest: string;
  /** Rebuilt by the push workflow when the registry asks for larger chunks (OCI-Chunk-Min-Length). */
  chunked: ChunkedBlob;
  readonly dummyDigest = digestOf(Buffer.from('hello world'));

  readonly emptyJSONBlob = Buffer.from('{}');
  readonly emptyJSONDescriptor = descriptorOf(OCI_EMPTY, this.emptyJSONBlob);
  readonly testRefBlobA = Buffer.from('NHL Peanut Butter on my NHL bagel');
  readonly testRefBlobALength = String(this.testRefBlobA.length);
  readonly testRefBlobADigest = digestOf(this.testRefBlobA);
  readonly testRefArtifactTypeA = 'application/vnd.nhl.peanut.butter.bagel';
  readonly testRefBlobB = Buffer.from('NBA Strawberry Jam on my NBA croissant');
  readonly testRefBlobBLength = String(this.testRefBlobB.length);
  readonly testRefBlobBDigest = digestOf(this.testRefBlobB);
  readonly testRefArtifactTypeB = 'application/vnd.nba.strawberry.jam.croissant';
  readonly testRefArtifactTypeIndex = 'application/vnd.food.stand';
  readonly testAnnotationKey = 'org.opencontainers.conformance.test';
  /** The annotation each referrer carries, by its digest: what the referrers API must list. */
  readonly testAnnotationValues = new Map<string, string>();

  readonly refsManifestAConfigArtifactContent: Buffer;
  readonly refsManifestAConfigArtifactDigest: string;
  readonly refsManifestBConfigArtifactContent: Buffer;
  readonly refsManifestBConfigArtifactDigest: string;
  readonly refsManifestALayerArtifactContent: Buffer;
  readonly refsManifestALayerArtifactDigest: string;
  readonly refsManifestBLayerArtifactContent: Buffer;
  readonly refsManifestBLayerArtifactDigest: string;
  readonly refsManifestCLayerArtifactContent: Buffer;
  readonly refsManifestCLayerArtifactDigest: string;
  readonly refsIndexArtifactContent: Buffer;
  readonly refsIndexArtifactDigest: string;

  constructor(config: Pick<ConformanceConfig, 'blobDigest' | 'manifestDigest'>) {
    for (let i = 0; i < SLOTS; i++) {
      // A new author on each run gives each config a digest no earlier run pushed.
      const content = marshalConfig({ author: randomString(16), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
      this.configs.push({ content, contentLength: String(content.length), digest: config.blobDigest || digestOf(content) });
    }
    const layers: Descriptor[] = [{ mediaType: OCI_LAYER_GZIP, size: this.layerBlobData.length, digest: this.layerBlobDigest }];
    for (let i = 0; i < SLOTS; i++) {
      const content = marshalManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: this.configDescriptor(i), layers });
      this.manifests.push({ content, contentLength: String(content.length), digest: config.manifestDigest || digestOf(content) });
    }

    // Used by the push workflow; no mediaType field, as in setup.go.
    this.emptyLayerManifestContent = marshalManifest({ schemaVersion: 2, config: this.configDescriptor(1), layers: [] });
    this.emptyLayerManifestDigest = digestOf(this.emptyLayerManifestContent);

    this.testBlobA = randomBytes(42);
    this.testBlobALength = String(this.testBlobA.length);
    this.testBlobADigest = digestOf(this.testBlobA);
    this.chunked = chunkedBlob(42);

    // Referrers of manifests[4]: the artifact type in the config's media type (A, B) ...
    this.refsManifestAConfigArtifactContent = this.referrer({
      config: descriptorOf(this.testRefArtifactTypeA, this.testRefBlobA),
      layers: [this.emptyJSONDescriptor],
      subject: this.subject(4),
      annotations: { [this.testAnnotationKey]: 'test config a' },
    });
    this.refsManifestAConfigArtifactDigest = digestOf(this.refsManifestAConfigArtifactContent);
    this.refsManifestBConfigArtifactContent = this.referrer({
      config: descriptorOf(this.testRefArtifactTypeB, this.testRefBlobB),
      layers: [this.emptyJSONDescriptor],
      subject: this.subject(4),
      annotations: { [this.testAnnotationKey]: 'test config b' },
    });
    this.refsManifestBConfigArtifactDigest = digestOf(this.refsManifestBConfigArtifactContent);
    // ... and in `artifactType`, with the empty config.
    this.refsManifestALayerArtifactContent = this.referrer({
      artifactType: this.testRefArtifactTypeA,
      config: this.emptyJSONDescriptor,
      layers: [descriptorOf(this.testRefArtifactTypeA, this.testRefBlobA)],
      subject: this.subject(4),
      annotations: { [this.testAnnotationKey]: 'test layer a' },
    });
    this.refsManifestALayerArtifactDigest = digestOf(this.refsManifestALayerArtifactContent);
    this.refsManifestBLayerArtifactContent = this.referrer({
      artifactType: this.testRefArtifactTypeB,
      config: this.emptyJSONDescriptor,
      layers: [descriptorOf(this.testRefArtifactTypeB, this.testRefBlobB)],
      subject: this.subject(4),
      annotations: { [this.testAnnotationKey]: 'test layer b' },
    });
    this.refsManifestBLayerArtifactDigest = digestOf(this.refsManifestBLayerArtifactContent);
    // The same as B layer, about manifests[3], which the discovery workflow never pushes.
    this.refsManifestCLayerArtifactContent = marshalManifest({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: this.testRefArtifactTypeB,
      config: this.emptyJSONDescriptor,
      layers: [descriptorOf(this.testRefArtifactTypeB, this.testRefBlobB)],
      subject: this.subject(3),
    });
    this.refsManifestCLayerArtifactDigest = digestOf(this.refsManifestCLayerArtifactContent);

    this.refsIndexArtifactContent = marshalIndex({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      artifactType: this.testRefArtifactTypeIndex,
      manifests: [descriptorOf(OCI_MANIFEST, this.refsManifestAConfigArtifactContent), descriptorOf(OCI_MANIFEST, this.refsManifestALayerArtifactContent)],
      subject: this.subject(4),
      annotations: { [this.testAnnotationKey]: 'test index' },
    });
    this.refsIndexArtifactDigest = digestOf(this.refsIndexArtifactContent);
    this.testAnnotationValues.set(this.refsIndexArtifactDigest, 'test index');
  }

  /** Rebuilds the chunked blob (the push workflow does when the registry's minimum chunk is larger). */
  setupChunkedBlob(size: number): void {
    this.chunked = chunkedBlob(size);
  }

  /** configs[i] as a manifest's config: with its content embedded (`data`) and an unknown field. */
  private configDescriptor(i: number): Descriptor {
    const config = this.configs[i]!;
    return {
      mediaType: OCI_CONFIG,
      digest: config.digest,
      size: config.content.length,
      data: config.content,
      newUnspecifiedField: Buffer.from('hello world'),
    };
  }

  private subject(i: number): Descriptor {
    return descriptorOf(OCI_MANIFEST, this.manifests[i]!.content);
  }

  /** A referrer manifest; its annotation is recorded as what the referrers API must list for it. */
  private referrer(parts: Omit<ImageManifest, 'schemaVersion' | 'mediaType'>): Buffer {
    const content = marshalManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, ...parts });
    const annotation = parts.annotations?.[this.testAnnotationKey];
    if (annotation !== undefined) this.testAnnotationValues.set(digestOf(content), annotation);
    return content;
  }
}

/** A random blob cut in two chunks: the first one byte longer than half. */
function chunkedBlob(size: number): ChunkedBlob {
  const blob = randomBytes(size);
  const cut = Math.floor(size / 2) + 1;
  const chunk1 = blob.subarray(0, cut);
  const chunk2 = blob.subarray(cut);
  return {
    blob,
    digest: digestOf(blob),
    chunk1,
    chunk1Length: String(chunk1.length),
    chunk1Range: `0-${chunk1.length - 1}`,
    chunk2,
    chunk2Length: String(chunk2.length),
    chunk2Range: `${chunk1.length}-${blob.length - 1}`,
  };
}

function randomString(n: number): string {
  const letters = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-';
  let out = '';
  for (let i = 0; i < n; i++) out += letters[randomInt(letters.length)];
  return out;
}
