import { Invalid, NotFound } from '../../shared/errors.ts';

/** A manifest points at blobs or manifests the repository does not have (OCI MANIFEST_BLOB_UNKNOWN). */
export class MissingReferences extends Invalid {
  constructor(readonly missing: string[]) {
    super(`the manifest references ${missing.length} unknown blob(s) or manifest(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`, { missing });
  }
}

/** No such repository (OCI NAME_UNKNOWN). */
export class RepositoryUnknown extends NotFound {
  constructor(readonly repository: string) {
    super(`repository "${repository}" is not known`);
  }
}

/** No such manifest or tag in the repository (OCI MANIFEST_UNKNOWN). */
export class ManifestUnknown extends NotFound {
  constructor(repository: string, reference: string) {
    super(`manifest "${reference}" is not known in repository "${repository}"`);
  }
}
