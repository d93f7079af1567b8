// The one client both registries get: node:http with a keep-alive agent, bodies streamed both ways (a
// 1 GiB blob is generated chunk by chunk from a deterministic stream, never held in memory).
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import type { RunningRegistry } from './servers.ts';

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const CHUNK = 1 << 20;

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  bytes: number;
}

interface Call {
  headers?: Record<string, string | number>;
  body?: Buffer | Readable;
  /** Count the response bytes and drop them instead of keeping them (downloads). */
  drain?: boolean;
}

/**
 * One request. A server may close an idle keep-alive socket just as we reuse it (ECONNRESET on a reused
 * socket): requests without a streamed body are retried once, as node's docs advise; a streamed body gets
 * a fresh connection of its own (it cannot be replayed, and one connect per 1 GiB costs nothing).
 */
export async function request(reg: RunningRegistry, method: string, target: string, call: Call = {}): Promise<Answer> {
  try {
    return await attempt(reg, method, target, call);
  } catch (err) {
    const stale = (err as { reusedSocket?: boolean; code?: string }).reusedSocket && (err as { code?: string }).code === 'ECONNRESET';
    if (!stale || call.body instanceof Readable) throw err;
    return attempt(reg, method, target, call);
  }
}

function attempt(reg: RunningRegistry, method: string, target: string, call: Call): Promise<Answer> {
  const url = new URL(target, reg.url);
  const streamed = call.body instanceof Readable;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: streamed ? false : agent, headers: { Authorization: reg.authorization, ...call.headers } }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (!call.drain) chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    if (call.body instanceof Readable) {
      call.body.on('error', (err) => req.destroy(err));
      call.body.pipe(req);
    } else req.end(call.body);
  });
}

function expect(answer: Answer, status: number, what: string): Answer {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${answer.body.toString().slice(0, 300)}`);
  return answer;
}

/** A deterministic, incompressible byte stream: 1 MiB from sha256 in counter mode, each copy numbered. */
function* blobChunks(size: number, seed: number): Generator<Buffer> {
  const base = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK / 32; i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(base, i * 32);
  for (let offset = 0, n = 0; offset < size; offset += CHUNK, n++) {
    const chunk = Buffer.from(base.subarray(0, Math.min(CHUNK, size - offset)));
    chunk.writeUInt32BE(n % 2 ** 32, 0);
    chunk.writeUInt32BE(seed % 2 ** 32, Math.min(4, chunk.length - 4));
    yield chunk;
  }
}

export const blobStream = (size: number, seed: number): Readable => Readable.from(blobChunks(size, seed), { objectMode: false });

export function blobDigest(size: number, seed: number): string {
  const hash = createHash('sha256');
  for (const chunk of blobChunks(size, seed)) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

const withQuery = (location: string, key: string, value: string): string =>
  `${location}${location.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;

/** docker's way: POST a session, one PATCH with the whole stream, PUT ?digest= to finish. */
export async function uploadStreamed(reg: RunningRegistry, repo: string, size: number, seed: number, digest: string): Promise<void> {
  const start = expect(await request(reg, 'POST', `/v2/${repo}/blobs/uploads/`), 202, 'POST upload');
  const patched = expect(
    await request(reg, 'PATCH', String(start.headers.location), {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size },
      body: blobStream(size, seed),
    }),
    202,
    'PATCH upload',
  );
  expect(await request(reg, 'PUT', withQuery(String(patched.headers.location), 'digest', digest), { headers: { 'Content-Length': 0 } }), 201, 'PUT ?digest=');
}

/** One POST ?digest= carrying the whole blob; false when the registry answers 202 (no monolithic POST). */
export async function uploadMonolithic(reg: RunningRegistry, repo: string, size: number, seed: number, digest: string): Promise<boolean> {
  const answer = await request(reg, 'POST', withQuery(`/v2/${repo}/blobs/uploads/`, 'digest', digest), {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size },
    body: blobStream(size, seed),
  });
  if (answer.status === 202) return false;
  expect(answer, 201, 'POST ?digest=');
  return true;
}

export async function download(reg: RunningRegistry, repo: string, digest: string): Promise<number> {
  const answer = expect(await request(reg, 'GET', `/v2/${repo}/blobs/${digest}`, { drain: true }), 200, 'GET blob');
  return answer.bytes;
}

async function putSmallBlob(reg: RunningRegistry, repo: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const start = expect(await request(reg, 'POST', `/v2/${repo}/blobs/uploads/`), 202, 'POST upload');
  expect(
    await request(reg, 'PUT', withQuery(String(start.headers.location), 'digest', digest), {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length },
      body: data,
    }),
    201,
    'PUT blob',
  );
  return { digest, size: data.length };
}

/** Pushes a config + 3 small layers + an OCI manifest tagged `tag`; distinct content for each seed. */
export async function pushImage(reg: RunningRegistry, repo: string, tag: string, seed: number): Promise<{ layers: string[] }> {
  const layers = [];
  for (let i = 0; i < 3; i++) {
    const data = Buffer.concat([...blobChunks(4096 * (i + 1), seed * 10 + i + 1)]);
    layers.push({ mediaType: OCI_LAYER, ...(await putSmallBlob(reg, repo, data)) });
  }
  const configJson = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, seed };
  const config = { mediaType: OCI_CONFIG, ...(await putSmallBlob(reg, repo, Buffer.from(JSON.stringify(configJson)))) };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  expect(
    await request(reg, 'PUT', `/v2/${repo}/manifests/${tag}`, { headers: { 'Content-Type': OCI_MANIFEST, 'Content-Length': manifest.length }, body: manifest }),
    201,
    'PUT manifest',
  );
  return { layers: layers.map((l) => l.digest) };
}
