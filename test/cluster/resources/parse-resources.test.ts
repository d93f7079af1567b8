import assert from 'node:assert/strict';
import { formatResources, parseResources } from '../../../src/cluster/resources/parse.ts';
import type { Resources } from '../../../src/cluster/types.ts';
import { Invalid } from '../../../src/shared/errors.ts';

const r = (partial: Partial<Resources>): Resources => ({ scalars: {}, ranges: {}, sets: {}, ...partial });

describe('parseResources', () => {
  const good: Array<[string, Resources]> = [
    ['', r({})],
    ['   ', r({})],
    ['cpus:24', r({ scalars: { cpus: 24 } })],
    ['cpus:0.5;mem:512', r({ scalars: { cpus: 0.5, mem: 512 } })],
    [
      'cpus:24;mem:24576;disk:409600;gpus:1;ports:[21000-24000,30000-34000];bugs(debug_role):{a,b,c}',
      r({
        scalars: { cpus: 24, mem: 24576, disk: 409600, gpus: 1 },
        ranges: { ports: [[21000, 24000], [30000, 34000]] },
        sets: { bugs: ['a', 'b', 'c'] },
        roles: { bugs: 'debug_role' },
      }),
    ],
    ['ports:[80]', r({ ranges: { ports: [[80, 80]] } })],
    ['ports:[80-80]', r({ ranges: { ports: [[80, 80]] } })],
    ['ports:[30000-34000,21000-24000]', r({ ranges: { ports: [[21000, 24000], [30000, 34000]] } })],
    ['ports:[1-5,6-10]', r({ ranges: { ports: [[1, 10]] } })],
    ['ports:[ 1 - 5 , 7 ]', r({ ranges: { ports: [[1, 5], [7, 7]] } })],
    ['ports:[]', r({ ranges: { ports: [] } })],
    ['cpus(*):4', r({ scalars: { cpus: 4 }, roles: { cpus: '*' } })],
    [' cpus : 4 ; mem : 8 ;', r({ scalars: { cpus: 4, mem: 8 } })],
    ['licenses:3;slots:[1-8]', r({ scalars: { licenses: 3 }, ranges: { slots: [[1, 8]] } })],
  ];
  for (const [text, expected] of good) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseResources(text), expected);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['cpus', /"cpus": expected name:value/],
    [':4', /":4": the name is empty/],
    ['(role):4', /the name is empty/],
    ['cpus:4;cpus:5', /"cpus" is given twice/],
    ['cpus:-1', /"cpus:-1": amounts cannot be negative/],
    ['cpus:abc', /"abc" is not a number/],
    ['cpus:1x', /"1x" is not a number/],
    ['cpus:', /"" is not a number/],
    ['mem:1e3', /"1e3" is not a number/],
    ['ports:[5-3]', /range "5-3" is reversed/],
    ['ports:[1-10,5-20]', /ranges "1-10" and "5-20" overlap/],
    ['ports:[1.5-3]', /"1.5-3" is not an integer range/],
    ['ports:[1-3', /does not end with "]"/],
    ['ports:[a-b]', /"a-b" is not an integer range/],
    ['ports:[1-70000]', /ports go up to 65535/],
    ['bugs:{a,,b}', /empty item/],
    ['bugs:{a,a}', /"a" is given twice/],
    ['bugs:{a,b', /does not end with "}"/],
    ['cp us:4', /"cp us" is not a valid name/],
    ['cpus(bad role):4', /"bad role" is not a valid role/],
    ['cpus(a)(b):4', /is not a name or name\(role\)/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseResources(text), (err: unknown) => err instanceof Invalid && message.test(err.message));
    });
  }

  const roundTrips = [
    'cpus:24;mem:24576;disk:409600;gpus:1;ports:[21000-24000,30000-34000];bugs(debug_role):{a,b,c}',
    'cpus:0.25;ports:[80-80]',
    'slots:[1-8];colors:{red}',
    '',
  ];
  for (const text of roundTrips) {
    it(`round-trips ${JSON.stringify(text)} through formatResources`, () => {
      const parsed = parseResources(text);
      assert.equal(formatResources(parsed), text);
      assert.deepEqual(parseResources(formatResources(parsed)), parsed);
    });
  }
});
