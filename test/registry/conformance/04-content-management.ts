// Workflow 4, Content Management (04_management_test.go): deleting a tag, a manifest by digest and blobs,
// and what the registry answers afterwards (404s, a shorter tag list). A registry may refuse deletes
// (405, or 400 UNSUPPORTED for tags).
import assert from 'node:assert/strict';
import { expectJson, expectStatus, SUCCESS } from './expect.ts';
import { TEST_TAG_NAME } from './fixtures.ts';
import { deleteBlob, deleteManifest, fetchContent, pushBlobPostPut, putManifest } from './requests.ts';
import { runOnlyIf, skipIfDisabled, spec } from './specs.ts';
import type { ConformanceSuite } from './suite.ts';

interface TagList {
  tags?: string[] | null;
}

export function contentManagementWorkflow(suite: ConformanceSuite): void {
  describe('Content Management', () => {
    let tagToDelete = '';
    let numTags = 0;
    let blobDeleteAllowed = true;
    const managementSpec = (title: string, body: () => Promise<void>): void =>
      spec(title, async () => {
        skipIfDisabled(suite, 'contentManagement');
        await body();
      });
    // Specs on the workflow's own content, skipped when it tests existing content (runContentManagementSetup false).
    const ownContentSpec = (title: string, body: () => Promise<void>): void =>
      managementSpec(title, async () => {
        runOnlyIf(suite.config.runContentManagementSetup);
        await body();
      });
    const countTags = async (): Promise<number> => {
      const { client } = suite;
      const res = await client.do(client.newRequest('GET', '/v2/<name>/tags/list'));
      expectStatus(res, 200);
      return (expectJson<TagList>(res).tags ?? []).length;
    };

    describe('Setup', () => {
      ownContentSpec('Populate registry with test config blob', async () => {
        expectStatus(await pushBlobPostPut(suite, suite.data.configs[3]!), SUCCESS);
      });

      ownContentSpec('Populate registry with test layer', async () => {
        const { data } = suite;
        expectStatus(await pushBlobPostPut(suite, { digest: data.layerBlobDigest, content: data.layerBlobData }), SUCCESS);
      });

      ownContentSpec('Populate registry with test tag', async () => {
        tagToDelete = TEST_TAG_NAME;
        expectStatus(await putManifest(suite, tagToDelete, suite.data.manifests[3]!.content), SUCCESS);
      });

      ownContentSpec('Check how many tags there are before anything gets deleted', async () => {
        numTags = await countTags();
      });
    });

    describe('Manifest delete', () => {
      managementSpec('DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)', async () => {
        const res = await deleteManifest(suite, tagToDelete);
        expectStatus(res, 400, 202, 405);
        if (res.status === 400) assert.equal(res.errors()[0]!.code, 'UNSUPPORTED', res.describe());
      });

      managementSpec('DELETE request to manifest (digest) should yield 202 response unless already deleted', async () => {
        // After the tag's delete, the manifest may be gone already (which is ok).
        expectStatus(await deleteManifest(suite, suite.data.manifests[3]!.digest), 202, 404);
      });

      managementSpec('GET request to deleted manifest URL should yield 404 response, unless delete is disallowed', async () => {
        expectStatus(await fetchContent(suite, 'GET', 'manifests', suite.data.manifests[3]!.digest), 404, 200);
      });

      managementSpec('GET request to tags list should reflect manifest deletion', async () => {
        const remaining = await countTags();
        assert.ok(remaining < numTags, `${remaining} tags after the delete, ${numTags} before`);
      });
    });

    describe('Blob delete', () => {
      ownContentSpec('DELETE request to blob URL should yield 202 response', async () => {
        const { data } = suite;
        expectStatus(await deleteBlob(suite, data.configs[3]!.digest), 202, 404, 405);
        const layer = await deleteBlob(suite, data.layerBlobDigest);
        expectStatus(layer, 202, 404, 405);
        if (layer.status === 405) blobDeleteAllowed = false;
      });

      ownContentSpec('GET request to deleted blob URL should yield 404 response', async () => {
        runOnlyIf(blobDeleteAllowed);
        expectStatus(await fetchContent(suite, 'GET', 'blobs', suite.data.configs[3]!.digest), 404);
      });
    });

    describe('Teardown', () => {
      // No teardown required at this time for content management tests (as in the Go suite).
    });
  });
}
