import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadRedactValues, pruneRedactValues, removeRedactValues, saveRedactValues } from '../../../src/cluster/agent/redact-values.ts';
import { tempDir } from '../../helpers/processes.ts';

describe('agent: the values to mask survive an agent restart', () => {
  it('saved at launch (owner-only), loaded on recovery, pruned when the task did not survive, removed at the end', async () => {
    const workDir = tempDir('redact-values');
    await saveRedactValues(workDir, 't-1', ['s3cret', 'line\nkey']);
    await saveRedactValues(workDir, 't-2', ['other']);
    await saveRedactValues(workDir, 't-3', []);
    assert.equal((await stat(path.join(workDir, 'redact', 't-1.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await loadRedactValues(workDir, 't-1'), ['s3cret', 'line\nkey']);
    assert.deepEqual(await loadRedactValues(workDir, 't-3'), [], 'nothing to mask: nothing written');
    await pruneRedactValues(workDir, new Set(['t-1']));
    assert.deepEqual(await readdir(path.join(workDir, 'redact')), ['t-1.json']);
    await removeRedactValues(workDir, 't-1');
    await removeRedactValues(workDir, 't-1');
    assert.deepEqual(await readdir(path.join(workDir, 'redact')), []);
    await assert.rejects(saveRedactValues(workDir, '../escape', ['x']), /unsafe task id/);
  });
});
