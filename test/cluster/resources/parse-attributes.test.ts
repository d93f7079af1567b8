import assert from 'node:assert/strict';
import { attributeText, formatAttributes, parseAttributes } from '../../../src/cluster/resources/parse.ts';
import type { AttributeValue, Attributes } from '../../../src/cluster/types.ts';
import { Invalid } from '../../../src/shared/errors.ts';

describe('parseAttributes', () => {
  const good: Array<[string, Attributes]> = [
    ['', {}],
    [
      'rack:abc;zone:west;os:centos5;level:10;keys:[1000-1500]',
      {
        rack: { kind: 'text', value: 'abc' },
        zone: { kind: 'text', value: 'west' },
        os: { kind: 'text', value: 'centos5' },
        level: { kind: 'scalar', value: 10 },
        keys: { kind: 'ranges', ranges: [[1000, 1500]] },
      },
    ],
    ['weight:1.5', { weight: { kind: 'scalar', value: 1.5 } }],
    ['offset:-3', { offset: { kind: 'scalar', value: -3 } }],
    ['disks:{ssd,hdd}', { disks: { kind: 'set', items: ['ssd', 'hdd'] } }],
    ['az:us-east-1a', { az: { kind: 'text', value: 'us-east-1a' } }],
    ['endpoint:host:8080', { endpoint: { kind: 'text', value: 'host:8080' } }],
    ['version:1.2.3', { version: { kind: 'text', value: '1.2.3' } }],
  ];
  for (const [text, expected] of good) {
    it(`parses ${JSON.stringify(text)}`, () => assert.deepEqual(parseAttributes(text), expected));
  }

  const bad: Array<[string, RegExp]> = [
    ['rack', /"rack": expected name:value/],
    [':abc', /the name is empty/],
    ['rack:', /the value is empty/],
    ['rack:a;rack:b', /"rack" is given twice/],
    ['rack:a b', /"a b" is not text/],
    ['rack:(x)', /"\(x\)" is not text/],
    ['keys:[9-1]', /reversed/],
    ['keys:{x,x}', /given twice/],
    ['ra ck:a', /"ra ck" is not a valid name/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseAttributes(text), (err: unknown) => err instanceof Invalid && message.test(err.message));
    });
  }

  it('round-trips through formatAttributes', () => {
    const text = 'rack:abc;zone:west;level:10;keys:[1000-1500];disks:{ssd,hdd}';
    assert.equal(formatAttributes(parseAttributes(text)), text);
  });

  const texts: Array<[AttributeValue, string]> = [
    [{ kind: 'text', value: 'r1' }, 'r1'],
    [{ kind: 'scalar', value: 10 }, '10'],
    [{ kind: 'scalar', value: 1.5 }, '1.5'],
    [{ kind: 'ranges', ranges: [[1000, 1500], [2000, 2000]] }, '[1000-1500,2000-2000]'],
    [{ kind: 'set', items: ['b', 'a'] }, '{a,b}'],
  ];
  for (const [value, text] of texts) {
    it(`attributeText(${JSON.stringify(value)}) is ${text}`, () => assert.equal(attributeText(value), text));
  }
});
