// Deployments' arithmetic (issue 18): pure decisions, no store, no pool, no clock. The deployment engine
// calls them on each change of the instances it watches and applies what they say.
export { appChange, changedFields, isUpgrade, type AppChange } from './app-change.ts';
export { marathonActionName, planDeployment, plansConflict, type AppsState, type DeploymentAction, type DeploymentPlan, type DeploymentStep, type PlanOptions } from './deployment-plan.ts';
export { checksOf, isAvailable, type InstancePhase, type InstanceView, type VersionChecks } from './instance-view.ts';
export { killOrder } from './kill-order.ts';
export { checkProgressDeadline, recordProgress, type DeadlineInput, type DeadlineVerdict, type DeploymentProgress } from './progress.ts';
export { rollbackTarget, type VersionRecord } from './rollback.ts';
export { nextReplacementStep, type ReplacementDecision, type ReplacementInput } from './rolling-replacement.ts';
export { nextScalingStep, type ScalingDecision, type ScalingInput } from './scaling.ts';
export { upgradeLimits, type UpgradeLimits } from './upgrade-limits.ts';
