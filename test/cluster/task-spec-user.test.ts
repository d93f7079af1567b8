// TaskSpec.user as a submission gives it: a user name, checked like the other fields.
import assert from 'node:assert/strict';
import { parseTaskSpec } from '../../src/cluster/task-spec.ts';

describe('task spec: user', () => {
  it('keeps a valid user name, and none when none is given', () => {
    assert.equal(parseTaskSpec({ cmd: 'id', user: 'ci-docker' }, 'user:test').user, 'ci-docker');
    assert.equal(parseTaskSpec({ cmd: 'id', user: '_svc.build' }, 'user:test').user, '_svc.build');
    assert.equal('user' in parseTaskSpec({ cmd: 'id' }, 'user:test'), false);
  });

  it('refuses what is not a user name, saying what one is', () => {
    for (const user of ['', 'two words', '-dash', '0day', 'a'.repeat(33), 'x;rm', 42]) {
      assert.throws(() => parseTaskSpec({ cmd: 'id', user }, 'user:test'), /invalid task: user: /, JSON.stringify(user));
    }
    assert.throws(() => parseTaskSpec({ cmd: 'id', user: 'a b' }, 'user:test'), /a user name is letters, digits, \. _ - \(at most 32\), starting with a letter or _/);
  });

  it('refuses a user on a pull-only task, which runs nothing', () => {
    assert.throws(() => parseTaskSpec({ image: 'busybox', pullOnly: true, user: 'ci' }, 'user:test'), /leave out "user"/);
  });
});
