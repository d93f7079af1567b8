// The environment a task starts with: what Marathon and Mesos give their tasks, so that programs written
// for them find their ports and sandbox, with the task's own variables winning (but for its id).
import assert from 'node:assert/strict';
import { taskEnvironment } from '../../../src/cluster/agent/task-environment.ts';
import type { LaunchOrder } from '../../../src/cluster/protocol.ts';
import { parseTaskSpec } from '../../../src/cluster/task-spec.ts';

function order(input: Record<string, unknown>, ports: number[]): LaunchOrder {
  return {
    type: 'launch',
    taskId: 't-1',
    spec: parseTaskSpec(input, 'app:/web:i-1'),
    allocation: { cpus: 0.1, mem: 32, disk: 0, gpus: 0, ports, scalars: {}, ranges: {}, sets: { bugs: ['a', 'b'] } },
  } as LaunchOrder;
}

describe('task environment', () => {
  it('gives the host ports as PORT0..n, PORT, PORTS, by name (PORT_HTTP) and by mapped container port (PORT_8080)', () => {
    const env = taskEnvironment(order({ image: 'web', ports: [0, 0, 0], containerPorts: [8080, 0, 9000], portNames: ['http', 'admin-api', 'metrics'] }, [31001, 31002, 31003]), 'node-a', '/sb/t-1');
    assert.equal(env.PORT0, '31001');
    assert.equal(env.PORT, '31001');
    assert.equal(env.PORTS, '31001,31002,31003');
    assert.equal(env.PORT_8080, '31001');
    assert.equal(env.PORT_9000, '31003');
    assert.equal(env.PORT_HTTP, '31001');
    assert.equal(env.PORT_ADMIN_API, '31002', 'a name\'s "-" becomes "_": a shell variable');
    assert.equal(env.PORT_METRICS, '31003');
    assert.equal(env.HOST, 'node-a');
    assert.equal(env.MESOS_SANDBOX, '/sb/t-1');
    assert.equal(env.GANTRY_RESOURCE_BUGS, 'a,b');
  });

  it('lets the task\'s own variables win, but not over its id', () => {
    const env = taskEnvironment(order({ cmd: 'x', ports: [0], env: { PORT0: 'mine', GANTRY_TASK_ID: 'forged' } }, [31001]), 'node-a', '/sb/t-1');
    assert.equal(env.PORT0, 'mine');
    assert.equal(env.GANTRY_TASK_ID, 't-1');
  });

  it('refuses port names that do not match the ports, or repeat', () => {
    assert.throws(() => parseTaskSpec({ cmd: 'x', ports: [0], portNames: ['a', 'b'] }, 'cli'), /"portNames" has one name per entry of "ports" \(1\), got 2/);
    assert.throws(() => parseTaskSpec({ cmd: 'x', ports: [0, 0], portNames: ['a', 'a'] }, 'cli'), /the same port name is given twice/);
    assert.throws(() => parseTaskSpec({ cmd: 'x', ports: [0], portNames: ['HTTP'] }, 'cli'), /a port name is lowercase letters, digits and -/);
  });
});
