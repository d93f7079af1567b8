// The data directory's modes at start: closed to the tasks on the server's host but for what they must
// reach through it (the agent's work dir, and the passage to the CI mirrors).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { restrictDataDir } from '../../src/shared/data-dir-modes.ts';
import { tempDir } from '../helpers/processes.ts';

const SERVER_ONLY = ['logs', 'registry', 'secrets', 'ci'];

describe('data directory modes', () => {
  const dir = tempDir('data-dir-modes');
  const mode = (...parts: string[]) => statSync(path.join(dir, ...parts)).mode & 0o7777;

  before(() => {
    // As an earlier version or a lax umask left it.
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'gantry.sqlite'), '', { mode: 0o644 });
    mkdirSync(path.join(dir, 'agent'), { mode: 0o711 });
    chmodSync(path.join(dir, 'agent'), 0o711);
    mkdirSync(path.join(dir, 'ci', 'mirrors', 'abc.git'), { recursive: true });
    for (const part of [['ci'], ['ci', 'mirrors'], ['ci', 'mirrors', 'abc.git']]) chmodSync(path.join(dir, ...part), 0o755);
    mkdirSync(path.join(dir, 'ci', 'scratch'));
    chmodSync(path.join(dir, 'ci', 'scratch'), 0o755);
    writeFileSync(path.join(dir, 'ci', 'notes'), 'x', { mode: 0o644 });
    chmodSync(path.join(dir, 'ci', 'notes'), 0o644);
  });

  it('opens a passage to the mirrors (0711) when tasks run here, and closes everything else in the way', async () => {
    await restrictDataDir(dir, { reachable: ['agent'], serverOnly: SERVER_ONLY, passage: ['ci', 'mirrors'] });
    assert.equal(mode(), 0o711);
    assert.equal(mode('ci'), 0o711);
    assert.equal(mode('ci', 'mirrors'), 0o711);
    assert.equal(mode('ci', 'mirrors', 'abc.git'), 0o755, 'a mirror is left as git made it');
    assert.equal(mode('ci', 'scratch'), 0o700, 'anything else under ci/ is the server\'s alone');
    assert.equal(mode('ci', 'notes'), 0o600);
    assert.equal(mode('agent'), 0o711, 'the agent\'s work dir is left as it is');
    assert.equal(mode('gantry.sqlite'), 0o600);
    for (const name of ['logs', 'registry', 'secrets']) assert.equal(mode(name), 0o700, `${name} made closed`);
  });

  it('makes the passage when it is missing', async () => {
    const fresh = tempDir('data-dir-modes-fresh');
    await restrictDataDir(fresh, { reachable: ['agent'], serverOnly: SERVER_ONLY, passage: ['ci', 'mirrors'] });
    assert.equal(statSync(path.join(fresh, 'ci')).mode & 0o7777, 0o711);
    assert.equal(statSync(path.join(fresh, 'ci', 'mirrors')).mode & 0o7777, 0o711);
  });

  it('closes ci/ again when no task runs here any more', async () => {
    await restrictDataDir(dir, { reachable: [], serverOnly: SERVER_ONLY });
    assert.equal(mode(), 0o700);
    assert.equal(mode('ci'), 0o700);
    assert.equal(mode('agent'), 0o700);
  });
});
