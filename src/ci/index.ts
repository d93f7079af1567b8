// What the rest of Gantry uses of the CI: the service (webhooks, pipelines, runs, secrets).
export { CiService, type CiServiceOptions, type PipelineSummary } from './ci-service.ts';
export type { CiRun, CiRunState, CiStep, PullRequestInfo, StepLine, StepState } from './store/runs.ts';
/** What deploy steps need of the apps: src/main.ts hands the CI an implementation (apps' ImageRollout). */
export type { AppDeployer, DeployOutcome } from './runs/deploy-step.ts';
export { MIRRORS_DIR } from './workspace/git-mirror.ts';
export { GitHubStatusReporter, type GitHubStatusOptions } from './status/github-status.ts';
export { GitLabStatusReporter, type GitLabStatusOptions } from './status/gitlab-status.ts';
