// What the rest of Gantry uses of the CI: the service (webhooks, pipelines, runs, secrets).
export { CiService, type CiServiceOptions, type PipelineSummary } from './ci-service.ts';
export type { CiRun, CiRunState, CiStep, StepState } from './store/runs.ts';
export { MIRRORS_DIR } from './workspace/git-mirror.ts';
export { GitHubStatusReporter, type GitHubStatusOptions } from './status/github-status.ts';
