// Shared by the pipeline tests: YAML written as one string per line (so the expected line numbers can
// be counted), and the problems a rejected file reports.
import assert from 'node:assert/strict';
import { Invalid } from '../../../src/shared/errors.ts';
import { parsePipeline, type Pipeline, type PipelineProblem } from '../../../src/ci/pipeline/index.ts';

export const lines = (...rows: string[]): string => `${rows.join('\n')}\n`;

/** A minimal valid file body: one step. */
export const ONE_STEP = ['steps:', '  - name: build', '    commands: [make]'];

export function parse(text: string, options: { requireRepository?: boolean } = {}): Pipeline {
  return parsePipeline(text, '.gantry.yml', options);
}

/** The message lines of a rejected file; fails the test if the file is accepted. */
export function problemsOf(text: string, file = '.gantry.yml', options: { requireRepository?: boolean } = {}): string[] {
  try {
    parsePipeline(text, file, options);
  } catch (error) {
    assert.ok(error instanceof Invalid, `expected Invalid, got ${String(error)}`);
    const { problems } = error.details as { problems: PipelineProblem[] };
    const messageLines = error.message.split('\n');
    // The message and details say the same thing, problem for problem.
    assert.deepEqual(messageLines, problems.map((p) => `${p.file}:${p.line}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`));
    return messageLines;
  }
  assert.fail('expected the pipeline to be rejected');
}
