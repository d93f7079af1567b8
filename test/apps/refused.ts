// The problems of a refused definition by Marathon path, as /v2 clients read them; fails when nothing is refused.
import assert from 'node:assert/strict';
import { AppDefinitionInvalid } from '../../src/apps/index.ts';

export function refused(fn: () => unknown): Record<string, string[]> {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppDefinitionInvalid, `expected AppDefinitionInvalid, got ${String(err)}`);
    return Object.fromEntries(err.problems.map((p) => [p.path, p.errors]));
  }
  assert.fail('expected the definition to be refused');
}
