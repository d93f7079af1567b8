// Manifest PUT / GET / HEAD / DELETE by tag or digest. A manifest's bytes are a blob in the BlobStore
// (content-addressed, as in distribution); what it is, what it references and which tags name it live
// in RegistryMetadata. The bytes are stored first, so metadata never names bytes that are not there.
import { Readable } from 'node:stream';
import { ManifestUnknown } from '../metadata/errors.ts';
import { digestOf, type DigestAlgorithm } from '../protocol/digest.ts';
import { RegistryError } from '../protocol/errors.ts';
import { MAX_MANIFEST_BYTES, manifestTooLarge, parseManifest, referrerArtifactType, type ParsedManifest } from '../protocol/manifest.ts';
import { BlobUnknown } from '../storage/index.ts';
import { actorOf, answerEmpty, contentLength, header, type RegistryCall } from './context.ts';
import { readLimited } from './body.ts';

export interface ManifestTarget {
  name: string;
  reference: string;
  digest?: string;
  tag?: string;
}

export async function putManifest(call: RegistryCall, target: ManifestTarget): Promise<void> {
  const { ctx, deps } = call;
  const declared = contentLength(ctx);
  if (declared !== null && declared > MAX_MANIFEST_BYTES) throw manifestTooLarge(declared);
  await deps.blobs.checkCapacity(deps.reserves, declared ?? 0);
  const bytes = await readLimited(ctx.req, MAX_MANIFEST_BYTES, (size) => manifestTooLarge(size));
  const manifest = parseManifest(bytes, header(ctx, 'content-type'));

  const algorithm = (target.digest?.slice(0, target.digest.indexOf(':')) ?? 'sha256') as DigestAlgorithm;
  const digest = digestOf(bytes, algorithm);
  if (target.digest !== undefined && target.digest !== digest) {
    throw new RegistryError('DIGEST_INVALID', `the manifest's digest is ${digest}, not ${target.digest}`, { expected: target.digest, actual: digest });
  }
  // Holding the manifest and everything it references: the garbage collector cannot delete one of them
  // between the check and the record (distribution's race, issues #3045 and #3743).
  const held = [digest, ...manifest.referenceList().map((r) => r.digest)];
  await deps.blobs.withBlobsHeld(held, async (blobs) => {
    // Refuse before writing anything when a reference is missing; putManifest checks again atomically.
    await checkReferences(call, target.name, manifest);
    await deps.quotas?.check(target.name, bytes.length, digest);
    await blobs.put(Readable.from([bytes]), { digest, size: bytes.length });
    await deps.metadata.putManifest(
      target.name,
      {
        digest,
        mediaType: manifest.mediaType,
        size: bytes.length,
        artifactType: referrerArtifactType(manifest) ?? null,
        subjectDigest: manifest.subject?.digest ?? null,
        annotations: manifest.annotations ?? null,
        references: manifest.referenceList(),
      },
      target.tag ?? null,
      actorOf(call),
    );
  });
  if (manifest.subject) ctx.set('OCI-Subject', manifest.subject.digest);
  ctx.set('Location', `/v2/${target.name}/manifests/${digest}`);
  ctx.set('Docker-Content-Digest', digest);
  answerEmpty(ctx, 201);
}

/**
 * GET / HEAD by tag or digest. The tag is resolved by the metadata on every request (from memory until
 * the repository changes: RegistryMetadata.resolveManifest), then the bytes come from memory by digest
 * (ManifestBytes) and are answered as one buffer.
 */
export async function getManifest(call: RegistryCall, target: ManifestTarget, withBody: boolean): Promise<void> {
  const { ctx, deps } = call;
  const record = await deps.metadata.resolveManifest(target.name, target.reference);
  ctx.status = 200;
  if (withBody) {
    let bytes: Buffer;
    try {
      bytes = await deps.manifestBytes.get(record.digest);
    } catch (err) {
      if (err instanceof BlobUnknown) throw new ManifestUnknown(target.name, target.reference);
      throw err;
    }
    ctx.body = bytes;
    try {
      await deps.metadata.markPulled(target.name, record.digest, deps.clock().toISOString());
    } catch (err) {
      deps.logger?.warn({ err, repository: target.name, digest: record.digest }, 'could not record a manifest pull');
    }
  }
  ctx.set('Content-Type', record.mediaType);
  ctx.length = record.size;
  ctx.set('Docker-Content-Digest', record.digest);
}

export async function deleteManifest(call: RegistryCall, target: ManifestTarget): Promise<void> {
  const { ctx, deps } = call;
  if (target.tag !== undefined) {
    const record = await deps.metadata.getManifest(target.name, target.tag);
    await deps.metadata.deleteTag(target.name, target.tag);
    ctx.set('Docker-Content-Digest', record.digest);
  } else {
    const digest = target.digest ?? target.reference;
    if (!(await deps.metadata.deleteManifest(target.name, digest))) throw new ManifestUnknown(target.name, digest);
    ctx.set('Docker-Content-Digest', digest);
  }
  answerEmpty(ctx, 202);
}

async function checkReferences(call: RegistryCall, name: string, manifest: ParsedManifest): Promise<void> {
  const missing: string[] = [];
  for (const ref of manifest.referenceList()) {
    const present =
      ref.kind === 'blob'
        ? (await call.deps.metadata.blobSize(name, ref.digest)) !== null
        : await call.deps.metadata.getManifest(name, ref.digest).then(
            () => true,
            () => false,
          );
    if (!present) missing.push(ref.digest);
  }
  if (missing.length > 0) {
    throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `the manifest references ${missing.length} blob(s) or manifest(s) unknown to ${name}: ${missing.slice(0, 5).join(', ')}`, {
      missing,
    });
  }
}
