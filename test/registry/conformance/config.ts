// The conformance suite's settings, read from the same environment variables as the Go suite's setup.go
// (opencontainers/distribution-spec, conformance/), with the same meanings and defaults:
//
//   OCI_ROOT_URL                      the registry, e.g. http://127.0.0.1:5000 (unset: an in-process Gantry)
//   OCI_NAMESPACE                     the repository the workflows use
//   OCI_CROSSMOUNT_NAMESPACE          the repository blobs are mounted into (default conformance-<uuid>)
//   OCI_USERNAME, OCI_PASSWORD        credentials for the token endpoint (Bearer) or for Basic
//   OCI_AUTH_SCOPE                    a token scope to ask for instead of the challenge's
//   OCI_TEST_PULL, OCI_TEST_PUSH, OCI_TEST_CONTENT_DISCOVERY, OCI_TEST_CONTENT_MANAGEMENT
//                                     which workflows run (booleans as Go's strconv.ParseBool; default off)
//   OCI_TAG_NAME, OCI_MANIFEST_DIGEST, OCI_BLOB_DIGEST
//                                     pull existing content instead of pushing it (all three set: no setup)
//   OCI_TAG_LIST                      comma-separated tags already in the repository (no discovery setup)
//   OCI_DELETE_MANIFEST_BEFORE_BLOBS  teardown order (default true)
//   OCI_AUTOMATIC_CROSSMOUNT          set: test mounting without `from`; true/false: whether it should work
//   OCI_DEBUG                         print every request and response (credentials redacted)
//
// Read and kept for fidelity but without effect here, as in the Go suite or because mocha reports
// instead of the suite's HTML/JUnit reporter: OCI_SKIP_EMPTY_LAYER_PUSH_TEST, OCI_HIDE_SKIPPED_WORKFLOWS,
// OCI_REPORT_DIR.
import { randomUUID } from 'node:crypto';

export type Workflow = 'pull' | 'push' | 'contentDiscovery' | 'contentManagement';

/** The environment variable that turns each workflow on. */
export const WORKFLOW_VARIABLES: Readonly<Record<Workflow, string>> = {
  pull: 'OCI_TEST_PULL',
  push: 'OCI_TEST_PUSH',
  contentDiscovery: 'OCI_TEST_CONTENT_DISCOVERY',
  contentManagement: 'OCI_TEST_CONTENT_MANAGEMENT',
};

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ConformanceConfig {
  rootUrl: string;
  namespace: string;
  crossmountNamespace: string;
  username: string;
  password: string;
  authScope: string;
  debug: boolean;
  workflows: ReadonlySet<Workflow>;
  /** OCI_TAG_NAME / OCI_MANIFEST_DIGEST / OCI_BLOB_DIGEST: empty when unset. */
  tagName: string;
  manifestDigest: string;
  blobDigest: string;
  tagList: string;
  runPullSetup: boolean;
  runPushSetup: boolean;
  runContentDiscoverySetup: boolean;
  runContentManagementSetup: boolean;
  deleteManifestBeforeBlobs: boolean;
  /** OCI_AUTOMATIC_CROSSMOUNT is set at all. */
  runAutomaticCrossmountTest: boolean;
  automaticCrossmountEnabled: boolean;
}

export function readConfig(env: Environment): ConformanceConfig {
  const get = (name: string): string => env[name] ?? '';
  const workflows = new Set<Workflow>();
  for (const [workflow, variable] of Object.entries(WORKFLOW_VARIABLES) as Array<[Workflow, string]>) {
    if (parseGoBool(get(variable))) workflows.add(workflow);
  }
  return {
    rootUrl: get('OCI_ROOT_URL'),
    namespace: get('OCI_NAMESPACE'),
    crossmountNamespace: get('OCI_CROSSMOUNT_NAMESPACE') || `conformance-${randomUUID()}`,
    username: get('OCI_USERNAME'),
    password: get('OCI_PASSWORD'),
    authScope: get('OCI_AUTH_SCOPE'),
    debug: parseGoBool(get('OCI_DEBUG')),
    workflows,
    tagName: get('OCI_TAG_NAME'),
    manifestDigest: get('OCI_MANIFEST_DIGEST'),
    blobDigest: get('OCI_BLOB_DIGEST'),
    tagList: get('OCI_TAG_LIST'),
    // Pull needs no setup when the content to pull is named; discovery none when the tags are.
    runPullSetup: !(get('OCI_TAG_NAME') !== '' && get('OCI_MANIFEST_DIGEST') !== '' && get('OCI_BLOB_DIGEST') !== ''),
    runPushSetup: true,
    runContentDiscoverySetup: get('OCI_TAG_LIST') === '',
    runContentManagementSetup: true,
    deleteManifestBeforeBlobs: deleteManifestBeforeBlobs(env),
    runAutomaticCrossmountTest: env.OCI_AUTOMATIC_CROSSMOUNT !== undefined,
    automaticCrossmountEnabled: parseGoBool(get('OCI_AUTOMATIC_CROSSMOUNT')),
  };
}

/**
 * OCI_DELETE_MANIFEST_BEFORE_BLOBS, on its own: it decides which teardown specs exist, so it is read when
 * the specs are declared, before any registry is started (it never depends on one).
 */
export function deleteManifestBeforeBlobs(env: Environment): boolean {
  const value = env.OCI_DELETE_MANIFEST_BEFORE_BLOBS;
  return value === undefined ? true : parseGoBool(value);
}

/** Go's strconv.ParseBool, with its errors read as false (as setup.go ignores them). */
export function parseGoBool(value: string): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}
