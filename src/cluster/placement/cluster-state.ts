// ClusterState: the in-memory pool the master places against. It knows each agent's total and free
// resources and the active tasks by constraint group. place() decides without changing anything;
// commit() and release() apply a decision once the store has recorded it. At start the master rebuilds
// it from the store with upsertAgent (each ready agent) and commit (each active task).
//
// AgentView values are immutable: a commit or release replaces the agent's view with a new one, so a
// view handed out (agentView, agents, a placement result) is a consistent snapshot and never changes.
import { addAllocation, subtractAllocation } from '../resources/arithmetic.ts';
import { formatAttributes } from '../resources/format.ts';
import type { AgentView, Allocation, Attributes, RankerName, Resources, TaskSpec } from '../types.ts';
import { DistinctValueCache } from './context.ts';
import { fieldValue, type AgentIdentity } from './field-value.ts';
import { fitsAnyAgentTotal } from './fits-any-agent.ts';
import { GroupIndex } from './group-index.ts';
import { placeTask } from './pipeline.ts';
import type { FreeColumns, PlaceOptions, PlaceResult, PlacementContext } from './types.ts';

export interface ClusterStateOptions {
  /** Uniform in [0, 1): the visiting order and the random strategy draw from it. */
  rng: () => number;
  /** Strategy for tasks that name none. Default binpack. */
  defaultStrategy?: RankerName;
  /** See PlaceOptions.maxCandidates. */
  maxCandidates?: number;
}

interface CommittedTask {
  agentId: string;
  group: string;
  allocation: Allocation;
}

export class ClusterState {
  /** Agents in the pool, in no particular order (removal swaps the last one in). */
  private readonly views: AgentView[] = [];
  private readonly positions = new Map<string, number>();
  /** Free cpus and mem by position in `views`, for placement's quick reject (see PlaceOptions.freeColumns). */
  private columns: FreeColumns = { cpus: new Float64Array(64), mem: new Float64Array(64) };
  /** Hostname and attributes of every agent that has tasks or is in the pool, for the group counts. */
  private readonly identities = new Map<string, AgentIdentity>();
  private readonly tasks = new Map<string, CommittedTask>();
  private readonly tasksByAgent = new Map<string, Set<string>>();
  private readonly groups: GroupIndex;
  private readonly distinct = new DistinctValueCache(() => this.views);
  /** The images each agent last reported holding (canonical names), for placement's tie-break. */
  private readonly images = new Map<string, ReadonlySet<string>>();
  private readonly ctx: PlacementContext;
  private changes = 0;

  constructor(private readonly options: ClusterStateOptions) {
    this.groups = new GroupIndex((agentId, field) => {
      const identity = this.identities.get(agentId);
      return identity ? fieldValue(identity, field) : undefined;
    });
    this.ctx = {
      rng: options.rng,
      groups: this.groups,
      distinctValues: (field) => this.distinct.count(field),
      holdsImage: (agentId, image) => this.images.get(agentId)?.has(image) === true,
    };
  }

  /**
   * Adds an agent to the pool or updates it (re-registration, back from unreachable). Its free
   * resources are its total less the allocations of the tasks still committed on it. `taskUsers`: the
   * users its tasks may run as (AgentView.taskUsers).
   */
  upsertAgent(id: string, hostname: string, attributes: Attributes, total: Resources, taskUsers: readonly string[] = []): AgentView {
    const known = this.identities.get(id);
    const identity: AgentIdentity = { hostname, attributes: structuredClone(attributes) };
    if (known && (known.hostname !== hostname || formatAttributes(known.attributes) !== formatAttributes(attributes))) {
      this.groups.forgetFieldCounts();
    }
    this.identities.set(id, identity);
    const ownTotal = structuredClone(total);
    let free = ownTotal;
    for (const taskId of this.tasksByAgent.get(id) ?? []) free = subtractAllocation(free, this.tasks.get(taskId)!.allocation);
    const view: AgentView = { id, hostname, attributes: identity.attributes, total: ownTotal, free, taskUsers: [...taskUsers] };
    this.distinct.clear();
    const at = this.positions.get(id);
    if (at === undefined) {
      this.positions.set(id, this.views.length);
      this.views.push(view);
      this.growColumns();
    }
    this.setView(at ?? this.views.length - 1, view);
    return view;
  }

  /** Records the images an agent holds (canonical names, as its engine lists them). */
  setImages(agentId: string, images: readonly string[]): void {
    this.images.set(agentId, new Set(images));
  }

  /**
   * Takes an agent out of the pool (unreachable or gone): nothing more is placed on it. Its tasks stay
   * committed, and counted by their group, until released.
   */
  removeAgent(id: string): boolean {
    const at = this.positions.get(id);
    if (at === undefined) return false;
    const last = this.views.pop()!;
    if (last.id !== id) {
      this.setView(at, last);
      this.positions.set(last.id, at);
    }
    this.positions.delete(id);
    this.changes++;
    this.distinct.clear();
    if (!this.tasksByAgent.has(id)) this.identities.delete(id);
    return true;
  }

  /**
   * Counts every change to the pool (agents, commits, releases): a task that did not fit at generation
   * g cannot fit before the generation moves, so the master skips it until then.
   */
  get generation(): number {
    return this.changes;
  }

  /** A snapshot of the agent, or undefined when it is not in the pool. */
  agentView(id: string): AgentView | undefined {
    const at = this.positions.get(id);
    return at === undefined ? undefined : this.views[at];
  }

  /** Snapshots of the agents in the pool. */
  agents(): AgentView[] {
    return this.views.slice();
  }

  /** Chooses an agent for the task, or says why none fits. Changes nothing. */
  place(spec: TaskSpec, options: PlaceOptions = {}): PlaceResult {
    const merged: PlaceOptions = { ...options };
    if (merged.strategy === undefined && this.options.defaultStrategy) merged.strategy = this.options.defaultStrategy;
    if (merged.maxCandidates === undefined && this.options.maxCandidates !== undefined) merged.maxCandidates = this.options.maxCandidates;
    merged.freeColumns = this.columns;
    return placeTask(spec, this.views, this.ctx, merged);
  }

  /**
   * Records a task on an agent: its allocation leaves the agent's free resources and it counts for its
   * group. Committing a task id again replaces its earlier allocation. An agent not in the pool is
   * accepted (the task is counted, and its resources are taken when the agent comes back).
   */
  commit(taskId: string, agentId: string, group: string, allocation: Allocation): void {
    if (this.tasks.has(taskId)) this.release(taskId);
    this.tasks.set(taskId, { agentId, group, allocation });
    let onAgent = this.tasksByAgent.get(agentId);
    if (!onAgent) this.tasksByAgent.set(agentId, (onAgent = new Set()));
    onAgent.add(taskId);
    this.groups.add(group, agentId);
    this.changes++;
    const at = this.positions.get(agentId);
    if (at !== undefined) {
      const view = this.views[at]!;
      this.setView(at, { ...view, free: subtractAllocation(view.free, allocation) });
    }
  }

  /** Gives a task's resources back to its agent and stops counting it. False when it was not committed. */
  release(taskId: string): boolean {
    const task = this.tasks.get(taskId);
    if (!task) return false;
    this.tasks.delete(taskId);
    this.groups.remove(task.group, task.agentId);
    this.changes++;
    const onAgent = this.tasksByAgent.get(task.agentId);
    onAgent?.delete(taskId);
    const at = this.positions.get(task.agentId);
    if (onAgent?.size === 0) {
      this.tasksByAgent.delete(task.agentId);
      if (at === undefined) this.identities.delete(task.agentId);
    }
    if (at !== undefined) {
      const view = this.views[at]!;
      this.setView(at, { ...view, free: addAllocation(view.free, task.allocation, view.total) });
    }
    return true;
  }

  hasTask(taskId: string): boolean {
    return this.tasks.has(taskId);
  }

  /** Active tasks committed on the agent. */
  taskCount(agentId: string): number {
    return this.tasksByAgent.get(agentId)?.size ?? 0;
  }

  private setView(at: number, view: AgentView): void {
    this.changes++;
    this.views[at] = view;
    this.columns.cpus[at] = view.free.scalars.cpus ?? 0;
    this.columns.mem[at] = view.free.scalars.mem ?? 0;
  }

  private growColumns(): void {
    if (this.views.length <= this.columns.cpus.length) return;
    const size = this.columns.cpus.length * 2;
    const cpus = new Float64Array(size);
    const mem = new Float64Array(size);
    cpus.set(this.columns.cpus);
    mem.set(this.columns.mem);
    this.columns = { cpus, mem };
  }

  /** Null when some agent's total could hold the task, else a message for a 422: `no agent has 64 cpus (largest: 2)`. */
  fitsAnyAgentTotal(spec: TaskSpec): string | null {
    return fitsAnyAgentTotal(
      spec,
      this.views.map((v) => v.total),
    );
  }
}
