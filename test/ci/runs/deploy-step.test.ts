// What a deploy step rolls out, from the run's steps: the image a build step pushed (pinned by digest,
// for ${steps.X.image} and ${steps.X.digest} alike), an image written pinned, or an error naming the
// build step that pushed nothing in this run.
import assert from 'node:assert/strict';
import { deployedImage } from '../../../src/ci/runs/deploy-step.ts';
import type { CiStep } from '../../../src/ci/store/runs.ts';

const step = (name: string, extra: Partial<CiStep> = {}): CiStep => ({
  runId: 'cr-1', name, position: 1, state: 'success', attempt: 0, taskId: 't-1', taskIds: ['t-1'], startedAt: null, finishedAt: null, exitCode: 0,
  reason: null, image: null, digest: null, deploymentId: null, approvedBy: null, approvedAt: null, ...extra,
});
const PUSHED = `127.0.0.1:5000/team/web@sha256:${'a'.repeat(64)}`;

describe('CI: the image a deploy step rolls out', () => {
  it('is what the named build step pushed, for its image and its digest alike', () => {
    const steps = [step('test'), step('image', { image: PUSHED, digest: `sha256:${'a'.repeat(64)}` })];
    assert.equal(deployedImage({ app: '/prod/web', image: '${steps.image.image}' }, steps), PUSHED);
    assert.equal(deployedImage({ app: '/prod/web', image: '${steps.image.digest}' }, steps), PUSHED);
  });

  it('is the image itself when the pipeline pins one', () => {
    const pinned = `registry.example.com/team/web@sha256:${'b'.repeat(64)}`;
    assert.equal(deployedImage({ app: '/prod/web', image: pinned }, []), pinned);
  });

  it('is refused, naming the step and how it ended, when that step pushed nothing in this run', () => {
    const skipped = [step('image', { state: 'skipped', reason: 'its `when` does not match', taskId: null, taskIds: [] })];
    assert.throws(() => deployedImage({ app: '/prod/web', image: '${steps.image.image}' }, skipped), /^Invalid: step "image" built no image in this run \(it ended skipped: its `when` does not match\): nothing to deploy$/);
  });
});
