// The few OCI distribution calls the image builder makes, over fetch: manifests by tag or digest,
// blob HEAD and GET, cross-repository mounts, uploads (monolithic: POST then PUT ?digest=; chunked:
// PATCH with Content-Range, then PUT ?digest=) and manifest PUTs. Every request goes out with what
// RegistryAuth holds, and once more after a 401 was answered (a first challenge, an expired token);
// request bodies are buffers (a chunk at most) so that a retry sends the same bytes again.
import { createHash } from 'node:crypto';
import { Invalid, Unavailable } from '../../shared/errors.ts';
import type { RegistryAccess } from './build-request.ts';
import { causeOf, RegistryAuth, type Scope } from './registry-auth.ts';
import { errorMessage, registryFailure } from './registry-errors.ts';

export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Every manifest form the builder reads, for GET's Accept. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface FetchedManifest {
  bytes: Buffer;
  /** The Content-Type answered (the JSON's own mediaType decides when they differ). */
  contentType: string;
  /** sha256 of the bytes. */
  digest: string;
}

export type MountOutcome = { mounted: true } | { mounted: false; session: URL };

interface Call {
  method: string;
  url: URL;
  /** What the call is, for errors: "HEAD blob sha256:… in team/web". */
  what: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Statuses returned to the caller; any other is an error. */
  expect: readonly number[];
}

export const sha256Digest = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export class RegistryClient {
  /** `host:port`, as image references name the registry. */
  readonly host: string;
  readonly chunkBytes: number;
  private readonly base: URL;
  private readonly auth: RegistryAuth;
  private readonly timeoutMs: number;

  constructor(access: RegistryAccess, scopes: readonly Scope[]) {
    try {
      this.base = new URL(access.url);
    } catch {
      throw new Invalid(`the registry URL ${access.url} is not a URL`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Invalid(`the registry URL ${access.url} is not http(s)`);
    this.host = this.base.host;
    this.chunkBytes = access.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.timeoutMs = access.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const credentials = access.username !== undefined || access.password !== undefined ? { username: access.username ?? '', password: access.password ?? '' } : undefined;
    this.auth = new RegistryAuth({ credentials, scopes, timeoutMs: this.timeoutMs });
  }

  /** A manifest by tag or digest, or null when the registry knows no such repository or manifest. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest | null> {
    const response = await this.send({
      method: 'GET',
      url: this.url(`/v2/${repository}/manifests/${reference}`),
      what: `GET manifest ${repository}:${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200, 404],
    });
    if (response.status === 404) {
      await drain(response);
      return null;
    }
    const bytes = await readLimited(response, MAX_MANIFEST_BYTES, `the manifest ${repository}:${reference}`);
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) throw new Invalid(`the registry answered a manifest whose digest is ${digest} for ${repository}@${reference}`);
    return { bytes, contentType: response.headers.get('content-type') ?? '', digest };
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    const response = await this.send({ method: 'HEAD', url: this.url(`/v2/${repository}/blobs/${digest}`), what: `HEAD blob ${digest} in ${repository}`, expect: [200, 404] });
    await drain(response);
    return response.status === 200;
  }

  /** A small blob (a config) whole, checked against its digest. */
  async getBlob(repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    const response = await this.send({ method: 'GET', url: this.url(`/v2/${repository}/blobs/${digest}`), what: `GET blob ${digest} in ${repository}`, expect: [200] });
    const bytes = await readLimited(response, maxBytes, `the blob ${digest}`);
    if (sha256Digest(bytes) !== digest) throw new Invalid(`the registry answered other bytes than ${digest} for that blob of ${repository}`);
    return bytes;
  }

  /** A blob's bytes as they arrive (a base layer copied when it cannot be mounted). */
  async *blobStream(repository: string, digest: string): AsyncIterable<Buffer> {
    const response = await this.send({ method: 'GET', url: this.url(`/v2/${repository}/blobs/${digest}`), what: `GET blob ${digest} in ${repository}`, expect: [200] });
    if (!response.body) return;
    for await (const chunk of response.body) yield Buffer.from(chunk);
  }

  /** POST ?mount=&from=: 201 mounted; 202 is an upload session to use instead. */
  async mountBlob(repository: string, digest: string, from: string): Promise<MountOutcome> {
    const url = this.url(`/v2/${repository}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from);
    const response = await this.send({ method: 'POST', url, what: `mount blob ${digest} from ${from} into ${repository}`, expect: [201, 202] });
    await drain(response);
    if (response.status === 201) return { mounted: true };
    return { mounted: false, session: this.location(response, 'mount') };
  }

  /**
   * Uploads a blob of `size` bytes given as chunks (any sizes): one PUT ?digest= with the body when it
   * fits one chunk, else PATCHes of chunkBytes each with their Content-Range and an empty PUT ?digest=.
   */
  async uploadBlob(repository: string, digest: string, size: number, chunks: AsyncIterable<Buffer>, session?: URL): Promise<void> {
    const what = `upload blob ${digest} to ${repository}`;
    let location = session ?? (await this.startUpload(repository));
    let offset = 0;
    let last: Buffer | undefined;
    if (size <= this.chunkBytes) {
      last = await collect(chunks, size, digest);
      offset = last.length;
    } else {
      for await (const chunk of rechunk(chunks, this.chunkBytes)) {
        const response = await this.send({
          method: 'PATCH',
          url: location,
          what,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
          body: chunk,
          expect: [202],
        });
        await drain(response);
        location = this.location(response, 'PATCH');
        offset += chunk.length;
      }
    }
    if (offset !== size) throw new Invalid(`${what}: ${offset} bytes were read, not ${size}`);
    const finish = new URL(location);
    finish.searchParams.set('digest', digest);
    const response = await this.send({
      method: 'PUT',
      url: finish,
      what,
      headers: last ? { 'content-type': 'application/octet-stream' } : {},
      ...(last ? { body: last } : {}),
      expect: [201],
    });
    await drain(response);
    const answered = response.headers.get('docker-content-digest');
    if (answered !== null && answered !== digest) throw new Invalid(`${what}: the registry stored it as ${answered}`);
  }

  /** PUT /v2/<name>/manifests/<reference>; the digest the registry answers (checked to be ours). */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const what = `PUT manifest ${repository}:${reference}`;
    const response = await this.send({ method: 'PUT', url: this.url(`/v2/${repository}/manifests/${reference}`), what, headers: { 'content-type': mediaType }, body: bytes, expect: [201] });
    await drain(response);
    const digest = sha256Digest(bytes);
    const answered = response.headers.get('docker-content-digest');
    if (answered !== null && answered !== digest) throw new Invalid(`${what}: the registry answered digest ${answered}, not ${digest}`);
    return digest;
  }

  private async startUpload(repository: string): Promise<URL> {
    const response = await this.send({ method: 'POST', url: this.url(`/v2/${repository}/blobs/uploads/`), what: `start an upload to ${repository}`, expect: [202] });
    await drain(response);
    return this.location(response, 'POST');
  }

  private url(path: string): URL {
    return new URL(path, this.base);
  }

  private location(response: Response, after: string): URL {
    const location = response.headers.get('location');
    if (!location) throw new Unavailable(`the registry answered ${after} without a Location`);
    return new URL(location, this.base);
  }

  /** One request, answered a 401 at most once; an unexpected status is the registry's refusal. */
  private async send(call: Call): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...call.headers };
      const authorization = this.auth.header();
      if (authorization !== undefined) headers.authorization = authorization;
      let response: Response;
      try {
        response = await fetch(call.url, {
          method: call.method,
          headers,
          ...(call.body ? { body: call.body } : {}),
          redirect: 'follow',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        throw new Unavailable(`${call.what}: the registry at ${this.base.origin} did not answer: ${causeOf(err)}`);
      }
      if (response.status === 401 && attempt === 0) {
        const refused = errorMessage(await response.text()) ?? `${call.what} needs credentials`;
        await this.auth.answer(response.headers.get('www-authenticate'), refused);
        continue;
      }
      if (call.expect.includes(response.status)) return response;
      throw registryFailure(response.status, call.method === 'HEAD' ? '' : await response.text(), call.what);
    }
  }
}

async function drain(response: Response): Promise<void> {
  if (response.body) await response.body.cancel().catch(() => undefined);
}

async function readLimited(response: Response, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new Invalid(`${what} is ${declared} bytes, more than the ${maxBytes} read`);
  const parts: Buffer[] = [];
  let length = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      length += chunk.length;
      if (length > maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw new Invalid(`${what} is more than the ${maxBytes} bytes read`);
      }
      parts.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(parts, length);
}

async function collect(chunks: AsyncIterable<Buffer>, size: number, digest: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    length += chunk.length;
    if (length > size) throw new Invalid(`the blob ${digest} has more than the ${size} bytes expected`);
    parts.push(chunk);
  }
  return Buffer.concat(parts, length);
}

/** The bytes of `chunks` again, in pieces of exactly `size` (the last one shorter). */
export async function* rechunk(chunks: AsyncIterable<Buffer>, size: number): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    let rest = chunk;
    while (length + rest.length >= size) {
      const take = size - length;
      pending.push(rest.subarray(0, take));
      yield Buffer.concat(pending, size);
      rest = rest.subarray(take);
      pending = [];
      length = 0;
    }
    if (rest.length > 0) {
      pending.push(rest);
      length += rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}
