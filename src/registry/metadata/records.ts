// What the registry's metadata says of repositories, manifests, tags and uploads.

export interface Actor {
  /** Who did it (user or robot name), null for anonymous. */
  by: string | null;
  /** ISO time. */
  at: string;
}

export interface ManifestReference {
  digest: string;
  kind: 'blob' | 'manifest';
}

export interface ManifestInput {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string | null;
  /** OCI `subject`: the manifest this one is about (signatures, SBOMs), for the referrers API. */
  subjectDigest?: string | null;
  annotations?: Record<string, string> | null;
  /** Every blob (config, layers) and child manifest (index entries) it points to. */
  references: ManifestReference[];
}

export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subjectDigest: string | null;
  annotations: Record<string, string> | null;
  pushedAt: string;
  pushedBy: string | null;
  lastPulledAt: string | null;
}

/** What a GET or HEAD of a manifest needs: which bytes, their type and length. */
export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface TagRecord {
  name: string;
  digest: string;
  pushedAt: string;
  pushedBy: string | null;
}

export interface UploadRecord {
  id: string;
  repository: string;
  startedAt: string;
  startedBy: string | null;
}

/** One page of names in lexical order, and whether more follow (OCI `n`/`last` paging). */
export interface Page<T> {
  items: T[];
  more: boolean;
}
