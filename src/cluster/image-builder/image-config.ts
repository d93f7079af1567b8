// The new image's config, pure: the base's config with the step's changes (entrypoint, cmd, env,
// workdir, labels), `created` and a history entry at SOURCE_DATE_EPOCH, and the new layer's diff_id
// appended to rootfs. Written as canonical JSON (keys sorted at every depth, no spaces), so the bytes,
// and so the digest, depend on the inputs only, never on the order a map was filled in.
import { Invalid } from '../../shared/errors.ts';
import { rfc3339 } from './build-request.ts';

export const REVISION_LABEL = 'org.opencontainers.image.revision';
export const SOURCE_LABEL = 'org.opencontainers.image.source';

export interface ConfigChanges {
  entrypoint?: readonly string[];
  cmd?: readonly string[];
  env?: Readonly<Record<string, string>>;
  workdir?: string;
  labels?: Readonly<Record<string, string>>;
  revision?: string;
  source?: string;
  /** Seconds: `created` and the history entry's time. */
  sourceDateEpoch: number;
  /** The history entry's created_by. */
  createdBy: string;
  /** The new layer's uncompressed digest. */
  diffId: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The new config's bytes. `baseLayers` is how many layers the base manifest lists (checked against diff_ids). */
export function imageConfig(base: unknown, baseLayers: number, changes: ConfigChanges): Buffer {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new Invalid('the base image\'s config is not a JSON object');
  const config = structuredClone(base) as Record<string, Json>;
  const rootfs = config.rootfs as { type?: Json; diff_ids?: Json } | undefined;
  const diffIds = rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== baseLayers || !diffIds.every((id) => typeof id === 'string')) {
    throw new Invalid(`the base image's config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids for its ${baseLayers} layers`);
  }
  const created = rfc3339(changes.sourceDateEpoch);
  config.created = created;
  config.rootfs = { type: 'layers', diff_ids: [...diffIds, changes.diffId] };
  const history = Array.isArray(config.history) ? config.history : [];
  config.history = [...history, { created, created_by: changes.createdBy, comment: 'gantry image builder' }];

  const runtime = (typeof config.config === 'object' && config.config !== null && !Array.isArray(config.config) ? config.config : {}) as Record<string, Json>;
  if (changes.entrypoint !== undefined) {
    runtime.Entrypoint = [...changes.entrypoint];
    // As a Dockerfile's ENTRYPOINT does: the base's Cmd were arguments for the base's entrypoint.
    if (changes.cmd === undefined) delete runtime.Cmd;
  }
  if (changes.cmd !== undefined) runtime.Cmd = [...changes.cmd];
  if (changes.env !== undefined) runtime.Env = mergeEnv(runtime.Env, changes.env);
  if (changes.workdir !== undefined) runtime.WorkingDir = changes.workdir;
  const labels: Record<string, string> = { ...stringMap(runtime.Labels), ...changes.labels };
  if (changes.revision !== undefined) labels[REVISION_LABEL] = changes.revision;
  if (changes.source !== undefined) labels[SOURCE_LABEL] = changes.source;
  if (Object.keys(labels).length > 0) runtime.Labels = labels;
  config.config = runtime;
  return Buffer.from(canonicalJson(config));
}

/** The base's `K=V` list with each changed variable replaced in place, then the new ones by name. */
export function mergeEnv(base: Json | undefined, changes: Readonly<Record<string, string>>): string[] {
  const list = Array.isArray(base) ? base.filter((v): v is string => typeof v === 'string') : [];
  const pending = new Map(Object.entries(changes));
  const merged = list.map((entry) => {
    const name = entry.includes('=') ? entry.slice(0, entry.indexOf('=')) : entry;
    const value = pending.get(name);
    if (value === undefined) return entry;
    pending.delete(name);
    return `${name}=${value}`;
  });
  const added = [...pending].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return [...merged, ...added.map(([name, value]) => `${name}=${value}`)];
}

function stringMap(value: Json | undefined): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/**
 * JSON with every object's keys in byte order and no whitespace. Written by hand: JSON.stringify
 * follows property order, which puts integer-like keys ("10", "2") first whatever the insertion order.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
