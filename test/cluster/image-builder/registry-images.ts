// Test helpers for the image builder against a real registry: base images pushed over the OCI API (in
// OCI or Docker media types, or as a two-platform index), manifests and blobs read back, and a Basic
// auth gateway in front of the registry (as an nginx with auth_basic would be) for registries that
// challenge with Basic rather than the token flow.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const TYPES = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
};

export interface Registry {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Authorization header value for pushing (admin). */
  authorization: string;
}

export async function pushBlob(registry: Registry, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const res = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { authorization: registry.authorization, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

export async function putManifest(registry: Registry, repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { authorization: registry.authorization, 'content-type': mediaType }, body: bytes });
  assert.equal(res.status, 201, await res.text());
  return sha256(bytes);
}

export interface PushedBase {
  /** The image manifest's digest. */
  digest: string;
  layers: string[];
  config: Record<string, unknown>;
}

/** An image of the given uncompressed layer tars, tagged `tags`, its config holding `config`. */
export async function pushBaseImage(
  registry: Registry,
  repo: string,
  tags: readonly string[],
  options: { format: 'oci' | 'docker'; tars: Buffer[]; config?: Record<string, unknown>; architecture?: string },
): Promise<PushedBase> {
  const types = TYPES[options.format];
  const gzipped = options.tars.map((t) => gzipSync(t));
  const config = {
    architecture: options.architecture ?? 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    ...options.config,
    rootfs: { type: 'layers', diff_ids: options.tars.map(sha256) },
    history: options.tars.map((_, i) => ({ created: '2020-01-01T00:00:00Z', created_by: `base layer ${i}` })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  for (const blob of [configBytes, ...gzipped]) await pushBlob(registry, repo, blob);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: sha256(configBytes), size: configBytes.length },
      layers: gzipped.map((l) => ({ mediaType: types.layer, digest: sha256(l), size: l.length })),
    }),
  );
  const digest = sha256(manifest);
  for (const reference of tags.length > 0 ? tags : [digest]) await putManifest(registry, repo, reference, manifest, types.manifest);
  return { digest, layers: gzipped.map(sha256), config };
}

/** An OCI index of an amd64 and an arm64 image, tagged `tag`; the two images. */
export async function pushBaseIndex(registry: Registry, repo: string, tag: string, amd64: Buffer[], arm64: Buffer[]): Promise<{ amd64: PushedBase; arm64: PushedBase }> {
  const a = await pushBaseImage(registry, repo, [], { format: 'oci', tars: amd64, architecture: 'amd64' });
  const b = await pushBaseImage(registry, repo, [], { format: 'oci', tars: arm64, architecture: 'arm64' });
  const sizeOf = async (digest: string) => (await getManifest(registry, repo, digest)).bytes.length;
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: TYPES.oci.manifest, digest: b.digest, size: await sizeOf(b.digest), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: TYPES.oci.manifest, digest: a.digest, size: await sizeOf(a.digest), platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }),
  );
  await putManifest(registry, repo, tag, index, 'application/vnd.oci.image.index.v1+json');
  return { amd64: a, arm64: b };
}

export async function getManifest(registry: Registry, repo: string, reference: string): Promise<{ bytes: Buffer; json: any; contentType: string }> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, {
    headers: { authorization: registry.authorization, accept: Object.values(TYPES).map((t) => t.manifest).concat('application/vnd.oci.image.index.v1+json').join(', ') },
  });
  assert.equal(res.status, 200, `GET manifest ${repo}:${reference}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { bytes, json: JSON.parse(bytes.toString()), contentType: res.headers.get('content-type') ?? '' };
}

export async function getBlob(registry: Registry, repo: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, { headers: { authorization: registry.authorization } });
  assert.equal(res.status, 200, `GET blob ${digest} of ${repo}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The tags of a repository, or null when the registry knows no such repository. */
export async function listTags(registry: Registry, repo: string): Promise<string[] | null> {
  const res = await fetch(`${registry.url}/v2/${repo}/tags/list`, { headers: { authorization: registry.authorization } });
  if (res.status === 404) return null;
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

export interface Gateway {
  url: string;
  /** Requests seen, by method, and how many carried no or wrong credentials (answered 401). */
  seen: { requests: number; challenged: number; methods: Record<string, number> };
  close(): Promise<void>;
}

/**
 * A reverse proxy that asks for Basic credentials (`WWW-Authenticate: Basic`) and passes what it lets
 * through to the registry with `upstreamAuthorization`, rewriting nothing else (Locations are paths);
 * with `ignoreMounts`, a registry that does not mount across repositories.
 */
export async function startBasicGateway(
  upstream: string,
  username: string,
  password: string,
  upstreamAuthorization: string,
  options: { ignoreMounts?: boolean } = {},
): Promise<Gateway> {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const seen = { requests: 0, challenged: 0, methods: {} as Record<string, number> };
  const server = http.createServer((req, res) => {
    seen.requests++;
    seen.methods[req.method ?? ''] = (seen.methods[req.method ?? ''] ?? 0) + 1;
    if (req.headers.authorization !== expected) {
      seen.challenged++;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="gantry gateway"', 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'gateway: credentials required' }] }));
      return;
    }
    const target = new URL(req.url ?? '/', upstream);
    if (options.ignoreMounts) {
      // As registries without cross-repository mounts do: the POST opens a plain upload session.
      target.searchParams.delete('mount');
      target.searchParams.delete('from');
    }
    const headers = { ...req.headers, authorization: upstreamAuthorization, host: target.host };
    const forward = http.request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
