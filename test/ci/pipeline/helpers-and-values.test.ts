// The small pieces: did-you-mean, glob checks, secret names and concurrency groups.
import assert from 'node:assert/strict';
import { concurrencyGroupFor, secretNames } from '../../../src/ci/pipeline/index.ts';
import { closest, editDistance } from '../../../src/shared/validation/did-you-mean.ts';
import { globProblem } from '../../../src/ci/pipeline/globs.ts';
import { lines, ONE_STEP, parse } from './helpers.ts';

describe('ci pipeline: did you mean', () => {
  const distances: Array<[string, string, number]> = [['test', 'test', 0], ['tset', 'test', 1], ['comands', 'commands', 1], ['depens_on', 'depends_on', 1], ['abc', 'xyz', 3], ['', 'ab', 2]];
  for (const [a, b, d] of distances) it(`${a || '""'} → ${b}: ${d}`, () => assert.equal(editDistance(a, b), d));

  it('suggests only close words', () => {
    assert.equal(closest('tset', ['build', 'test']), 'test');
    assert.equal(closest('Commands', ['commands']), 'commands');
    assert.equal(closest('colour', ['name', 'steps', 'env']), null);
    assert.equal(closest('x', ['y']), 'y');
  });
});

describe('ci pipeline: glob checks', () => {
  const accepted: Array<[string, 'branch' | 'tag' | 'path']> = [['main', 'branch'], ['release/**', 'branch'], ['v[0-9]*', 'tag'], ['{src,lib}/**/*.ts', 'path'], ['.github/**', 'path']];
  for (const [glob, kind] of accepted) it(`accepts ${kind} glob ${glob}`, () => assert.equal(globProblem(glob, kind), null));

  const refused: Array<[string, 'branch' | 'tag' | 'path', RegExp]> = [
    ['', 'path', /cannot be empty/],
    ['!main', 'branch', /negated globs/],
    ['/src/**', 'path', /relative to the repository root/],
    ['refs/tags/v1', 'tag', /without "refs\/tags\/" \(e\.g\. "v1"\)/],
    ['src/{a,b', 'path', /not a valid glob: Missing closing: "}"/],
    ['[z-a]', 'branch', /can never match/],
  ];
  for (const [glob, kind, message] of refused) it(`refuses ${kind} glob "${glob}"`, () => assert.match(globProblem(glob, kind) ?? '', message));
});

describe('ci pipeline: values for a run', () => {
  it('lists every secret once, sorted', () => {
    const pipeline = parse(lines('secrets:', '  B: {from_secret: zeta}', 'steps:', '  - name: a', '    commands: [x]', '    env: {A: {from_secret: alpha}, C: {from_secret: zeta}}', '  - name: b', '    commands: [x]'));
    assert.deepEqual(secretNames(pipeline), ['alpha', 'zeta']);
    assert.deepEqual(secretNames(parse(lines(...ONE_STEP))), []);
  });

  it('fills in the concurrency group', () => {
    const pipeline = parse(lines('name: web', 'concurrency:', '  group: ${repository}:${pipeline}:${branch}', ...ONE_STEP));
    assert.equal(concurrencyGroupFor(pipeline, { repository: 'acme/web', ref: 'feature/x' }), 'acme/web:web:feature/x');
    assert.equal(concurrencyGroupFor(parse(lines('name: web', 'concurrency: {}', ...ONE_STEP)), { repository: 'acme/web', ref: 'main' }), 'acme/web/web');
    assert.equal(concurrencyGroupFor(parse(lines(...ONE_STEP)), { repository: 'acme/web', ref: 'main' }), null);
  });
});
