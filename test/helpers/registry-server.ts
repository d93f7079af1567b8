// A real `gantry server` for the registry's integration tests (no local agent), and a small OCI client
// that pushes over the registry's HTTP API with the admin token, as `docker push` would.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, startGantry, type Started } from './processes.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface RegistryServer {
  server: Started & { match: RegExpMatchArray };
  /** The registry's URL (http://127.0.0.1:PORT). */
  registry: string;
  /** The platform API's URL. */
  apiUrl: string;
  /** GANTRY_URL and GANTRY_TOKEN for `gantry` commands. */
  env: Record<string, string>;
  /** Basic credentials with the admin token, for the registry's API. */
  basic: { authorization: string };
}

export async function startRegistryServer(dir: string): Promise<RegistryServer> {
  const server = await startGantry(
    ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
    { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
    /Registry listening on http:\/\/(\S+)/,
  );
  const apiUrl = /listening on (http:\/\/\S+)/.exec(server.output())![1]!;
  return {
    server,
    registry: `http://${server.match[1]!}`,
    apiUrl,
    env: { GANTRY_URL: apiUrl, GANTRY_TOKEN: ADMIN_TOKEN },
    basic: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
  };
}

/** Pushes over the OCI API of `registry` with `basic` credentials. */
export function ociClient(registry: string, basic: { authorization: string }) {
  const postBlob = (repo: string, bytes: Buffer) =>
    fetch(`${registry}/v2/${repo}/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', headers: { ...basic, 'content-type': 'application/octet-stream' }, body: bytes });
  const manifestOf = (config: Buffer, layers: readonly Buffer[]) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
      }),
    );
  const putManifest = (repo: string, reference: string, manifest: Buffer) =>
    fetch(`${registry}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { ...basic, 'content-type': OCI_MANIFEST }, body: manifest });
  return {
    /** POST ?digest= (the answer as is: quota tests look at refusals). */
    postBlob,
    manifestOf,
    putManifest,
    /** A blob that must be accepted. */
    async pushBlob(repo: string, bytes: Buffer): Promise<string> {
      const res = await postBlob(repo, bytes);
      assert.equal(res.status, 201, await res.text());
      return sha256(bytes);
    },
    /**
     * An image (its own config, and one random layer of `layerBytes` unless `layers` are given) pushed
     * under each of `tags` in order, a few milliseconds apart; its manifest's digest.
     */
    async pushImage(repo: string, tags: readonly string[], options: { config?: Buffer; layers?: Buffer[]; layerBytes?: number } = {}): Promise<string> {
      const config = options.config ?? Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(8).toString('hex') }));
      const layers = options.layers ?? [randomBytes(options.layerBytes ?? 2048)];
      for (const blob of [config, ...layers]) await this.pushBlob(repo, blob);
      const manifest = manifestOf(config, layers);
      for (const tag of tags) {
        const res = await putManifest(repo, tag, manifest);
        assert.equal(res.status, 201, await res.text());
        await new Promise((r) => setTimeout(r, 5)); // distinct push times
      }
      return sha256(manifest);
    },
  };
}
