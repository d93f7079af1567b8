// Image pre-warming (`gantry images prewarm IMAGE [--agents SELECTOR]`): pull an image onto agents
// ahead of a deployment, so that its tasks start without a pull. One pull-only task (TaskSpec.pullOnly)
// per chosen agent, pinned to it by hostname: each is an ordinary task, so its progress is its log, its
// outcome its state, and it waits its turn like any other. Agents report the image once pulled, and
// placement then prefers them when scores tie.
import { Invalid } from '../../shared/errors.ts';
import { canonicalImageName } from '../image-reference.ts';
import { placementContext } from '../placement/context.ts';
import { isFilter } from '../placement/filters/is.ts';
import { likeFilter } from '../placement/filters/like.ts';
import { unlikeFilter } from '../placement/filters/unlike.ts';
import { parseTaskSpec } from '../task-spec.ts';
import type { AgentView, Constraint, TaskRecord, TaskSpec } from '../types.ts';
import type { AgentWithUsage, Master } from './master.ts';

/** Operators that select agents by what they are; the others count tasks and mean nothing here. */
const SELECTOR_FILTERS = { IS: isFilter, LIKE: likeFilter, UNLIKE: unlikeFilter } as const;

export interface PrewarmRequest {
  image: string;
  /** Agents to pre-warm: every constraint must hold (hostname or attribute, IS / LIKE / UNLIKE). None: every agent. */
  agents: Constraint[];
  forcePull: boolean;
  /** Who asked (the tasks' owner is `prewarm:` and this). */
  requestedBy: string;
}

export interface PrewarmTarget {
  agentId: string;
  hostname: string;
  task: TaskRecord;
}

export interface PrewarmResult {
  image: string;
  targets: PrewarmTarget[];
  /** Selected agents that already hold the image (nothing to do unless forcePull). */
  alreadyHeld: Array<{ agentId: string; hostname: string }>;
}

export async function prewarmImage(master: Master, request: PrewarmRequest): Promise<PrewarmResult> {
  for (const c of request.agents) {
    if (!(c.operator in SELECTOR_FILTERS)) throw new Invalid(`--agents selects with IS, LIKE or UNLIKE, not ${c.operator}`);
  }
  const image = canonicalImageName(request.image);
  const agents = (await master.listAgentsWithUsage()).filter((a) => a.state === 'ready' && a.drivers.includes('docker') && a.free !== null);
  const chosen = agents.filter((a) => selects(request.agents, a));
  if (chosen.length === 0) {
    const why = agents.length === 0 ? 'no ready agent has a Docker engine' : `none of the ${agents.length} ready Docker agents matches the selector`;
    throw new Invalid(`nothing to pre-warm: ${why}`);
  }
  // Tasks are pinned by hostname: agents sharing one are pre-warmed once (whichever takes the task).
  const byHostname = new Map(chosen.map((a) => [a.hostname, a]));
  const alreadyHeld: PrewarmResult['alreadyHeld'] = [];
  const pending: AgentWithUsage[] = [];
  for (const agent of byHostname.values()) {
    if (!request.forcePull && agent.images?.includes(image)) alreadyHeld.push({ agentId: agent.id, hostname: agent.hostname });
    else pending.push(agent);
  }
  const targets = await Promise.all(
    pending.map(async (agent) => ({ agentId: agent.id, hostname: agent.hostname, task: await master.submit(pullTaskSpec(request, agent.hostname)) })),
  );
  return { image, targets, alreadyHeld };
}

function pullTaskSpec(request: PrewarmRequest, hostname: string): TaskSpec {
  return parseTaskSpec(
    {
      name: `prewarm ${request.image}`,
      group: 'prewarm',
      image: request.image,
      pullOnly: true,
      ...(request.forcePull ? { forcePull: true } : {}),
      cpus: 0.01,
      mem: 16,
      constraints: [['hostname', 'IS', hostname]],
    },
    `prewarm:${request.requestedBy}`,
  );
}

function selects(constraints: readonly Constraint[], agent: AgentWithUsage): boolean {
  if (constraints.length === 0) return true;
  const view: AgentView = { id: agent.id, hostname: agent.hostname, attributes: agent.attributes, total: agent.resources, free: agent.free! };
  const spec = { constraints } as TaskSpec;
  const ctx = placementContext([view], () => 0);
  return constraints.every((c) => SELECTOR_FILTERS[c.operator as keyof typeof SELECTOR_FILTERS].check(view, { ...spec, constraints: [c] }, ctx) === true);
}
