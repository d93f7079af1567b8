// What a build step asks the image builder for (files onto a base image of the bundled registry, with
// a few config changes), and its validation before anything is read or pushed: repository names and
// tags as the OCI distribution spec spells them, the epoch as tar and RFC 3339 can hold it, absolute
// image paths. The request is plain data so the step compiler can build it from YAML.
import { Invalid } from '../../shared/errors.ts';

export interface RegistryAccess {
  /** The registry's base URL, `http://127.0.0.1:5000` (https too). */
  url: string;
  /** Basic credentials (a registry user, a robot, an admin token as password), used as is or for a token. */
  username?: string;
  password?: string;
  /** Blobs larger than this go up in chunks of this size (PATCH with Content-Range); default 16 MiB. */
  chunkBytes?: number;
  /** Each HTTP request's time limit; default 5 minutes. */
  requestTimeoutMs?: number;
}

export interface FileCopy {
  /** A path relative to the workspace (`dist/`, `bin/server`): a directory's contents, or one file. */
  src: string;
  /** Where in the image, absolute (`/app`; a file into `/app/` keeps its name). */
  dest: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageBuildRequest {
  registry: RegistryAccess;
  /** The base image in that registry: `team/base:1`, `team/base@sha256:…`, optionally `host:port/` first. */
  from: string;
  /** The repository to push to, `team/web`. */
  image: string;
  /** Tags to put the manifest under; none pushes it by digest only. */
  tags: readonly string[];
  /** The directory no source may leave (the CI run's workspace), absolute. */
  root: string;
  files: readonly FileCopy[];
  entrypoint?: readonly string[];
  /** Without it, a new entrypoint clears the base's Cmd (as a Dockerfile's ENTRYPOINT does). */
  cmd?: readonly string[];
  env?: Readonly<Record<string, string>>;
  workdir?: string;
  labels?: Readonly<Record<string, string>>;
  /** SOURCE_DATE_EPOCH: every mtime in the layer, and the config's `created`. Seconds, integer. */
  sourceDateEpoch: number;
  /** The `org.opencontainers.image.revision` label (the commit). */
  revision?: string;
  /** The `org.opencontainers.image.source` label (the repository's URL). */
  source?: string;
  /** Which image of a multi-platform base (an index); default linux/amd64. */
  platform?: Platform;
  /** Where the layer is written before it is pushed (a directory of its own is made there); default os.tmpdir(). */
  scratchDir?: string;
  /** Progress lines for the step's log. */
  progress?: (line: string) => void;
}

export interface ImageBuildResult {
  /** The manifest's digest. */
  digest: string;
  /** `host:port/repository@digest`, what a deploy step runs. */
  image: string;
  /** Blobs uploaded (the new layer and config, base layers the registry could not mount). */
  pushedBlobs: number;
  /** Base layers linked into the target repository by a cross-repository mount. */
  mountedBlobs: number;
  /** Blobs the target repository already had (HEAD). */
  skippedBlobs: number;
}

export interface ImageReference {
  repository: string;
  /** A tag or a digest. */
  reference: string;
  kind: 'tag' | 'digest';
}

// The OCI distribution spec's grammar.
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ENV_NAME = /^[^=\0]+$/;
/** The largest mtime a ustar header's 11 octal digits hold (year 2242). */
const MAX_EPOCH = 8 ** 11 - 1;

export function isRepositoryName(name: string): boolean {
  return name.length <= 255 && NAME.test(name);
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * `team/base:1`, `team/base@sha256:…` or `team/base` (tag latest), with the registry's own `host:port/`
 * allowed in front; another host is refused: the builder reads only the bundled registry.
 */
export function parseImageReference(ref: string, registryHost: string, what: string): ImageReference {
  let rest = ref;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (first.includes('.') || first.includes(':') || first === 'localhost') {
    if (first.toLowerCase() !== registryHost.toLowerCase()) throw new Invalid(`${what} ${ref} names the registry ${first}, not ${registryHost}`);
    rest = rest.slice(slash + 1);
  }
  const at = rest.indexOf('@');
  if (at >= 0) {
    const repository = rest.slice(0, at);
    const digest = rest.slice(at + 1);
    if (!isRepositoryName(repository) || !DIGEST.test(digest)) throw new Invalid(`${what} ${ref} is not a valid image reference`);
    return { repository, reference: digest, kind: 'digest' };
  }
  const colon = rest.lastIndexOf(':');
  const repository = colon > rest.lastIndexOf('/') ? rest.slice(0, colon) : rest;
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : 'latest';
  if (!isRepositoryName(repository) || !isTag(tag)) throw new Invalid(`${what} ${ref} is not a valid image reference`);
  return { repository, reference: tag, kind: 'tag' };
}

/** Checks what parsing the references does not: tags, epoch, config changes. Throws Invalid. */
export function checkRequest(request: ImageBuildRequest): void {
  if (!isRepositoryName(request.image)) throw new Invalid(`image ${request.image} is not a valid repository name (lower case, a/b/c)`);
  for (const tag of request.tags) if (!isTag(tag)) throw new Invalid(`tag ${JSON.stringify(tag)} is not a valid tag`);
  const epoch = request.sourceDateEpoch;
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) {
    throw new Invalid(`the source date epoch ${epoch} is not a whole number of seconds between 0 and ${MAX_EPOCH}`);
  }
  if (request.files.length === 0) throw new Invalid('files: name at least one {src, dest}');
  for (const [name, value] of Object.entries(request.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new Invalid(`env: ${JSON.stringify(name)} is not a variable name`);
    if (typeof value !== 'string') throw new Invalid(`env: ${name} must be a string (quote it in YAML)`);
  }
  for (const [name, value] of Object.entries(request.labels ?? {})) {
    if (typeof value !== 'string') throw new Invalid(`labels: ${name} must be a string (quote it in YAML)`);
  }
  for (const [field, list] of [['entrypoint', request.entrypoint], ['cmd', request.cmd]] as const) {
    if (list !== undefined && (!Array.isArray(list) || !list.every((item) => typeof item === 'string'))) throw new Invalid(`${field} must be a list of strings`);
  }
  if (request.workdir !== undefined && !request.workdir.startsWith('/')) throw new Invalid(`workdir ${request.workdir} is not an absolute path`);
  const chunk = request.registry.chunkBytes;
  if (chunk !== undefined && (!Number.isSafeInteger(chunk) || chunk < 1024)) throw new Invalid(`chunkBytes ${chunk} is below 1024`);
}

/** RFC 3339 in UTC without fractions, as `created` is usually written: 2024-05-06T07:08:09Z. */
export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
