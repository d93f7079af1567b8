// Workflow 2, Push (02_push_test.go): blob uploads streamed (POST, PATCH, PUT), monolithic (POST with the
// blob, or POST then PUT), chunked (PATCHes at Content-Range, 416 out of order, session status), the
// cross-repository mount, and manifest uploads (tags, a manifest with no layers).
import assert from 'node:assert/strict';
import type { RegistryResponse } from './client.ts';
import { expectHeader, expectHeaderEqual, expectStatus, SUCCESS } from './expect.ts';
import { EMPTY_LAYER_TEST_TAG, OCI_MANIFEST } from './fixtures.ts';
import { deleteBlob, deleteManifest, fetchContent, putManifest } from './requests.ts';
import { runOnlyIf, runOnlyIfNot, skipIfDisabled, spec, warn } from './specs.ts';
import type { ConformanceSuite } from './suite.ts';

export function pushWorkflow(suite: ConformanceSuite, deleteManifestBeforeBlobs: boolean): void {
  describe('Push', () => {
    let lastResponse: RegistryResponse | undefined;
    let prevResponse: RegistryResponse | undefined;
    let emptyLayerManifestRef = '';
    const previous = (which: RegistryResponse | undefined): RegistryResponse => {
      assert.ok(which, 'the spec this one continues did not get a response');
      return which;
    };
    const pushSpec = (title: string, body: () => Promise<void>): void =>
      spec(title, async () => {
        skipIfDisabled(suite, 'push');
        await body();
      });

    describe('Setup', () => {
      // No setup required at this time for push tests.
    });

    describe('Blob Upload Streamed', () => {
      pushSpec('PATCH request with blob in body should yield 202 response', async () => {
        const { client, data } = suite;
        const session = await client.do(client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
        expectHeader(session, 'Location');
        const res = await client.do(
          client.newRequest('PATCH', session.relativeLocation()).setHeader('Content-Type', 'application/octet-stream').setBody(data.testBlobA),
        );
        expectStatus(res, 202);
        lastResponse = res;
      });

      pushSpec('PUT request to session URL with digest should yield 201 response', async () => {
        const { client, data } = suite;
        const res = await client.do(
          client
            .newRequest('PUT', previous(lastResponse).relativeLocation())
            .setQueryParam('digest', data.testBlobADigest)
            .setHeader('Content-Type', 'application/octet-stream')
            .setHeader('Content-Length', data.testBlobALength),
        );
        expectStatus(res, 201);
        expectHeader(res, 'Location');
      });
    });

    describe('Blob Upload Monolithic', () => {
      pushSpec('GET nonexistent blob should result in 404 response', async () => {
        expectStatus(await fetchContent(suite, 'GET', 'blobs', suite.data.dummyDigest), 404);
      });

      pushSpec('POST request with digest and blob should yield a 201 or 202', async () => {
        const { client } = suite;
        const config = suite.data.configs[1]!;
        const res = await client.do(
          client
            .newRequest('POST', '/v2/<name>/blobs/uploads/')
            .setHeader('Content-Length', config.contentLength)
            .setHeader('Content-Type', 'application/octet-stream')
            .setQueryParam('digest', config.digest)
            .setBody(config.content),
        );
        expectHeader(res, 'Location');
        expectStatus(res, 201, 202);
        lastResponse = res;
      });

      pushSpec('GET request to blob URL from prior request should yield 200 or 404 based on response code', async () => {
        const posted = previous(lastResponse);
        const res = await fetchContent(suite, 'GET', 'blobs', suite.data.configs[1]!.digest);
        // 202: the registry opened a session instead of taking the blob, so it has no blob yet.
        expectStatus(res, posted.status === 202 ? 404 : 200);
      });

      pushSpec('POST request should yield a session ID', async () => {
        const { client } = suite;
        const res = await client.do(client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
        expectStatus(res, 202);
        lastResponse = res;
      });

      pushSpec('PUT upload of a blob should yield a 201 Response', async () => {
        const { client } = suite;
        const config = suite.data.configs[1]!;
        const res = await client.do(
          client
            .newRequest('PUT', previous(lastResponse).relativeLocation())
            .setHeader('Content-Length', config.contentLength)
            .setHeader('Content-Type', 'application/octet-stream')
            .setQueryParam('digest', config.digest)
            .setBody(config.content),
        );
        expectHeader(res, 'Location');
        expectStatus(res, 201);
      });

      pushSpec('GET request to existing blob should yield 200 response', async () => {
        expectStatus(await fetchContent(suite, 'GET', 'blobs', suite.data.configs[1]!.digest), 200);
      });

      pushSpec('PUT upload of a layer blob should yield a 201 Response', async () => {
        const { client, data } = suite;
        const session = await client.do(client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
        const res = await client.do(
          client
            .newRequest('PUT', session.relativeLocation())
            .setHeader('Content-Length', data.layerBlobContentLength)
            .setHeader('Content-Type', 'application/octet-stream')
            .setQueryParam('digest', data.layerBlobDigest)
            .setBody(data.layerBlobData),
        );
        expectHeader(res, 'Location');
        expectStatus(res, 201);
      });

      pushSpec('GET request to existing layer should yield 200 response', async () => {
        expectStatus(await fetchContent(suite, 'GET', 'blobs', suite.data.layerBlobDigest), 200);
      });
    });

    describe('Blob Upload Chunked', () => {
      pushSpec('Out-of-order blob upload should return 416', async () => {
        const { client, data } = suite;
        const session = await client.do(client.newRequest('POST', '/v2/<name>/blobs/uploads/').setHeader('Content-Length', '0'));
        expectHeader(session, 'Location');
        // Rebuild the chunked blob if the registry's minimum chunk is above our chunk size.
        const minimum = session.header('OCI-Chunk-Min-Length');
        if (minimum !== '') {
          const minSize = Number(minimum);
          assert.ok(Number.isInteger(minSize), `OCI-Chunk-Min-Length is not a number: ${session.describe()}`);
          if (minSize > data.chunked.chunk1.length) data.setupChunkedBlob(minSize * 2 - 2);
        }
        const res = await client.do(
          client
            .newRequest('PATCH', session.relativeLocation())
            .setHeader('Content-Type', 'application/octet-stream')
            .setHeader('Content-Length', data.chunked.chunk2Length)
            .setHeader('Content-Range', data.chunked.chunk2Range)
            .setBody(data.chunked.chunk2),
        );
        expectStatus(res, 416);
      });

      pushSpec('PATCH request with first chunk should return 202', async () => {
        const { client, data } = suite;
        const session = await client.do(client.newRequest('POST', '/v2/<name>/blobs/uploads/').setHeader('Content-Length', '0'));
        expectHeader(session, 'Location');
        prevResponse = session;
        const res = await client.do(
          client
            .newRequest('PATCH', session.relativeLocation())
            .setHeader('Content-Type', 'application/octet-stream')
            .setHeader('Content-Length', data.chunked.chunk1Length)
            .setHeader('Content-Range', data.chunked.chunk1Range)
            .setBody(data.chunked.chunk1),
        );
        expectStatus(res, 202);
        expectHeaderEqual(res, 'Range', data.chunked.chunk1Range);
        lastResponse = res;
      });

      pushSpec('Retry previous blob chunk should return 416', async () => {
        const { client, data } = suite;
        const res = await client.do(
          client
            .newRequest('PATCH', previous(prevResponse).relativeLocation())
            .setHeader('Content-Type', 'application/octet-stream')
            .setHeader('Content-Length', data.chunked.chunk1Length)
            .setHeader('Content-Range', data.chunked.chunk1Range)
            .setBody(data.chunked.chunk1),
        );
        expectStatus(res, 416);
      });

      pushSpec('Get on stale blob upload should return 204 with a range and location', async () => {
        const { client, data } = suite;
        const res = await client.do(client.newRequest('GET', previous(prevResponse).relativeLocation()));
        expectStatus(res, 204);
        expectHeader(res, 'Location');
        expectHeaderEqual(res, 'Range', data.chunked.chunk1Range);
        lastResponse = res;
      });

      pushSpec('PATCH request with second chunk should return 202', async () => {
        const { client, data } = suite;
        const res = await client.do(
          client
            .newRequest('PATCH', previous(lastResponse).relativeLocation())
            .setHeader('Content-Length', data.chunked.chunk2Length)
            .setHeader('Content-Range', data.chunked.chunk2Range)
            .setHeader('Content-Type', 'application/octet-stream')
            .setBody(data.chunked.chunk2),
        );
        expectStatus(res, 202);
        expectHeader(res, 'Location');
        lastResponse = res;
      });

      pushSpec('PUT request with digest should return 201', async () => {
        const { client, data } = suite;
        const res = await client.do(
          client
            .newRequest('PUT', previous(lastResponse).relativeLocation())
            .setHeader('Content-Length', '0')
            .setHeader('Content-Type', 'application/octet-stream')
            .setQueryParam('digest', data.chunked.digest),
        );
        expectStatus(res, 201);
        expectHeader(res, 'Location');
      });
    });

    describe('Cross-Repository Blob Mount', () => {
      const mount = async (digest: string, from?: string): Promise<RegistryResponse> => {
        const { client, config } = suite;
        const request = client.newRequest('POST', '/v2/<name>/blobs/uploads/', { name: config.crossmountNamespace }).setQueryParam('mount', digest);
        if (from !== undefined) request.setQueryParam('from', from);
        return client.do(request);
      };

      pushSpec('Cross-mounting of a blob without the from argument should yield session id', async () => {
        const res = await mount(suite.data.dummyDigest);
        expectStatus(res, 202);
        assert.notEqual(res.absoluteLocation(), '', `expected a Location: ${res.describe()}`);
      });

      pushSpec("POST request to mount another repository's blob should return 201 or 202", async () => {
        const res = await mount(suite.data.testBlobADigest, suite.client.defaultName);
        expectStatus(res, 201, 202);
        lastResponse = res;
      });

      pushSpec('GET request to test digest within cross-mount namespace should return 200', async () => {
        const mounted = previous(lastResponse);
        runOnlyIf(mounted.status === 201);
        const { client, config, data } = suite;
        assert.equal(mounted.relativeLocation(), `/v2/${config.crossmountNamespace}/blobs/${data.testBlobADigest}`);
        expectStatus(await client.do(client.newRequest('GET', mounted.relativeLocation())), 200);
      });

      pushSpec('Cross-mounting of nonexistent blob should yield session id', async () => {
        const mounted = previous(lastResponse);
        runOnlyIf(mounted.status === 202);
        const prefix = `/v2/${suite.config.crossmountNamespace}/blobs/uploads/`;
        assert.ok(mounted.relativeLocation().startsWith(prefix), `expected a Location under ${prefix}: ${mounted.describe()} (Location ${mounted.header('Location')})`);
      });

      pushSpec('Cross-mounting without from, and automatic content discovery enabled should return a 201', async () => {
        runOnlyIf(suite.config.runAutomaticCrossmountTest);
        runOnlyIf(previous(lastResponse).status === 201);
        runOnlyIf(suite.config.automaticCrossmountEnabled);
        expectStatus(await mount(suite.data.testBlobADigest), 201);
      });

      pushSpec('Cross-mounting without from, and automatic content discovery disabled should return a 202', async () => {
        runOnlyIf(suite.config.runAutomaticCrossmountTest);
        runOnlyIf(previous(lastResponse).status === 201);
        runOnlyIfNot(suite.config.automaticCrossmountEnabled);
        expectStatus(await mount(suite.data.testBlobADigest), 202);
      });
    });

    describe('Manifest Upload', () => {
      pushSpec('GET nonexistent manifest should return 404', async () => {
        expectStatus(await fetchContent(suite, 'GET', 'manifests', suite.data.nonexistentManifest), 404);
      });

      pushSpec('PUT should accept a manifest upload', async () => {
        for (let i = 0; i < 4; i++) {
          const res = await putManifest(suite, `test${i}`, suite.data.manifests[1]!.content);
          expectHeader(res, 'Location');
          expectStatus(res, 201);
        }
      });

      pushSpec('Registry should accept a manifest upload with no layers', async () => {
        const res = await putManifest(suite, EMPTY_LAYER_TEST_TAG, suite.data.emptyLayerManifestContent);
        if (res.status === 201) {
          emptyLayerManifestRef = expectHeader(res, 'Location');
        } else {
          warn('image manifest with no layers is not supported');
        }
      });

      pushSpec('GET request to manifest URL (digest) should yield 200 response', async () => {
        expectStatus(await fetchContent(suite, 'GET', 'manifests', suite.data.manifests[1]!.digest, OCI_MANIFEST), 200);
      });
    });

    describe('Teardown', () => {
      const teardownSpec = (title: string, body: () => Promise<void>): void =>
        pushSpec(title, async () => {
          runOnlyIf(suite.config.runPushSetup);
          await body();
        });
      const deleteTestManifests = (): void =>
        teardownSpec('Delete manifest created in tests', async () => {
          expectStatus(await deleteManifest(suite, suite.data.manifests[1]!.digest), SUCCESS, 405);
          if (emptyLayerManifestRef !== '') expectStatus(await deleteManifest(suite, suite.data.emptyLayerManifestDigest), SUCCESS, 405);
        });
      if (deleteManifestBeforeBlobs) deleteTestManifests();

      teardownSpec('Delete config blob created in tests', async () => {
        expectStatus(await deleteBlob(suite, suite.data.configs[1]!.digest), SUCCESS, 404, 405);
      });

      teardownSpec('Delete layer blob created in setup', async () => {
        expectStatus(await deleteBlob(suite, suite.data.layerBlobDigest), SUCCESS, 404, 405);
      });

      if (!deleteManifestBeforeBlobs) deleteTestManifests();
    });
  });
}
