// The Go suite's spec vocabulary over mocha: `spec` is g.Specify, and the guards SkipIfDisabled,
// RunOnlyIf and RunOnlyIfNot skip the running spec (mocha shows it as pending) instead of failing it.
// Warn prints what the Go suite prints for optional features a registry does not have.
import type { Workflow } from './config.ts';
import type { ConformanceSuite } from './suite.ts';

class SkipSpec extends Error {}

/** A spec; its body may skip itself through the guards below. */
export function spec(title: string, body: () => Promise<void> | void): void {
  it(title, async function () {
    try {
      await body();
    } catch (err) {
      if (err instanceof SkipSpec) this.skip();
      throw err;
    }
  });
}

export function skipIfDisabled(suite: ConformanceSuite, workflow: Workflow): void {
  if (!suite.config.workflows.has(workflow)) throw new SkipSpec(`the ${workflow} workflow is not enabled`);
}

export function runOnlyIf(condition: boolean): void {
  if (!condition) throw new SkipSpec('you have skipped this test.');
}

export function runOnlyIfNot(condition: boolean): void {
  if (condition) throw new SkipSpec('you have skipped this test.');
}

export function warn(message: string): void {
  process.stderr.write(`\n      WARNING: ${message}\n`);
}
