// Whether the pool can run an app as defined, asked once when a definition is posted, so that an app the
// pool cannot run is refused then (422, nothing written) rather than left with instances that never
// start. A gap is something valid in Marathon the pool does not do yet (an HTTPS probe, a container port
// other than its host port, ...): to-task.ts names each at its field. Last, the task an instance would
// submit goes through the pool's own validation (cluster/index.ts parseTaskSpec), so a rule of the pool
// that the app's definition does not know of is reported now too.
import { parseTaskSpec } from '../../cluster/index.ts';
import { GantryError } from '../../shared/errors.ts';
import { problemsOf, type AppDefinition, type AppProblem } from '../definition/index.ts';
import { instanceOwner } from './owner.ts';
import { submissionFor } from './to-task.ts';

/** What the pool cannot run of `app`, by field; empty when every instance can be submitted. */
export function poolGaps(app: AppDefinition): AppProblem[] {
  const probe = { instanceId: 'probe' };
  const { submission, gaps } = submissionFor(app, probe);
  if (gaps.length > 0) return problemsOf(gaps);
  try {
    const owner = instanceOwner(app.id, probe.instanceId);
    parseTaskSpec({ ...submission, owner }, owner);
    return [];
  } catch (err) {
    if (!(err instanceof GantryError)) throw err;
    return [{ path: '/', errors: [`the pool refuses its tasks: ${err.message.replace(/^invalid task: /, '')}`] }];
  }
}
