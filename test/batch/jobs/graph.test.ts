import assert from 'node:assert/strict';
import { JobGraph, lastStateOf, parseJobDefinition, type JobDefinition } from '../../../src/batch/jobs/index.ts';
import { Invalid, NotFound } from '../../../src/shared/errors.ts';

const SCHEDULE = 'R/2026-01-01T00:00:00Z/PT1H';

function scheduled(name: string, extra: Record<string, unknown> = {}): JobDefinition {
  return parseJobDefinition({ name, command: `run ${name}`, schedule: SCHEDULE, ...extra });
}

function dependent(name: string, parents: string[], extra: Record<string, unknown> = {}): JobDefinition {
  return parseJobDefinition({ name, command: `run ${name}`, parents, ...extra });
}

/** A → B, A → C, B → D, C → D */
function diamond(): JobGraph {
  return JobGraph.of([dependent('D', ['B', 'C']), dependent('C', ['A']), dependent('B', ['A']), scheduled('A')]);
}

function invalid(message: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof Invalid && message.test(err.message);
}

describe('batch jobs: the dependency graph', () => {
  it('links a diamond and orders it topologically', () => {
    const graph = diamond();
    assert.deepEqual(graph.topologicalOrder(), ['A', 'B', 'C', 'D']);
    assert.deepEqual(graph.children('A'), ['B', 'C']);
    assert.deepEqual(graph.children('D'), []);
    assert.deepEqual(graph.parents('D'), ['B', 'C']);
    assert.deepEqual(graph.parents('A'), []);
  });

  it('builds the same graph whatever order jobs are put in', () => {
    const graph = new JobGraph();
    for (const job of [scheduled('A'), dependent('C', ['A']), dependent('B', ['A']), dependent('D', ['B', 'C'])]) graph.put(job);
    assert.deepEqual(graph.topologicalOrder(), diamond().topologicalOrder());
  });

  it('refuses a job whose parent does not exist, naming both', () => {
    const graph = diamond();
    assert.throws(() => graph.put(dependent('E', ['D', 'X'])), invalid(/^job "E": parent "X" does not exist$/));
    assert.throws(() => graph.put(dependent('E', ['X', 'Y'])), invalid(/^job "E": parents "X", "Y" do not exist$/));
    assert.equal(graph.has('E'), false);
  });

  it('refuses a change that closes a cycle, with the path', () => {
    const graph = JobGraph.of([scheduled('a'), dependent('b', ['a']), dependent('c', ['b'])]);
    assert.throws(() => graph.put(dependent('a', ['c'])), invalid(/^dependency cycle: a → b → c → a$/));
    assert.throws(() => graph.checkPut(dependent('b', ['b'])), invalid(/^dependency cycle: b → b$/));
    // Nothing moved.
    assert.equal(graph.get('a')!.timing.kind, 'scheduled');
    assert.deepEqual(graph.topologicalOrder(), ['a', 'b', 'c']);
  });

  it('checks a whole set at start: missing parents and cycles', () => {
    assert.throws(() => JobGraph.of([dependent('b', ['a'])]), invalid(/job "b": parent "a" does not exist/));
    assert.throws(
      () => JobGraph.of([scheduled('s'), dependent('x', ['s', 'z']), dependent('y', ['x']), dependent('z', ['y'])]),
      invalid(/^dependency cycle: x → y → z → x$/),
    );
    assert.throws(() => JobGraph.of([scheduled('a'), scheduled('a')]), invalid(/job "a" is defined twice/));
  });

  it('replaces a job and its edges', () => {
    const graph = diamond();
    graph.put(dependent('D', ['C']));
    assert.deepEqual(graph.children('B'), []);
    assert.deepEqual(graph.children('C'), ['D']);
    graph.put(scheduled('D'));
    assert.deepEqual(graph.children('C'), []);
  });

  it('answers NotFound for a job it does not have', () => {
    assert.throws(() => diamond().children('nope'), (err: unknown) => err instanceof NotFound);
    assert.throws(() => diamond().remove('nope'), (err: unknown) => err instanceof NotFound);
  });

  it('handles a long chain without deep recursion', () => {
    const jobs = [scheduled('j0'), ...Array.from({ length: 20_000 }, (_, i) => dependent(`j${i + 1}`, [`j${i}`]))];
    const graph = JobGraph.of(jobs);
    assert.throws(() => graph.checkPut(dependent('j0', ['j20000'])), invalid(/^dependency cycle: j0 → j1 → .* → j20000 → j0$/));
    assert.equal(graph.topologicalOrder().length, 20_001);
  });
});

describe("batch jobs: deleting a parent follows Chronos's rule", () => {
  it('a child of a deleted dependent job takes its parents (diamond: deleting B)', () => {
    const graph = diamond();
    const plan = graph.remove('B');
    assert.equal(plan.removed, 'B');
    assert.deepEqual(
      plan.children.map((c) => [c.name, c.change, c.summary]),
      [['D', 'reparented', '"D" now runs after "A", "C" (was "B", "C")']],
    );
    assert.deepEqual(plan.children[0]!.definition.source.parents, ['A', 'C']);
    assert.deepEqual(graph.parents('D'), ['A', 'C']);
    assert.deepEqual(graph.children('A'), ['C', 'D']);
    assert.deepEqual(graph.topologicalOrder(), ['A', 'C', 'D']);
  });

  it('a child whose only parent was a scheduled job takes its schedule, as written, and its zone', () => {
    const graph = JobGraph.of([
      scheduled('parent', { schedule: 'R5/2026-03-01T02:30:00/P1D', scheduleTimeZone: 'America/New_York' }),
      dependent('child', ['parent'], { epsilon: 'PT5M', triggerRule: 'all_done' }),
    ]);
    const plan = graph.remove('parent');
    const [change] = plan.children;
    assert.equal(change!.change, 'scheduled');
    assert.equal(change!.summary, '"child" had no other parent and now runs on "parent"\'s schedule "R5/2026-03-01T02:30:00/P1D" in America/New_York');
    const { source } = change!.definition;
    assert.equal(source.schedule, 'R5/2026-03-01T02:30:00/P1D');
    assert.equal(source.scheduleTimeZone, 'America/New_York');
    assert.equal('parents' in source, false);
    assert.equal(source.epsilon, 'PT5M', "the child's own fields stay");
    assert.equal(graph.get('child')!.timing.kind, 'scheduled');
    assert.deepEqual(graph.names(), ['child']);
  });

  it("an empty ISO start inherited from a deleted parent counts from the child's definition time", () => {
    const parent = parseJobDefinition({ name: 'p', command: 'x', schedule: 'R//PT1H' }, { definedAt: new Date('2026-01-01T00:00:00Z') });
    const childDefinedAt = new Date('2026-01-05T12:00:00Z');
    const child = parseJobDefinition({ name: 'c', command: 'y', parents: ['p'] }, { definedAt: childDefinedAt });
    const [change] = JobGraph.of([parent, child]).remove('p').children;
    const { timing } = change!.definition;
    assert.equal(change!.definition.source.schedule, 'R//PT1H');
    assert.deepEqual(timing.kind === 'scheduled' && timing.schedule.kind === 'iso8601' && timing.schedule.start, childDefinedAt);
  });

  it('a child of a deleted cron job takes the cron', () => {
    const graph = JobGraph.of([scheduled('p', { schedule: undefined, cron: '0 3 * * *' }), dependent('c', ['p'])]);
    const [change] = graph.remove('p').children;
    assert.equal(change!.definition.source.cron, '0 3 * * *');
    assert.equal('schedule' in change!.definition.source, false);
  });

  it('a child with another parent keeps it and only loses the deleted scheduled job', () => {
    const graph = JobGraph.of([scheduled('A'), scheduled('E'), dependent('F', ['A', 'E'])]);
    const [change] = graph.remove('A').children;
    assert.equal(change!.change, 'reparented');
    assert.deepEqual(graph.parents('F'), ['E']);
    assert.deepEqual(graph.children('E'), ['F']);
  });

  it('deleting a job without children changes nothing else; planning changes nothing at all', () => {
    const graph = diamond();
    assert.deepEqual(graph.planRemoval('B').children.map((c) => c.name), ['D']);
    assert.deepEqual(graph.parents('D'), ['B', 'C'], 'a plan is not applied');
    assert.deepEqual(graph.remove('D').children, []);
    assert.deepEqual(graph.children('B'), []);
  });
});

describe("batch jobs: the graph in Chronos's formats", () => {
  it('writes DOT as jgrapht does for Chronos', () => {
    assert.equal(
      diamond().toDot(),
      [
        'digraph G {',
        '  1 [ label="A" ];',
        '  2 [ label="B" ];',
        '  3 [ label="C" ];',
        '  4 [ label="D" ];',
        '  1 -> 2;',
        '  1 -> 3;',
        '  2 -> 4;',
        '  3 -> 4;',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('writes CSV with each job\'s last and current state, then the links', () => {
    const status = new Map([
      ['A', { lastState: 'success', currentState: 'idle' }],
      ['B', { lastState: 'failure', currentState: 'running' }],
      ['C', { lastState: 'success', currentState: 'queued' }],
    ] as const);
    assert.equal(
      diamond().toCsv((name) => status.get(name as 'A')),
      'node,A,success,idle\nnode,B,failure,running\nnode,C,success,queued\nnode,D,fresh,idle\n'
        + 'link,A,B\nlink,A,C\nlink,B,D\nlink,C,D\n',
    );
  });

  const states: Array<[string | null, string | null, string]> = [
    [null, null, 'fresh'],
    [null, '2026-01-01T00:00:00Z', 'failure'],
    ['2026-01-01T00:00:00Z', null, 'success'],
    ['2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z', 'success'],
    ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'failure'],
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'failure'],
  ];
  for (const [success, error, expected] of states) {
    it(`last state with success ${success} and error ${error} is ${expected}`, () => {
      assert.equal(lastStateOf(success === null ? null : new Date(success), error === null ? null : new Date(error)), expected);
    });
  }
});
