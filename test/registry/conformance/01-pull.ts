// Workflow 1, Pull (01_pull_test.go): blobs and manifests by digest and by tag, HEAD and GET, 404 for
// what is not there, and the spec's JSON error body on a 400.
import assert from 'node:assert/strict';
import { expectDigestIfPresent, expectStatus, SUCCESS } from './expect.ts';
import { ERROR_CODES, OCI_MANIFEST, TEST_TAG_NAME } from './fixtures.ts';
import { deleteBlob, deleteManifest, fetchContent, pushBlobPostPut, putManifest } from './requests.ts';
import { runOnlyIf, runOnlyIfNot, skipIfDisabled, spec } from './specs.ts';
import type { ConformanceSuite } from './suite.ts';

export function pullWorkflow(suite: ConformanceSuite, deleteManifestBeforeBlobs: boolean): void {
  describe('Pull', () => {
    let tag = '';
    // Specs on the workflow's own content, skipped when it tests existing content (runPullSetup false).
    const ownContentSpec = (title: string, body: () => Promise<void>): void =>
      spec(title, async () => {
        skipIfDisabled(suite, 'pull');
        runOnlyIf(suite.config.runPullSetup);
        await body();
      });

    describe('Setup', () => {
      ownContentSpec('Populate registry with test blob', async () => {
        expectStatus(await pushBlobPostPut(suite, suite.data.configs[0]!), SUCCESS);
      });

      ownContentSpec('Populate registry with test blob', async () => {
        expectStatus(await pushBlobPostPut(suite, suite.data.configs[1]!), SUCCESS);
      });

      ownContentSpec('Populate registry with test layer', async () => {
        const { data } = suite;
        expectStatus(await pushBlobPostPut(suite, { digest: data.layerBlobDigest, content: data.layerBlobData }), SUCCESS);
      });

      ownContentSpec('Populate registry with test manifest', async () => {
        tag = TEST_TAG_NAME;
        expectStatus(await putManifest(suite, tag, suite.data.manifests[0]!.content), SUCCESS);
      });

      ownContentSpec('Populate registry with test manifest', async () => {
        const manifest = suite.data.manifests[1]!;
        expectStatus(await putManifest(suite, manifest.digest, manifest.content), SUCCESS);
      });

      spec('Get tag name from environment', () => {
        skipIfDisabled(suite, 'pull');
        runOnlyIfNot(suite.config.runPullSetup);
        if (suite.config.tagName !== '') tag = suite.config.tagName;
      });
    });

    describe('Pull blobs', () => {
      spec('HEAD request to nonexistent blob should result in 404 response', async () => {
        skipIfDisabled(suite, 'pull');
        expectStatus(await fetchContent(suite, 'HEAD', 'blobs', suite.data.dummyDigest), 404);
      });

      spec('HEAD request to existing blob should yield 200', async () => {
        skipIfDisabled(suite, 'pull');
        const { digest } = suite.data.configs[0]!;
        const res = await fetchContent(suite, 'HEAD', 'blobs', digest);
        expectStatus(res, 200);
        expectDigestIfPresent(res, digest);
      });

      spec('GET nonexistent blob should result in 404 response', async () => {
        skipIfDisabled(suite, 'pull');
        expectStatus(await fetchContent(suite, 'GET', 'blobs', suite.data.dummyDigest), 404);
      });

      spec('GET request to existing blob URL should yield 200', async () => {
        skipIfDisabled(suite, 'pull');
        expectStatus(await fetchContent(suite, 'GET', 'blobs', suite.data.configs[0]!.digest), 200);
      });
    });

    describe('Pull manifests', () => {
      spec('HEAD request to nonexistent manifest should return 404', async () => {
        skipIfDisabled(suite, 'pull');
        expectStatus(await fetchContent(suite, 'HEAD', 'manifests', suite.data.nonexistentManifest), 404);
      });

      for (const i of [0, 1]) {
        spec(`HEAD request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          skipIfDisabled(suite, 'pull');
          const { digest } = suite.data.manifests[i]!;
          const res = await fetchContent(suite, 'HEAD', 'manifests', digest, OCI_MANIFEST);
          expectStatus(res, 200);
          expectDigestIfPresent(res, digest);
        });
      }

      spec('HEAD request to manifest path (tag) should yield 200 response', async () => {
        skipIfDisabled(suite, 'pull');
        assert.notEqual(tag, '', 'no tag: the setup did not push one and OCI_TAG_NAME is unset');
        const res = await fetchContent(suite, 'HEAD', 'manifests', tag, OCI_MANIFEST);
        expectStatus(res, 200);
        expectDigestIfPresent(res, suite.data.manifests[0]!.digest);
      });

      spec('GET nonexistent manifest should return 404', async () => {
        skipIfDisabled(suite, 'pull');
        expectStatus(await fetchContent(suite, 'GET', 'manifests', suite.data.nonexistentManifest), 404);
      });

      for (const i of [0, 1]) {
        spec(`GET request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          skipIfDisabled(suite, 'pull');
          expectStatus(await fetchContent(suite, 'GET', 'manifests', suite.data.manifests[i]!.digest, OCI_MANIFEST), 200);
        });
      }

      spec('GET request to manifest path (tag) should yield 200 response', async () => {
        skipIfDisabled(suite, 'pull');
        assert.notEqual(tag, '', 'no tag: the setup did not push one and OCI_TAG_NAME is unset');
        expectStatus(await fetchContent(suite, 'GET', 'manifests', tag, OCI_MANIFEST), 200);
      });
    });

    describe('Error codes', () => {
      spec('400 response body should contain OCI-conforming JSON message', async () => {
        skipIfDisabled(suite, 'pull');
        const { client, data } = suite;
        // The body is the Go suite's; a GET sends none (as there).
        const res = await client.do(
          client
            .newRequest('GET', '/v2/<name>/manifests/<reference>', { reference: 'sha256:totallywrong' })
            .setHeader('Content-Type', OCI_MANIFEST)
            .setBody(data.invalidManifestContent),
        );
        expectStatus(res, 400, 404);
        if (res.status === 400) {
          const errors = res.errors();
          assert.ok((ERROR_CODES as readonly string[]).includes(errors[0]!.code), `the first error code is not one of the spec's: ${res.describe()}`);
        }
      });
    });

    describe('Teardown', () => {
      const deleteSetupManifests = (): void => {
        for (const i of [0, 1]) {
          ownContentSpec(`Delete manifest[${i}] created in setup`, async () => {
            expectStatus(await deleteManifest(suite, suite.data.manifests[i]!.digest), SUCCESS, 405);
          });
        }
      };
      if (deleteManifestBeforeBlobs) deleteSetupManifests();

      for (const i of [0, 1]) {
        ownContentSpec(`Delete config[${i}] blob created in setup`, async () => {
          expectStatus(await deleteBlob(suite, suite.data.configs[i]!.digest), SUCCESS, 404, 405);
        });
      }

      ownContentSpec('Delete layer blob created in setup', async () => {
        expectStatus(await deleteBlob(suite, suite.data.layerBlobDigest), SUCCESS, 404, 405);
      });

      if (!deleteManifestBeforeBlobs) deleteSetupManifests();
    });
  });
}
