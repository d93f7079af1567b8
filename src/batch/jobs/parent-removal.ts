// What deleting a job does to the jobs that run after it, following Chronos
// (mesos/chronos JobManagementResource.delete, then JobScheduler.deregisterJob):
//   - the deleted job was itself dependent: each child takes the deleted job's parents in its place
//     (`newParents = child.parents - deleted ++ deleted.parents`), so the chain stays connected;
//   - the deleted job was scheduled: a child with no other parent becomes a scheduled job on the deleted
//     job's schedule (and zone), so it keeps running at the times it used to.
// One deliberate difference: Chronos turns every child of a deleted scheduled job into a scheduled job,
// dropping the child's other parents without a word. A child that still has other parents here keeps
// them and only loses the deleted one, which is what deregisterJob does to multi-parent children.
// Nothing is orphaned and every change is returned, for the caller to store and report.
import { parseJobDefinition, type JobDefinition, type JobSource, type ParseOptions } from './definition.ts';

export interface ChildChange {
  name: string;
  /** `reparented`: its parents changed; `scheduled`: it became a scheduled job. */
  change: 'reparented' | 'scheduled';
  /** One sentence for the API answer and the log. */
  summary: string;
  /** The child's new definition (its `source` is what to store). */
  definition: JobDefinition;
}

export interface ParentRemoval {
  removed: string;
  children: ChildChange[];
}

interface GraphReader {
  get(name: string): JobDefinition | undefined;
  children(name: string): string[];
}

/** The changes deleting `removed` makes to its children; changes nothing itself. */
export function planParentRemoval(graph: GraphReader, removed: JobDefinition): ParentRemoval {
  const children = graph.children(removed.name).map((name): ChildChange => {
    const child = graph.get(name)!;
    if (child.timing.kind !== 'dependent') throw new Error(`job "${name}" is a child of "${removed.name}" but has no parents`);
    const before = child.timing.parents;
    const after = replaceParent(before, removed.name, removed.timing.kind === 'dependent' ? removed.timing.parents : []);
    if (after.length > 0) {
      return {
        name,
        change: 'reparented',
        summary: `"${name}" now runs after ${quoteList(after)} (was ${quoteList(before)})`,
        definition: parseJobDefinition({ ...child.source, parents: after }, definedAtOf(child)),
      };
    }
    const timing = scheduleFields(removed.source);
    return {
      name,
      change: 'scheduled',
      summary: `"${name}" had no other parent and now runs on "${removed.name}"'s ${timing.describe}`,
      // An empty ISO start (`R//PT1H`) now counts from the child's own definition time: the one its
      // stored definition is read back with.
      definition: parseJobDefinition(withSchedule(child.source, timing.fields), definedAtOf(child)),
    };
  });
  return { removed: removed.name, children };
}

function definedAtOf(job: JobDefinition): ParseOptions {
  return job.definedAt === null ? {} : { definedAt: job.definedAt };
}

/** `parents` with `removed` replaced, in its place, by `replacements` not already there. */
function replaceParent(parents: readonly string[], removed: string, replacements: readonly string[]): string[] {
  const result: string[] = [];
  for (const parent of parents) {
    const next = parent === removed ? replacements : [parent];
    for (const name of next) if (!result.includes(name)) result.push(name);
  }
  return result;
}

/** The schedule fields of a scheduled job's definition, exactly as written (never re-rendered). */
function scheduleFields(source: JobSource): { fields: JobSource; describe: string } {
  const zone = typeof source.scheduleTimeZone === 'string' && source.scheduleTimeZone !== '' ? source.scheduleTimeZone : undefined;
  const inZone = zone === undefined ? '' : ` in ${zone}`;
  const fields: JobSource = zone === undefined ? {} : { scheduleTimeZone: zone };
  if (typeof source.schedule === 'string') {
    return { fields: { ...fields, schedule: source.schedule }, describe: `schedule "${source.schedule}"${inZone}` };
  }
  return { fields: { ...fields, cron: source.cron }, describe: `cron "${String(source.cron)}"${inZone}` };
}

function withSchedule(source: JobSource, fields: JobSource): JobSource {
  const { parents: _parents, schedule: _schedule, cron: _cron, scheduleTimeZone: _zone, ...rest } = source;
  return { ...rest, ...fields };
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}
