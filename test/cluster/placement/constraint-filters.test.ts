// Every constraint operator, pass and fail, through placeTask on one candidate at a time.
import assert from 'node:assert/strict';
import { placeTask } from '../../../src/cluster/placement/pipeline.ts';
import { agent, contextWith, spec } from './helpers.ts';

const resources = 'cpus:4;mem:4096';
const AGENTS = [
  agent('a1', resources, 'rack:r1;zone:west;os:centos7;level:10'),
  agent('a2', resources, 'rack:r1;zone:east;os:ubuntu22;level:20'),
  agent('a3', resources, 'rack:r2;zone:east;level:10.5'),
  agent('a4', resources, 'rack:r3;zone:west;os:centos6;keys:[1000-1500];disks:{ssd,hdd}'),
];

type Row = [constraint: string, placed: Array<string | [string, string]>, candidate: string, passes: boolean];

const TABLE: Record<string, Row[]> = {
  UNIQUE: [
    ['hostname:UNIQUE', [], 'a1', true],
    ['hostname:UNIQUE', ['a1'], 'a1', false],
    ['hostname:UNIQUE', ['a1'], 'a2', true],
    ['hostname:UNIQUE', [['other-group', 'a1']], 'a1', true],
    ['rack:UNIQUE', ['a1'], 'a2', false],
    ['rack:UNIQUE', ['a1'], 'a3', true],
    ['os:UNIQUE', [], 'a3', false],
  ],
  CLUSTER: [
    ['rack:CLUSTER:r1', [], 'a1', true],
    ['rack:CLUSTER:r1', [], 'a3', false],
    ['rack:CLUSTER:r1', ['a3'], 'a1', false],
    ['rack:CLUSTER', [], 'a3', true],
    ['rack:CLUSTER', ['a1'], 'a2', true],
    ['rack:CLUSTER', ['a1'], 'a3', false],
    ['hostname:CLUSTER', ['a1'], 'a1', true],
    ['hostname:CLUSTER', ['a1'], 'a2', false],
    ['os:CLUSTER', [], 'a3', false],
  ],
  GROUP_BY: [
    ['rack:GROUP_BY', [], 'a1', true],
    ['rack:GROUP_BY', ['a1'], 'a2', false],
    ['rack:GROUP_BY', ['a1'], 'a3', true],
    ['rack:GROUP_BY', ['a1', 'a3'], 'a2', false],
    ['rack:GROUP_BY', ['a1', 'a3', 'a4'], 'a2', true],
    ['rack:GROUP_BY', ['a1', 'a2', 'a3'], 'a4', true],
    ['rack:GROUP_BY', ['a1', 'a2', 'a3', 'a4'], 'a1', false],
    ['rack:GROUP_BY', ['a1', 'a2', 'a3', 'a4'], 'a3', true],
    ['rack:GROUP_BY:2', ['a1'], 'a2', false],
    ['rack:GROUP_BY:2', ['a1', 'a3'], 'a2', true],
    ['rack:GROUP_BY:2', ['a1', 'a2', 'a3'], 'a1', false],
    ['hostname:GROUP_BY', ['a1'], 'a1', false],
    ['hostname:GROUP_BY', ['a1'], 'a2', true],
    ['hostname:GROUP_BY:1', ['a1'], 'a1', true],
    ['os:GROUP_BY', [], 'a3', false],
  ],
  LIKE: [
    ['os:LIKE:centos.*', [], 'a1', true],
    ['os:LIKE:centos.*', [], 'a2', false],
    ['os:LIKE:centos.*', [], 'a3', false],
    ['os:LIKE:centos', [], 'a1', false],
    ['hostname:LIKE:a[12]', [], 'a1', true],
    ['hostname:LIKE:a[12]', [], 'a3', false],
    ['level:LIKE:10', [], 'a1', true],
    ['level:LIKE:10', [], 'a3', false],
    ['keys:LIKE:\\[1000-.*', [], 'a4', true],
  ],
  UNLIKE: [
    ['os:UNLIKE:centos.*', [], 'a1', false],
    ['os:UNLIKE:centos.*', [], 'a2', true],
    ['os:UNLIKE:centos.*', [], 'a3', true],
    ['os:UNLIKE:centos', [], 'a1', true],
    ['hostname:UNLIKE:a1', [], 'a1', false],
    ['hostname:UNLIKE:a1', [], 'a2', true],
  ],
  MAX_PER: [
    ['rack:MAX_PER:2', ['a1'], 'a2', true],
    ['rack:MAX_PER:2', ['a1', 'a2'], 'a1', false],
    ['rack:MAX_PER:2', ['a1', 'a2'], 'a3', true],
    ['hostname:MAX_PER:1', ['a1'], 'a1', false],
    ['hostname:MAX_PER:2', ['a1'], 'a1', true],
    ['os:MAX_PER:1', [], 'a3', false],
  ],
  IS: [
    ['zone:IS:west', [], 'a1', true],
    ['zone:IS:west', [], 'a2', false],
    ['level:IS:10', [], 'a1', true],
    ['level:IS:10.0', [], 'a1', true],
    ['level:IS:10.5', [], 'a3', true],
    ['level:IS:10.5', [], 'a1', false],
    ['level:IS:abc', [], 'a1', false],
    ['hostname:IS:a2', [], 'a2', true],
    ['hostname:IS:a2', [], 'a1', false],
    ['keys:IS:[1000-1500]', [], 'a4', true],
    ['disks:IS:{hdd,ssd}', [], 'a4', true],
    ['rack:IS:R1', [], 'a1', false],
    ['os:IS:centos7', [], 'a3', false],
  ],
  // Affinity to the tasks of another group (here `db`), by field value.
  WITH: [
    ['hostname:WITH:db', [['db', 'a1']], 'a1', true],
    ['hostname:WITH:db', [['db', 'a1']], 'a2', false],
    ['hostname:WITH:db', [], 'a1', false],
    ['rack:WITH:db', [['db', 'a1']], 'a2', true],
    ['rack:WITH:db', [['db', 'a1']], 'a3', false],
    ['os:WITH:db', [['db', 'a1']], 'a3', false],
    ['hostname:WITH:app:/prod/db', [['app:/prod/db', 'a2']], 'a2', true],
  ],
  WITHOUT: [
    ['hostname:WITHOUT:db', [['db', 'a1']], 'a1', false],
    ['hostname:WITHOUT:db', [['db', 'a1']], 'a2', true],
    ['hostname:WITHOUT:db', [], 'a1', true],
    ['rack:WITHOUT:db', [['db', 'a1']], 'a2', false],
    ['rack:WITHOUT:db', [['db', 'a1']], 'a3', true],
    ['os:WITHOUT:db', [['db', 'a1']], 'a3', true],
    ['hostname:WITHOUT:db', ['a1'], 'a1', true],
  ],
};

describe('constraint filters', () => {
  for (const [operator, rows] of Object.entries(TABLE)) {
    describe(operator, () => {
      for (const [constraint, placed, candidate, passes] of rows) {
        const on = placed.length ? ` with group tasks on ${placed.map((p) => (typeof p === 'string' ? p : `${p[0]}:${p[1]}`)).join(',')}` : '';
        it(`${constraint}${on}: ${candidate} ${passes ? 'passes' : 'fails'}`, () => {
          const ctx = contextWith(AGENTS, placed);
          const candidates = AGENTS.filter((a) => a.id === candidate);
          const result = placeTask(spec({ cpus: 1, constraints: [constraint] }), candidates, ctx);
          if (passes) {
            assert.ok(result.ok, result.ok ? '' : result.reason);
            assert.equal(result.agent.id, candidate);
          } else {
            assert.ok(!result.ok, 'expected a rejection');
            assert.equal(result.reason, `1 agent: 1 failed ${constraint}`);
          }
        });
      }
    });
  }

  it('checks every constraint of the task: the first failing one is reported', () => {
    const ctx = contextWith(AGENTS, ['a1']);
    const result = placeTask(spec({ constraints: ['zone:IS:west', 'hostname:UNIQUE'] }), AGENTS, ctx, { maxCandidates: Infinity });
    assert.ok(result.ok);
    assert.equal(result.agent.id, 'a4');
    const none = placeTask(spec({ constraints: ['zone:IS:west', 'rack:IS:r1', 'hostname:UNIQUE'] }), AGENTS, ctx);
    assert.ok(!none.ok);
    assert.equal(none.reason, '4 agents: 2 failed zone:IS:west, 1 failed hostname:UNIQUE, 1 failed rack:IS:r1');
  });
});
