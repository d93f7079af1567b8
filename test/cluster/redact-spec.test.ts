import assert from 'node:assert/strict';
import { newQueuedTask } from '../../src/cluster/new-task.ts';
import { redactedTask } from '../../src/cluster/redacted-task.ts';
import { parseTaskSpec, REDACT_LIMITS } from '../../src/cluster/task-spec.ts';
import { MASK } from '../../src/shared/redactor.ts';

describe('TaskSpec.redact: values the pool masks', () => {
  describe('validation', () => {
    it('keeps the values, once each; no list means no field', () => {
      assert.deepEqual(parseTaskSpec({ cmd: 'true', redact: ['a1', 'b2', 'a1'] }, 'user:x').redact, ['a1', 'b2']);
      assert.equal('redact' in parseTaskSpec({ cmd: 'true' }, 'user:x'), false);
      assert.equal('redact' in parseTaskSpec({ cmd: 'true', redact: [] }, 'user:x'), false);
    });

    const bad: Array<[string, unknown, RegExp]> = [
      ['an empty value', [''], /redact\.0: a value to redact must have a character other than whitespace/],
      ['a value of only whitespace', [' \n\t'], /redact\.0: .*whitespace/],
      ['a value that is not a string', [42], /redact\.0/],
      ['not a list', 'secret', /redact/],
      ['too many values', Array.from({ length: REDACT_LIMITS.values + 1 }, (_, i) => `v${i}`), /redact/],
      ['a value too big', ['x'.repeat(REDACT_LIMITS.valueBytes + 1)], /at most 16384 bytes/],
      ['too much together', Array.from({ length: 5 }, (_, i) => `${i}`.repeat(REDACT_LIMITS.valueBytes)), /at most 65536 bytes together/],
    ];
    for (const [what, redact, message] of bad) {
      it(`refuses ${what}`, () => assert.throws(() => parseTaskSpec({ cmd: 'true', redact }, 'user:x'), message));
    }
  });

  describe('tasks as clients see them', () => {
    const key = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END KEY-----';
    const spec = parseTaskSpec(
      {
        cmd: 'deploy --token s3cr3t-value',
        env: { TOKEN: 's3cr3t-value', URL: 'https://u:s3cr3t-value@host', KEY: key, PLAIN: 'hello' },
        redact: ['s3cr3t-value', key],
      },
      'ci:r-1:build',
    );
    const shown = redactedTask(newQueuedTask(spec, new Date('2026-11-24T00:00:00Z'), 't-1'));

    it('never carries the list of values', () => assert.equal('redact' in shown.spec, false));
    it('masks env values equal to a value, and values inside env values', () => {
      assert.deepEqual(shown.spec.env, { TOKEN: MASK, URL: `https://u:${MASK}@host`, KEY: MASK, PLAIN: 'hello' });
    });
    it('masks the command and the name made from it', () => {
      assert.equal(shown.spec.cmd, `deploy --token ${MASK}`);
      assert.equal(shown.spec.name, `deploy --token ${MASK}`);
    });
    it('leaves the stored record alone (the agent needs the values)', () => {
      assert.equal(spec.env.TOKEN, 's3cr3t-value');
      assert.deepEqual(spec.redact, ['s3cr3t-value', key]);
      assert.ok(!JSON.stringify(shown).includes('s3cr3t-value'));
      assert.ok(!JSON.stringify(shown).includes('MIIEvQIBADANBgkqhkiG9w0BAQEF'));
    });
    it('a task without values is shown as it is', () => {
      const plain = newQueuedTask(parseTaskSpec({ args: ['echo', 'hi'], env: { A: 'b' } }, 'user:x'), new Date(), 't-2');
      assert.deepEqual(redactedTask(plain), plain);
    });
  });
});
