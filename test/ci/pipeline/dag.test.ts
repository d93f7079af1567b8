// Step order and dependents: plain lists in order, depends_on: [] in parallel, diamonds, cycles.
import assert from 'node:assert/strict';
import { stepDependents, stepOrder } from '../../../src/ci/pipeline/index.ts';
import { findCycles } from '../../../src/ci/pipeline/dag.ts';
import { lines, parse, problemsOf } from './helpers.ts';

/** `['a', 'b:a,c', 'c:']`: a step per entry; after the colon its depends_on (empty = `[]`). */
function pipelineOf(...steps: string[]) {
  return parse(lines('steps:', ...steps.flatMap((entry) => {
    const [name, deps] = entry.split(':') as [string, string | undefined];
    return [`  - name: ${name}`, '    commands: [x]', ...(deps === undefined ? [] : [`    depends_on: [${deps}]`])];
  })));
}

const dependsOn = (p: ReturnType<typeof pipelineOf>) => Object.fromEntries(p.steps.map((s) => [s.name, s.dependsOn]));

describe('ci pipeline: step graph', () => {
  it('a plain list runs in order, each step after the one before it', () => {
    const p = pipelineOf('a', 'b', 'c');
    assert.deepEqual(dependsOn(p), { a: [], b: ['a'], c: ['b'] });
    assert.deepEqual(stepOrder(p), ['a', 'b', 'c']);
  });

  it('depends_on: [] starts a step at once', () => {
    const p = pipelineOf('a', 'b:', 'c:');
    assert.deepEqual(dependsOn(p), { a: [], b: [], c: [] });
    assert.deepEqual(stepDependents(p, 'a'), []);
  });

  it('a step without depends_on after parallel ones waits for the one written just before it', () => {
    assert.deepEqual(dependsOn(pipelineOf('a', 'b:', 'c')), { a: [], b: [], c: ['b'] });
  });

  it('a diamond: fan out, fan in', () => {
    const p = pipelineOf('build', 'lint:build', 'test:build', 'publish:lint,test');
    assert.deepEqual(stepOrder(p), ['build', 'lint', 'test', 'publish']);
    assert.deepEqual(stepDependents(p, 'build'), ['lint', 'test']);
    assert.deepEqual(stepDependents(p, 'lint'), ['publish']);
    assert.deepEqual(stepDependents(p, 'build', { transitive: true }), ['lint', 'test', 'publish']);
    assert.deepEqual(stepDependents(p, 'publish'), []);
  });

  it('orders a step written before its dependency after it', () => {
    const p = pipelineOf('deploy:test', 'test:');
    assert.deepEqual(stepOrder(p), ['test', 'deploy']);
  });

  it('keeps file order among steps ready together', () => {
    assert.deepEqual(stepOrder(pipelineOf('z:', 'y:', 'x:')), ['z', 'y', 'x']);
  });

  it('ignores a dependency written twice', () => {
    assert.deepEqual(dependsOn(pipelineOf('a', 'b:a,a')).b, ['a']);
  });

  it('refuses the dependents of a step that does not exist', () => {
    assert.throws(() => stepDependents(pipelineOf('a'), 'nope'), /no step "nope"/);
  });

  it('reports a cycle with its path, on the depends_on that closes it', () => {
    const yaml = lines('steps:', '  - name: a', '    commands: [x]', '  - name: b', '    commands: [x]', '    depends_on: [c]', '  - name: c', '    commands: [x]');
    assert.deepEqual(problemsOf(yaml), ['.gantry.yml:6: steps[1].depends_on: dependency cycle: b → c → b']);
  });

  it('finds each cycle once', () => {
    assert.deepEqual(findCycles(['a', 'b', 'c', 'd'], [['b'], ['a'], ['d'], ['c']]), [['a', 'b', 'a'], ['c', 'd', 'c']]);
    assert.deepEqual(findCycles(['a', 'b'], [['b'], []]), []);
  });
});
