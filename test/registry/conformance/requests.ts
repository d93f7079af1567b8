// Requests the workflows repeat, written as the Go suite sends them.
import type { RegistryResponse } from './client.ts';
import { OCI_MANIFEST } from './fixtures.ts';
import type { ConformanceSuite } from './suite.ts';

export interface BlobToPush {
  digest: string;
  content: Buffer;
}

/** POST /v2/<name>/blobs/uploads/, then PUT the whole blob to the session's Location with ?digest=. */
export async function pushBlobPostPut(suite: ConformanceSuite, blob: BlobToPush): Promise<RegistryResponse> {
  const { client } = suite;
  const session = await client.do(client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
  return client.do(
    client
      .newRequest('PUT', session.relativeLocation())
      .setQueryParam('digest', blob.digest)
      .setHeader('Content-Type', 'application/octet-stream')
      .setHeader('Content-Length', String(blob.content.length))
      .setBody(blob.content),
  );
}

/** PUT /v2/<name>/manifests/<reference> */
export async function putManifest(suite: ConformanceSuite, reference: string, content: Buffer, contentType = OCI_MANIFEST): Promise<RegistryResponse> {
  const { client } = suite;
  return client.do(client.newRequest('PUT', '/v2/<name>/manifests/<reference>', { reference }).setHeader('Content-Type', contentType).setBody(content));
}

/** DELETE /v2/<name>/manifests/<reference> (a digest or a tag). */
export async function deleteManifest(suite: ConformanceSuite, reference: string): Promise<RegistryResponse> {
  const { client } = suite;
  return client.do(client.newRequest('DELETE', '/v2/<name>/manifests/<reference>', { reference }));
}

/** DELETE /v2/<name>/blobs/<digest> */
export async function deleteBlob(suite: ConformanceSuite, digest: string): Promise<RegistryResponse> {
  const { client } = suite;
  return client.do(client.newRequest('DELETE', '/v2/<name>/blobs/<digest>', { digest }));
}

/** A GET or HEAD of a blob or a manifest, by digest or reference. */
export async function fetchContent(
  suite: ConformanceSuite,
  method: 'GET' | 'HEAD',
  kind: 'blobs' | 'manifests',
  reference: string,
  accept?: string,
): Promise<RegistryResponse> {
  const { client } = suite;
  const request = client.newRequest(method, `/v2/<name>/${kind}/<reference>`, { reference });
  if (accept !== undefined) request.setHeader('Accept', accept);
  return client.do(request);
}
