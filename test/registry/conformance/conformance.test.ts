// A TypeScript port of the OCI distribution-spec conformance suite (opencontainers/distribution-spec,
// conformance/): its four workflows, in its order, with its spec names and its OCI_* settings (config.ts).
//
// Without OCI_ROOT_URL it tests Gantry's registry, started in this process with its real access policy;
// all four workflows run unless some OCI_TEST_* variable says which. With OCI_ROOT_URL it tests that
// registry instead, as the Go suite would, e.g. against CNCF distribution:
//
//   OCI_ROOT_URL=http://127.0.0.1:5000 OCI_NAMESPACE=myorg/myrepo OCI_TEST_PULL=1 OCI_TEST_PUSH=1 \
//   OCI_TEST_CONTENT_DISCOVERY=1 OCI_TEST_CONTENT_MANAGEMENT=1 \
//   npx mocha --no-config --node-option import=tsx --timeout 30000 --exit test/registry/conformance/*.test.ts
import { pullWorkflow } from './01-pull.ts';
import { pushWorkflow } from './02-push.ts';
import { contentDiscoveryWorkflow } from './03-content-discovery.ts';
import { contentManagementWorkflow } from './04-content-management.ts';
import { RegistryClient } from './client.ts';
import { deleteManifestBeforeBlobs, readConfig, WORKFLOW_VARIABLES, type Environment } from './config.ts';
import { TestData } from './fixtures.ts';
import { startGantryRegistry, type InProcessRegistry } from './gantry.ts';
import { ConformanceSuite } from './suite.ts';

/** The repository the workflows use in Gantry when OCI_NAMESPACE does not name one. */
const DEFAULT_GANTRY_NAMESPACE = 'conformance/oci';

describe('OCI Distribution Conformance Tests', function () {
  const suite = new ConformanceSuite();
  let inProcess: InProcessRegistry | undefined;
  // It decides which teardown specs exist, so it is read now (no registry can change it).
  const manifestsFirst = deleteManifestBeforeBlobs(process.env);

  before(async function () {
    let env: Environment = process.env;
    if (!env.OCI_ROOT_URL) {
      inProcess = await startGantryRegistry();
      env = { ...gantryDefaults(env), ...inProcess.env };
    }
    const config = readConfig(env);
    const debug = config.debug ? (text: string) => process.stdout.write(`${text}\n`) : undefined;
    const client = new RegistryClient({
      rootUrl: config.rootUrl,
      defaultName: config.namespace,
      username: config.username,
      password: config.password,
      authScope: config.authScope,
      userAgent: 'distribution-spec-conformance-tests',
      ...(debug ? { debug } : {}),
    });
    suite.start(config, client, new TestData(config));
  });

  after(async function () {
    await inProcess?.close();
  });

  pullWorkflow(suite, manifestsFirst);
  pushWorkflow(suite, manifestsFirst);
  contentDiscoveryWorkflow(suite, manifestsFirst);
  contentManagementWorkflow(suite);
});

/** For the in-process registry: a namespace, and every workflow unless the caller chose some. */
function gantryDefaults(env: Environment): Environment {
  const chosen = Object.values(WORKFLOW_VARIABLES).some((variable) => env[variable] !== undefined);
  const workflows = chosen ? {} : Object.fromEntries(Object.values(WORKFLOW_VARIABLES).map((variable) => [variable, '1']));
  return { ...env, ...workflows, OCI_NAMESPACE: env.OCI_NAMESPACE || DEFAULT_GANTRY_NAMESPACE };
}
