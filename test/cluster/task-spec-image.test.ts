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

  it('maps host ports from container ports on the bridge network only, one per port, none twice', () => {
    const spec = parseTaskSpec({ image: 'web', ports: [0, 0], containerPorts: [8080, 0] }, 'cli');
    assert.deepEqual(spec.containerPorts, [8080, 0]);
    assert.equal(parseTaskSpec({ image: 'web', ports: [0], containerPorts: [0] }, 'cli').containerPorts, undefined, 'all 0: today\'s same-number mapping');
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ cmd: 'x', ports: [0], containerPorts: [80] }, /"containerPorts" maps host ports into a container on the bridge network: it needs an "image" and network "bridge"/],
      [{ image: 'web', network: 'host', ports: [0], containerPorts: [80] }, /needs an "image" and network "bridge"/],
      [{ image: 'web', ports: [0, 0], containerPorts: [80] }, /"containerPorts" has one entry per entry of "ports" \(2\), got 1/],
      [{ image: 'web', ports: [0, 0], containerPorts: [80, 80] }, /the same container port is mapped twice/],
    ];
    for (const [input, message] of refused) assert.throws(() => parseTaskSpec(input, 'cli'), message);
  });
});
