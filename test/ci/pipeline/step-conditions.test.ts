// stepRunsWhen: a step's `when` against the run so far, with Woodpecker's status rules.
import assert from 'node:assert/strict';
import { stepRunsWhen, type StepContext } from '../../../src/ci/pipeline/index.ts';
import { lines, parse } from './helpers.ts';

const stepWith = (...when: string[]) =>
  parse(lines('steps:', '  - name: s', '    commands: [x]', ...(when.length > 0 ? ['    when:', ...when.map((l) => `      ${l}`)] : []))).steps[0]!;

const push = (branch: string, extra: Partial<StepContext> = {}): StepContext => ({ branch, tag: null, event: 'push', changedPaths: null, failedSoFar: false, ...extra });
const tagPush = (tag: string, extra: Partial<StepContext> = {}): StepContext => ({ branch: null, tag, event: 'tag', changedPaths: null, failedSoFar: false, ...extra });
const failed = { failedSoFar: true };

type Row = [when: string[], context: StepContext, runs: boolean];

const rows: Row[] = [
  // status: default = only after success; failure = only after a failure; both = always
  [[], push('main'), true],
  [[], push('main', failed), false],
  [['status: failure'], push('main'), false],
  [['status: failure'], push('main', failed), true],
  [['status: [success, failure]'], push('main'), true],
  [['status: [success, failure]'], push('main', failed), true],
  [['status: success'], push('main', failed), false],
  // a condition without status keeps the default, even when other fields match
  [['branch: main'], push('main', failed), false],
  // branch
  [['branch: main'], push('main'), true],
  [['branch: main'], push('dev'), false],
  [['branch: ["release/**"]'], push('release/1/hotfix'), true],
  [['branch: {exclude: [main]}'], push('main'), false],
  // branch is not applied to tag events (Woodpecker)
  [['branch: main'], tagPush('v1'), true],
  // a push without a known branch does not match a branch condition
  [['branch: main'], { branch: null, tag: null, event: 'manual', changedPaths: null, failedSoFar: false }, false],
  // event
  [['event: tag'], tagPush('v1'), true],
  [['event: tag'], push('main'), false],
  [['event: [push, manual]'], push('main', { event: 'manual' }), true],
  // path: push events with known changed paths only
  [['path: src/**'], push('main', { changedPaths: ['src/a.ts'] }), true],
  [['path: src/**'], push('main', { changedPaths: ['docs/a.md'] }), false],
  [['path: {include: ["**"], exclude: ["docs/**"]}'], push('main', { changedPaths: ['docs/a.md'] }), false],
  [['path: src/**'], push('main', { changedPaths: null }), true],
  [['path: src/**'], push('main', { changedPaths: [] }), true],
  [['path: src/**'], tagPush('v1'), true],
  [['path: src/**'], push('main', { event: 'manual', changedPaths: ['docs/a.md'] }), true],
  // all fields of one condition must hold
  [['branch: main', 'event: push', 'status: [success, failure]'], push('main', failed), true],
  [['branch: main', 'event: tag'], push('main'), false],
  // a list: any condition
  [['- branch: main', '- event: tag'], push('dev'), false],
  [['- branch: main', '- event: tag'], tagPush('v1'), true],
  [['- branch: main', '- status: failure'], push('dev', failed), true],
];

describe('ci pipeline: when a step runs', () => {
  for (const [when, context, runs] of rows) {
    const situation = `${context.event} ${context.branch ?? context.tag ?? '(no ref)'}${context.changedPaths ? ` [${context.changedPaths.join(', ')}]` : ''}${context.failedSoFar ? ' after a failure' : ''}`;
    it(`${when.length === 0 ? 'no when' : when.join('; ')}: ${situation} → ${runs ? 'runs' : 'skipped'}`, () => {
      assert.equal(stepRunsWhen(stepWith(...when), context), runs);
    });
  }
});
