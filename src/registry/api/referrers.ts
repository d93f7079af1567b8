// GET /v2/<name>/referrers/<digest>?artifactType=: the manifests whose subject is <digest>, as an OCI
// image index of descriptors. Unknown repositories and subjects have no referrers (200, empty index).
import { RepositoryUnknown } from '../metadata/errors.ts';
import type { ManifestRecord } from '../metadata/records.ts';
import { OCI_IMAGE_INDEX } from '../protocol/media-types.ts';
import { queryParam, type RegistryCall } from './context.ts';

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export async function listReferrers(call: RegistryCall, name: string, digest: string): Promise<void> {
  const { ctx, deps } = call;
  const artifactType = queryParam(ctx, 'artifactType');
  let records: ManifestRecord[];
  try {
    records = await deps.metadata.referrers(name, digest, artifactType);
  } catch (err) {
    if (!(err instanceof RepositoryUnknown)) throw err;
    records = [];
  }
  if (artifactType !== undefined) ctx.set('OCI-Filters-Applied', 'artifactType');
  ctx.status = 200;
  ctx.body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: records.map(descriptorOf) });
  ctx.set('Content-Type', OCI_IMAGE_INDEX);
}

export function descriptorOf(record: ManifestRecord): ReferrerDescriptor {
  return {
    mediaType: record.mediaType,
    digest: record.digest,
    size: record.size,
    ...(record.artifactType !== null ? { artifactType: record.artifactType } : {}),
    ...(record.annotations !== null ? { annotations: record.annotations } : {}),
  };
}
