// Workflow 3, Content Discovery (03_discovery_test.go): the tag list with `n` and `last`, and the
// referrers API: an image index of the manifests whose subject is a digest (also for a subject never
// pushed), each with its annotations, filtered by `artifactType` when the registry says so.
import assert from 'node:assert/strict';
import type { RegistryResponse } from './client.ts';
import { expectHeaderEqual, expectJson, expectStatus, SUCCESS } from './expect.ts';
import { ARTIFACT_TYPE_FILTER, OCI_INDEX, TEST_TAG_NAME } from './fixtures.ts';
import { deleteBlob, deleteManifest, pushBlobPostPut, putManifest } from './requests.ts';
import { runOnlyIf, runOnlyIfNot, skipIfDisabled, spec, warn } from './specs.ts';
import type { ConformanceSuite } from './suite.ts';

interface TagList {
  name?: string;
  tags?: string[] | null;
}

interface Index {
  manifests?: Array<{ digest: string; annotations?: Record<string, string> }> | null;
}

/** The tags of a tag list answer; none when it is not one (as setup.go's getTagList). */
function tagsOf(res: RegistryResponse): string[] {
  try {
    return res.json<TagList>().tags ?? [];
  } catch {
    return [];
  }
}

export function contentDiscoveryWorkflow(suite: ConformanceSuite, deleteManifestBeforeBlobs: boolean): void {
  describe('Content Discovery', () => {
    let numTags = 4;
    let tagList: string[] = [];
    const discoverySpec = (title: string, body: () => Promise<void> | void): void =>
      spec(title, async () => {
        skipIfDisabled(suite, 'contentDiscovery');
        await body();
      });
    // Specs on the workflow's own content, skipped when it tests existing content (runContentDiscoverySetup false).
    const ownContentSpec = (title: string, body: () => Promise<void>): void =>
      discoverySpec(title, async () => {
        runOnlyIf(suite.config.runContentDiscoverySetup);
        await body();
      });

    describe('Setup', () => {
      ownContentSpec('Populate registry with test blob', async () => {
        expectStatus(await pushBlobPostPut(suite, suite.data.configs[2]!), SUCCESS);
      });

      ownContentSpec('Populate registry with test layer', async () => {
        const { data } = suite;
        expectStatus(await pushBlobPostPut(suite, { digest: data.layerBlobDigest, content: data.layerBlobData }), SUCCESS);
      });

      ownContentSpec('Populate registry with test tags', async () => {
        const { client, data } = suite;
        for (let i = 0; i < numTags; i++) {
          const tag = `test${i}`;
          tagList.push(tag);
          expectStatus(await putManifest(suite, tag, data.manifests[2]!.content), SUCCESS);
        }
        tagList = tagsOf(await client.do(client.newRequest('GET', '/v2/<name>/tags/list')));
      });

      discoverySpec('Populate registry with test tags (no push)', () => {
        runOnlyIfNot(suite.config.runContentDiscoverySetup);
        tagList = suite.config.tagList.split(',');
      });

      ownContentSpec('References setup', async () => {
        const { data } = suite;
        const subject = data.manifests[4]!;
        const pushReferrer = async (digest: string, content: Buffer, subjectDigest: string, contentType?: string): Promise<void> => {
          const res = await putManifest(suite, digest, content, contentType);
          expectStatus(res, SUCCESS);
          expectHeaderEqual(res, 'OCI-Subject', subjectDigest);
        };

        // The empty JSON blob, whose digest every registry knows.
        assert.equal(data.emptyJSONDescriptor.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
        expectStatus(await pushBlobPostPut(suite, { digest: data.emptyJSONDescriptor.digest, content: data.emptyJSONBlob }), SUCCESS);
        // Referrers pushed before their subject exists.
        expectStatus(await pushBlobPostPut(suite, { digest: data.testRefBlobADigest, content: data.testRefBlobA }), SUCCESS);
        await pushReferrer(data.refsManifestAConfigArtifactDigest, data.refsManifestAConfigArtifactContent, subject.digest);
        await pushReferrer(data.refsManifestALayerArtifactDigest, data.refsManifestALayerArtifactContent, subject.digest);
        await pushReferrer(data.refsIndexArtifactDigest, data.refsIndexArtifactContent, subject.digest, OCI_INDEX);
        // The subject.
        expectStatus(await pushBlobPostPut(suite, data.configs[4]!), SUCCESS);
        expectStatus(await pushBlobPostPut(suite, { digest: data.layerBlobDigest, content: data.layerBlobData }), SUCCESS);
        expectStatus(await putManifest(suite, TEST_TAG_NAME, subject.content), SUCCESS);
        // Referrers pushed after it.
        expectStatus(await pushBlobPostPut(suite, { digest: data.testRefBlobBDigest, content: data.testRefBlobB }), SUCCESS);
        await pushReferrer(data.refsManifestBConfigArtifactDigest, data.refsManifestBConfigArtifactContent, subject.digest);
        await pushReferrer(data.refsManifestBLayerArtifactDigest, data.refsManifestBLayerArtifactContent, subject.digest);
        // A referrer of a subject that is never pushed.
        await pushReferrer(data.refsManifestCLayerArtifactDigest, data.refsManifestCLayerArtifactContent, data.manifests[3]!.digest);
      });
    });

    describe('Test content discovery endpoints (listing tags)', () => {
      const listTags = async (query: Record<string, string> = {}): Promise<RegistryResponse> => {
        const { client } = suite;
        const request = client.newRequest('GET', '/v2/<name>/tags/list');
        for (const [key, value] of Object.entries(query)) request.setQueryParam(key, value);
        return client.do(request);
      };

      discoverySpec('GET request to list tags should yield 200 response', async () => {
        const res = await listTags();
        expectStatus(res, 200);
        tagList = tagsOf(res);
        numTags = tagList.length;
      });

      discoverySpec('GET number of tags should be limitable by `n` query parameter', async () => {
        const numResults = Math.floor(numTags / 2);
        const res = await listTags({ n: String(numResults) });
        expectStatus(res, 200);
        tagList = expectJson<TagList>(res).tags ?? [];
        assert.equal(tagList.length, numResults, `expected ${numResults} tags: ${res.describe()}`);
      });

      discoverySpec('GET start of tag is set by `last` query parameter', async () => {
        const numResults = Math.floor(numTags / 2);
        const first = await listTags({ n: String(numResults) });
        tagList = tagsOf(first);
        const last = tagList[numResults - 1];
        assert.ok(last !== undefined, `the first page has fewer than ${numResults} tags: ${first.describe()}`);
        const res = await listTags({ n: String(numResults), last });
        expectStatus(res, 200);
        // The Go spec checks the first page again here (`tagList` is not re-read), which cannot fail;
        // this checks the second page: at most n tags, all after `last`, none from the first page.
        const next = expectJson<TagList>(res).tags ?? [];
        assert.ok(next.length <= numResults, `expected at most ${numResults} tags: ${res.describe()}`);
        for (const tag of next) {
          assert.ok(!tagList.includes(tag), `${tag} is on both pages: ${res.describe()}`);
          assert.ok(tag > last, `${tag} does not come after last=${last}: ${res.describe()}`);
        }
      });
    });

    describe('Test content discovery endpoints (listing references)', () => {
      const referrers = async (digest: string, artifactType?: string): Promise<{ res: RegistryResponse; index: Index }> => {
        const { client } = suite;
        const request = client.newRequest('GET', '/v2/<name>/referrers/<digest>', { digest });
        if (artifactType !== undefined) request.setQueryParam('artifactType', artifactType);
        const res = await client.do(request);
        expectStatus(res, 200);
        expectHeaderEqual(res, 'Content-Type', OCI_INDEX);
        return { res, index: expectJson<Index>(res) };
      };
      const expectAnnotated = (res: RegistryResponse, index: Index): void => {
        for (const manifest of index.manifests ?? []) {
          assert.equal(Object.keys(manifest.annotations ?? {}).length, 1, `annotations of ${manifest.digest}: ${res.describe()}`);
          assert.equal(manifest.annotations?.[suite.data.testAnnotationKey], suite.data.testAnnotationValues.get(manifest.digest), `annotation of ${manifest.digest}`);
        }
      };

      discoverySpec('GET request to nonexistent blob should result in empty 200 response', async () => {
        const { res, index } = await referrers(suite.data.dummyDigest);
        assert.equal(index.manifests?.length ?? 0, 0, res.describe());
      });

      discoverySpec('GET request to existing blob should yield 200', async () => {
        const { res, index } = await referrers(suite.data.manifests[4]!.digest);
        const manifests = index.manifests ?? [];
        assert.equal(manifests.length, 5, res.describe());
        assert.notEqual(manifests[0]!.digest, manifests[1]!.digest);
        expectAnnotated(res, index);
      });

      discoverySpec('GET request to existing blob with filter should yield 200', async () => {
        const { res, index } = await referrers(suite.data.manifests[4]!.digest, suite.data.testRefArtifactTypeA);
        const manifests = index.manifests ?? [];
        // OCI-Filters-Applied: artifactType says the filter was applied; without it, all are listed.
        if (res.header('OCI-Filters-Applied') !== '') {
          assert.equal(manifests.length, 2, res.describe());
          expectHeaderEqual(res, 'OCI-Filters-Applied', ARTIFACT_TYPE_FILTER);
        } else {
          assert.equal(manifests.length, 5, res.describe());
          warn('filtering by artifact-type is not implemented');
        }
        expectAnnotated(res, index);
      });

      discoverySpec('GET request to missing manifest should yield 200', async () => {
        const { res, index } = await referrers(suite.data.manifests[3]!.digest);
        const manifests = index.manifests ?? [];
        assert.equal(manifests.length, 1, res.describe());
        assert.equal(manifests[0]!.digest, suite.data.refsManifestCLayerArtifactDigest);
      });
    });

    describe('Teardown', () => {
      const acceptedDelete = (res: RegistryResponse): void => expectStatus(res, SUCCESS, 405, 404);
      const deleteCreatedManifests = (): void =>
        ownContentSpec('Delete created manifest & associated tags', async () => {
          const { data } = suite;
          const references = [
            data.refsIndexArtifactDigest,
            data.manifests[2]!.digest,
            data.manifests[4]!.digest,
            data.refsManifestAConfigArtifactDigest,
            data.refsManifestALayerArtifactDigest,
            TEST_TAG_NAME,
            data.refsManifestBConfigArtifactDigest,
            data.refsManifestBLayerArtifactDigest,
            data.refsManifestCLayerArtifactDigest,
          ];
          for (const reference of references) acceptedDelete(await deleteManifest(suite, reference));
        });
      if (deleteManifestBeforeBlobs) deleteCreatedManifests();

      ownContentSpec('Delete config blob created in tests', async () => {
        expectStatus(await deleteBlob(suite, suite.data.configs[2]!.digest), SUCCESS, 405);
      });

      ownContentSpec('Delete layer blob created in setup', async () => {
        expectStatus(await deleteBlob(suite, suite.data.layerBlobDigest), SUCCESS, 405);
      });

      if (!deleteManifestBeforeBlobs) deleteCreatedManifests();

      ownContentSpec('References teardown', async () => {
        const { data } = suite;
        const deleteReferrerManifests = async (): Promise<void> => {
          for (const reference of [
            data.refsIndexArtifactDigest,
            data.refsManifestAConfigArtifactDigest,
            data.refsManifestALayerArtifactDigest,
            data.manifests[4]!.digest,
            data.refsManifestBConfigArtifactDigest,
            data.refsManifestBLayerArtifactDigest,
          ]) {
            acceptedDelete(await deleteManifest(suite, reference));
          }
        };
        if (deleteManifestBeforeBlobs) await deleteReferrerManifests();
        for (const digest of [data.configs[4]!.digest, data.testRefBlobADigest, data.testRefBlobBDigest, data.emptyJSONDescriptor.digest]) {
          acceptedDelete(await deleteBlob(suite, digest));
        }
        if (!deleteManifestBeforeBlobs) await deleteReferrerManifests();
      });
    });
  });
}
