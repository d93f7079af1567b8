// The plan of a deployment: from the apps before a change to the apps after it, ordered steps whose
// actions run together, each step once the one before has finished. After Marathon's DeploymentPlan
// (src/main/scala/mesosphere/marathon/core/deployment/DeploymentPlan.scala):
//   1. the apps removed are stopped, before anything else (their resources are freed first);
//   2. then the apps started, scaled or restarted (appChange), in waves of the target's dependency
//      order: an app's wave is the length of its longest dependency path in the whole target (apps the
//      change leaves alone included: runSpecsGroupedByLongestPath), so an app never starts or restarts
//      before what it depends on; empty waves are dropped.
// Two differences. Removed apps stop in the reverse of their dependency order (dependents first),
// where Marathon stops them all in one step: a dependent is never left running on a stopped
// dependency. A new app is one `start` carrying its instance count in its wave, where Marathon has a
// StartApplication of 0 instances in a step of its own (kept only for "backwards compatibility") and a
// ScaleApplication in the wave.
import { groupDependencyNodes, startOrder, stopOrder, type AppDefinition, type DependencyNode, type GroupDefinition } from '../definition/index.ts';
import { appChange } from './app-change.ts';

/** All apps as they are (or will be): a list, or a group tree whose group dependencies count for its apps. */
export type AppsState = readonly AppDefinition[] | GroupDefinition;

export type DeploymentAction =
  | { action: 'start'; appId: string; instances: number }
  | { action: 'scale'; appId: string; instances: number; killInstances: string[] }
  | { action: 'restart'; appId: string; instances: number }
  | { action: 'stop'; appId: string };

export interface DeploymentStep {
  actions: DeploymentAction[];
}

export interface DeploymentPlan {
  steps: DeploymentStep[];
  /** Every app an action names: two deployments conflict when these meet. */
  affectedAppIds: string[];
}

export interface PlanOptions {
  /** Apps to restart even when their definition did not change (POST /v2/apps/ID/restart). */
  restart?: readonly string[];
  /** Instances to kill by name when an app scales (`/v2/tasks/delete?scale=true`), by app id. */
  killInstances?: Readonly<Record<string, readonly string[]>>;
}

function appsOf(state: AppsState): AppDefinition[] {
  if (!('apps' in state)) return [...state];
  return [...state.apps, ...state.groups.flatMap(appsOf)];
}

function dependencyNodesOf(state: AppsState): DependencyNode[] {
  if (!('apps' in state)) return state.map((app) => ({ id: app.id, dependencies: app.dependencies }));
  return groupDependencyNodes(state);
}

export function planDeployment(before: AppsState, after: AppsState, options: PlanOptions = {}): DeploymentPlan {
  const beforeApps = new Map(appsOf(before).map((app) => [app.id, app]));
  const afterApps = new Map(appsOf(after).map((app) => [app.id, app]));
  const restart = new Set(options.restart ?? []);

  const stopSteps = stopOrder(dependencyNodesOf(before)).map((wave) => ({
    actions: wave.filter((id) => !afterApps.has(id)).map((appId): DeploymentAction => ({ action: 'stop', appId })),
  }));

  const changeSteps = startOrder(dependencyNodesOf(after)).map((wave) => ({
    actions: wave.flatMap((appId): DeploymentAction[] => {
      const app = afterApps.get(appId)!;
      switch (appChange(beforeApps.get(appId), app, { restart: restart.has(appId) })) {
        case 'start':
          return [{ action: 'start', appId, instances: app.instances }];
        case 'scale':
          return [{ action: 'scale', appId, instances: app.instances, killInstances: [...(options.killInstances?.[appId] ?? [])] }];
        case 'restart':
          return [{ action: 'restart', appId, instances: app.instances }];
        default:
          return [];
      }
    }),
  }));

  const steps = [...stopSteps, ...changeSteps].filter((step) => step.actions.length > 0);
  return { steps, affectedAppIds: [...new Set(steps.flatMap((step) => step.actions.map((a) => a.appId)))] };
}

/** Marathon's isAffectedBy: two plans touching one app may not run at once (the second answers 409). */
export function plansConflict(a: Pick<DeploymentPlan, 'affectedAppIds'>, b: Pick<DeploymentPlan, 'affectedAppIds'>): boolean {
  const ids = new Set(a.affectedAppIds);
  return b.affectedAppIds.some((id) => ids.has(id));
}

/** The action's name in Marathon's /v2/deployments (DeploymentAction.actionName). */
export function marathonActionName(action: DeploymentAction): 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication' {
  const names = { start: 'StartApplication', scale: 'ScaleApplication', restart: 'RestartApplication', stop: 'StopApplication' } as const;
  return names[action.action];
}
