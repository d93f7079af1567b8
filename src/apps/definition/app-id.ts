// App and group ids as Marathon writes them: paths of segments, `/prod/web`, read against a base group
// when relative (`web`, `../db`), so that a group's apps can name each other briefly. The rules are
// Marathon's (mesosphere/marathon src/main/scala/mesosphere/marathon/state/PathId.scala: the segment
// pattern, `canonicalPath`, the reserved last segments, `childOf`), so every id Marathon took loads here.

/**
 * One segment: lowercase letters, digits and hyphens in dot-separated parts, each part starting and
 * ending with a letter or digit (PathId.ID_PATH_SEGMENT_PATTERN). `.` and `..` are relative steps.
 */
const SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;

/** Marathon refuses these as an id's last segment: they are sub-resources of /v2/apps/ID/... (PathId.reservedKeywords). */
const RESERVED_LAST = new Set(['restart', 'tasks', 'versions', '.', '..']);

/**
 * Marathon sets no limit. Ours keeps the task owner `app:ID:INSTANCE` within the pool's 200 characters
 * (cluster/task-spec.ts) with room for an instance id, as batch does for job names.
 */
export const MAX_APP_ID_LENGTH = 150;

export const ROOT_ID = '/';

/** The segments of a written id, empty ones dropped as Marathon does (`/a//b/` is `/a/b`). */
function segmentsOf(written: string): string[] {
  return written.split('/').filter((segment) => segment !== '');
}

function joined(segments: readonly string[]): string {
  return `/${segments.join('/')}`;
}

/**
 * The absolute id `written` names, read against `base` (an absolute group id) when it does not start
 * with `/`; `.` stays, `..` goes up one group and never above the root (PathId.canonicalPath).
 */
export function absoluteId(written: string, base: string = ROOT_ID): string {
  const steps = written.startsWith('/') ? segmentsOf(written) : [...segmentsOf(base), ...segmentsOf(written)];
  const result: string[] = [];
  for (const step of steps) {
    if (step === '..') result.pop();
    else if (step !== '.') result.push(step);
  }
  return joined(result);
}

/** What is wrong with the segments of a written id, or null. */
function segmentProblem(written: string): string | null {
  const bad = segmentsOf(written).find((segment) => segment !== '.' && segment !== '..' && !SEGMENT.test(segment));
  if (bad === undefined) return null;
  return (
    `"${bad}" is not a valid id segment: lowercase letters, digits, "-" and "." only, ` +
    'each dot-separated part starting and ending with a letter or digit'
  );
}

/**
 * An app's id: resolved against `base`, or what is wrong with it. An app is never the root, does not
 * end in a reserved word, and fits the owner format's length.
 */
export function resolveAppId(written: string, base: string = ROOT_ID): { id: string } | { problem: string } {
  const problem = segmentProblem(written);
  if (problem !== null) return { problem };
  const last = segmentsOf(written).at(-1);
  if (last !== undefined && RESERVED_LAST.has(last)) {
    return { problem: `must not end with any of the following reserved keywords: ${[...RESERVED_LAST].join(', ')}` };
  }
  const id = absoluteId(written, base);
  if (id === ROOT_ID) return { problem: 'an app id names the app: it cannot be the root group "/"' };
  if (id.length > MAX_APP_ID_LENGTH) return { problem: `an app id has at most ${MAX_APP_ID_LENGTH} characters (got ${id.length})` };
  return { id };
}

/** A group's id (the root included): resolved against `base`, or what is wrong with it. */
export function resolveGroupId(written: string, base: string = ROOT_ID): { id: string } | { problem: string } {
  const problem = segmentProblem(written);
  if (problem !== null) return { problem };
  return { id: absoluteId(written, base) };
}

/** A reference to another app or group (`dependencies`): resolved against `base`, or what is wrong with it. */
export function resolveReference(written: string, base: string = ROOT_ID): { id: string } | { problem: string } {
  if (written === '') return { problem: 'a dependency names an app or a group' };
  return resolveGroupId(written, base);
}

/** The group an absolute id sits in: `/prod/web` → `/prod`, `/web` → `/`. */
export function parentId(id: string): string {
  return joined(segmentsOf(id).slice(0, -1));
}

/** Whether `id` is `group` or lies anywhere below it (`/prod/db/x` is within `/prod`; `/production` is not). */
export function isWithin(id: string, group: string): boolean {
  return group === ROOT_ID || id === group || id.startsWith(`${group}/`);
}
