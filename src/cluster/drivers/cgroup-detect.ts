// Where the cgroup controllers live on this host, read from /proc/self/mountinfo and /proc/self/cgroup.
// Pure parsing (tested with tables); cgroups.ts does the file system work.
//
// A host has cgroup v1 (one hierarchy per controller or group of controllers, e.g.
// /sys/fs/cgroup/memory), cgroup v2 (one unified hierarchy, usually /sys/fs/cgroup), or both ("hybrid":
// v1 hierarchies plus a v2 one at /sys/fs/cgroup/unified). A controller bound to a v1 hierarchy cannot
// be used on v2, so each controller is looked up on v1 first, then on v2.

export type CgroupVersion = 1 | 2;

export interface CgroupMount {
  version: CgroupVersion;
  /** Where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory. */
  mountPoint: string;
  /** The cgroup path the mount shows as its root (not "/" inside containers). */
  root: string;
  /** v1: the controllers bound to this hierarchy (from the super options); v2: empty. */
  controllers: string[];
  /** Mounted with `favordynmods` (cgroup-favordynmods.ts): moving a process into a cgroup is fast. */
  favorDynmods: boolean;
}

/** Super options of a v1 mount that are flags, not controllers. */
const V1_FLAG_OPTIONS = new Set(['rw', 'ro', 'noprefix', 'xattr', 'clone_children', 'cpuset_v2_mode', 'favordynmods', 'nofavordynmods', 'none']);

/** The lines of /proc/self/cgroup: v1 hierarchies by controller, and the v2 path (hierarchy 0). */
export interface ProcessCgroups {
  v1: Map<string, string>;
  v2: string | null;
}

/** A controller's home: the hierarchy and the directory of the agent's own cgroup in it. */
export interface ControllerLocation {
  version: CgroupVersion;
  mountPoint: string;
  /** The agent's cgroup path inside the hierarchy, relative to the mount ("/process_api/abc"). */
  ownPath: string;
}

/** Undoes the octal escapes mountinfo uses for spaces and friends (\040). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountInfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const before = line.slice(0, dash).split(' ');
    const after = line.slice(dash + 3).split(' ');
    const [fsType, , superOptions = ''] = after;
    const root = before[3];
    const mountPoint = before[4];
    if (root === undefined || mountPoint === undefined) continue;
    const options = superOptions.split(',');
    const favorDynmods = options.includes('favordynmods');
    if (fsType === 'cgroup2') {
      mounts.push({ version: 2, mountPoint: unescapeMountField(mountPoint), root: unescapeMountField(root), controllers: [], favorDynmods });
    } else if (fsType === 'cgroup') {
      const controllers = options.filter((o) => !V1_FLAG_OPTIONS.has(o) && !o.includes('='));
      for (const o of options) if (o.startsWith('name=')) controllers.push(o);
      mounts.push({ version: 1, mountPoint: unescapeMountField(mountPoint), root: unescapeMountField(root), controllers, favorDynmods });
    }
  }
  return mounts;
}

export function parseProcCgroup(text: string): ProcessCgroups {
  const v1 = new Map<string, string>();
  let v2: string | null = null;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const cgroupPath = line.slice(second + 1);
    if (id === '0' && controllers === '') v2 = cgroupPath;
    else for (const c of controllers.split(',')) if (c) v1.set(c, cgroupPath);
  }
  return { v1, v2 };
}

/** The cgroup path as seen inside a mount whose root is `root` (containers mount a sub-tree). */
function relativeToMount(cgroupPath: string, root: string): string {
  if (root === '/' || root === '') return cgroupPath;
  if (cgroupPath === root) return '/';
  if (cgroupPath.startsWith(root + '/')) return cgroupPath.slice(root.length);
  return cgroupPath; // a namespaced /proc/self/cgroup already shows paths relative to the mount
}

/**
 * Where `controller` (e.g. "memory", "cpu") can be used: its v1 hierarchy if it has one, else the v2
 * hierarchy when `v2Controllers` (the agent cgroup's cgroup.controllers, read by the caller) lists it.
 * Returns a reason string when neither works.
 */
export function locateController(
  controller: string,
  mounts: readonly CgroupMount[],
  self: ProcessCgroups,
  v2Controllers: readonly string[] | null,
): ControllerLocation | string {
  const v1 = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
  if (v1) {
    const own = self.v1.get(controller);
    if (own === undefined) return `the ${controller} hierarchy at ${v1.mountPoint} is not in /proc/self/cgroup`;
    return { version: 1, mountPoint: v1.mountPoint, ownPath: relativeToMount(own, v1.root) };
  }
  const v2 = mounts.find((m) => m.version === 2);
  if (v2 && self.v2 !== null) {
    if (v2Controllers && v2Controllers.includes(controller)) {
      return { version: 2, mountPoint: v2.mountPoint, ownPath: relativeToMount(self.v2, v2.root) };
    }
    return `the ${controller} controller is not available in the cgroup v2 hierarchy at ${v2.mountPoint}`;
  }
  return `no cgroup hierarchy has the ${controller} controller`;
}

/** The v2 mount and the agent's path in it, if the host has a unified hierarchy. */
export function unifiedHierarchy(mounts: readonly CgroupMount[], self: ProcessCgroups): ControllerLocation | null {
  const v2 = mounts.find((m) => m.version === 2);
  if (!v2 || self.v2 === null) return null;
  return { version: 2, mountPoint: v2.mountPoint, ownPath: relativeToMount(self.v2, v2.root) };
}
