// Deploy steps (`deploy: {app, image}`) run on the server, not as tasks: the run engine hands the image
// a build step of the run pushed to the apps through AppDeployer (an interface wired in src/main.ts, so
// that CI imports nothing of apps), writes the deployment's progress as the step's lines, and ends the
// step with the deployment's end: a deployment that fails or is rolled back fails the step.
import { Invalid } from '../../shared/errors.ts';
import type { StepDeploy } from '../pipeline/index.ts';
import type { CiStep } from '../store/runs.ts';

/** How a deployment ended, as the step records it. */
export interface DeployOutcome {
  succeeded: boolean;
  /** Why it failed (the apps' own words: "rolled back: ..."); null on success. */
  reason: string | null;
}

/** What CI asks of the apps. Errors are GantryErrors (NotFound for an unknown app, Conflict for one being deployed). */
export interface AppDeployer {
  /**
   * Rolls `image` out to the app: its new version and the deployment carrying it out; a null
   * deployment when the app runs that image already (nothing to do).
   */
  deploy(appId: string, image: string): Promise<{ deploymentId: string | null; version: string }>;
  /**
   * Resolves when the deployment has ended, telling its progress in lines meanwhile; resolves early
   * (with anything) once `signal` is aborted.
   */
  watch(deploymentId: string, say: (line: string) => void, signal: AbortSignal): Promise<DeployOutcome>;
  /** Cancels a running deployment: the apps roll it back. */
  cancel(deploymentId: string): Promise<void>;
}

const PLACEHOLDER = /^\$\{steps\.([A-Za-z0-9][A-Za-z0-9_.-]*)\.(image|digest)\}$/;

/**
 * The image a deploy step rolls out: what the named build step pushed in this run, pinned by digest
 * (`${steps.X.digest}` gives the same full reference: a bare digest names no repository), or the
 * pinned image written in the pipeline.
 */
export function deployedImage(deploy: StepDeploy, steps: readonly CiStep[]): string {
  const placeholder = PLACEHOLDER.exec(deploy.image);
  if (!placeholder) return deploy.image;
  const name = placeholder[1]!;
  const built = steps.find((s) => s.name === name);
  if (!built?.image) {
    const state = built ? ` (it ended ${built.state}${built.reason ? `: ${built.reason}` : ''})` : '';
    throw new Invalid(`step "${name}" built no image in this run${state}: nothing to deploy`);
  }
  return built.image;
}
