// Rolling a new image out to an app, as CI deploy steps ask (src/main.ts hands this to the CI as its
// AppDeployer; apps import nothing of CI): the app's current definition with only its container
// image changed becomes a new version, deployed as any change is (rolling, health-gated, rolled back
// when it fails), and its progress is told in lines until the deployment ends.
import { setTimeout as delay } from 'node:timers/promises';
import { Invalid } from '../shared/errors.ts';
import type { AppsService } from './apps-service.ts';

export interface RolloutOutcome {
  succeeded: boolean;
  reason: string | null;
}

export class ImageRollout {
  constructor(
    private readonly apps: AppsService,
    /** How often a followed deployment is looked at. */
    private readonly pollMs = 250,
  ) {}

  /**
   * The app's definition as it was written, with `image` as its container's image: a new version and
   * its deployment; no deployment when the app runs that image already. 404 for an unknown app, 422
   * for an app without a container image, 409 while another deployment of it runs.
   */
  async deploy(appId: string, image: string): Promise<{ deploymentId: string | null; version: string }> {
    const view = this.apps.getApp(appId);
    const { source } = await this.apps.version(appId, view.version);
    const container = source.container as { docker?: { image?: unknown } } | undefined;
    if (!container?.docker || typeof container.docker.image !== 'string') {
      throw new Invalid(`app ${appId} runs no container image (container.docker.image): a deploy step replaces an image`);
    }
    if (container.docker.image === image) return { deploymentId: null, version: view.version };
    const next = structuredClone(source);
    (next.container as { docker: { image: string } }).docker.image = image;
    const { deploymentId, version } = await this.apps.putApp(appId, next);
    return { deploymentId, version };
  }

  /** Tells the deployment's steps and its apps' instance counts as they change, until it ends. */
  async watch(deploymentId: string, say: (line: string) => void, signal: AbortSignal): Promise<RolloutOutcome> {
    let told = '';
    while (!signal.aborted) {
      const deployment = await this.apps.deployment(deploymentId);
      if (!deployment) return { succeeded: false, reason: `deployment ${deploymentId} is unknown` };
      const progress = deployment.affectedApps.map((appId) => this.progressOf(appId)).join('; ');
      const line = `step ${Math.min(deployment.currentStep + 1, deployment.plan.steps.length)}/${deployment.plan.steps.length}, ${progress}`;
      if (line !== told) say((told = line));
      if (deployment.state === 'succeeded') return { succeeded: true, reason: null };
      if (deployment.state !== 'running') return { succeeded: false, reason: `deployment ${deployment.state}: ${deployment.reason ?? 'no reason given'}` };
      await delay(this.pollMs, undefined, { signal }).catch(() => undefined);
    }
    return { succeeded: false, reason: 'stopped following' };
  }

  /** How far an app is: its instances of its current version healthy, of those wanted, and what else runs. */
  private progressOf(appId: string): string {
    try {
      const { version, definition } = this.apps.getApp(appId);
      const tasks = this.apps.tasks(appId).filter((t) => t.state === 'running' || t.state === 'staging');
      const current = tasks.filter((t) => t.spec.env.MARATHON_APP_VERSION === version);
      const healthy = current.filter((t) => t.health === 'healthy').length;
      return `${appId}: ${healthy} of ${definition.instances} new instances healthy, ${tasks.length - current.length} old still running`;
    } catch {
      return `${appId}: removed`;
    }
  }

  async cancel(deploymentId: string): Promise<void> {
    await this.apps.cancelDeployment(deploymentId);
  }
}
