// A task with an image asks for an agent with a Docker engine, so it waits with a reason rather than
// failing on an agent that cannot run containers.
import assert from 'node:assert/strict';
import { parseTaskSpec } from '../../src/cluster/task-spec.ts';

describe('task spec: containers', () => {
  it('adds a docker constraint to a task with an image, unless one was given', () => {
    const spec = parseTaskSpec({ image: 'busybox', args: ['true'] }, 'cli');
    assert.deepEqual(spec.constraints.map((c) => [c.field, c.operator, c.value]), [['docker', 'LIKE', '.+']]);
    const chosen = parseTaskSpec({ image: 'busybox', args: ['true'], constraints: ['docker:LIKE:20\\..*'] }, 'cli');
    assert.deepEqual(chosen.constraints.map((c) => [c.field, c.operator, c.value]), [['docker', 'LIKE', '20\\..*']]);
    assert.deepEqual(parseTaskSpec({ cmd: 'true' }, 'cli').constraints, [], 'an exec task asks nothing');
  });
});
