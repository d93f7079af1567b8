import assert from 'node:assert/strict';
import { formatConstraint } from '../../../src/cluster/resources/parse-constraint.ts';
import { parseConstraint, parseConstraintArray } from '../../../src/cluster/resources/parse.ts';
import type { Constraint } from '../../../src/cluster/types.ts';
import { Invalid } from '../../../src/shared/errors.ts';

describe('parseConstraint (CLI form field:OPERATOR[:value])', () => {
  const good: Array<[string, Constraint]> = [
    ['hostname:UNIQUE', { field: 'hostname', operator: 'UNIQUE' }],
    ['hostname:unique', { field: 'hostname', operator: 'UNIQUE' }],
    ['rack:CLUSTER', { field: 'rack', operator: 'CLUSTER' }],
    ['rack:CLUSTER:r1', { field: 'rack', operator: 'CLUSTER', value: 'r1' }],
    ['rack:CLUSTER:', { field: 'rack', operator: 'CLUSTER' }],
    ['rack:GROUP_BY', { field: 'rack', operator: 'GROUP_BY' }],
    ['rack:GROUP_BY:3', { field: 'rack', operator: 'GROUP_BY', value: '3' }],
    ['os:LIKE:centos[0-9]', { field: 'os', operator: 'LIKE', value: 'centos[0-9]' }],
    ['endpoint:LIKE:host:80.*', { field: 'endpoint', operator: 'LIKE', value: 'host:80.*' }],
    ['hostname:UNLIKE:db-.*', { field: 'hostname', operator: 'UNLIKE', value: 'db-.*' }],
    ['rack:MAX_PER:2', { field: 'rack', operator: 'MAX_PER', value: '2' }],
    ['zone:IS:west', { field: 'zone', operator: 'IS', value: 'west' }],
    [' zone : IS:west', { field: 'zone', operator: 'IS', value: 'west' }],
  ];
  for (const [text, expected] of good) {
    it(`parses ${JSON.stringify(text)}`, () => assert.deepEqual(parseConstraint(text), expected));
  }

  const bad: Array<[string, RegExp]> = [
    ['hostname', /expected field:OPERATOR\[:value\]/],
    [':UNIQUE', /the field is empty/],
    ["hostname:SOLO", /unknown operator "SOLO" \(valid: UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS, WITH, WITHOUT\)/],
    ['hostname:', /unknown operator ""/],
    ['hostname:UNIQUE:x', /UNIQUE takes no value \(got "x"\)/],
    ['rack:LIKE', /LIKE needs a value/],
    ['rack:UNLIKE:', /UNLIKE needs a value/],
    ['rack:LIKE:[a-', /"\[a-" is not a valid regular expression/],
    ['rack:IS', /IS needs a value/],
    ['hostname:WITH', /WITH needs a value: the task group to place with or away from, e.g. hostname:WITH:app:\/prod\/db/],
    ['rack:MAX_PER', /MAX_PER needs a value/],
    ['rack:MAX_PER:0', /positive integer \(got "0"\)/],
    ['rack:MAX_PER:1.5', /positive integer \(got "1.5"\)/],
    ['rack:GROUP_BY:-1', /positive integer count of groups \(got "-1"\)/],
    ['rack:GROUP_BY:two', /got "two"/],
    ['ra ck:UNIQUE', /"ra ck" is not hostname or an attribute name/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseConstraint(text), (err: unknown) => err instanceof Invalid && message.test(err.message));
    });
  }
});

describe('parseConstraintArray (Marathon JSON form)', () => {
  const good: Array<[unknown[], Constraint]> = [
    [['hostname', 'UNIQUE'], { field: 'hostname', operator: 'UNIQUE' }],
    [['rack', 'GROUP_BY', '3'], { field: 'rack', operator: 'GROUP_BY', value: '3' }],
    [['os', 'LIKE', 'a:b'], { field: 'os', operator: 'LIKE', value: 'a:b' }],
  ];
  for (const [parts, expected] of good) {
    it(`parses ${JSON.stringify(parts)}`, () => assert.deepEqual(parseConstraintArray(parts), expected));
  }
  const bad: Array<[unknown[], RegExp]> = [
    [['hostname'], /expected \[field, OPERATOR\]/],
    [['a', 'IS', 'b', 'c'], /expected \[field, OPERATOR\]/],
    [['rack', 'MAX_PER', 2], /\(strings\)/],
    [['rack', 'NEAR', 'x'], /unknown operator "NEAR"/],
    [['hostname', 'UNIQUE', 'x'], /UNIQUE takes no value/],
  ];
  for (const [parts, message] of bad) {
    it(`rejects ${JSON.stringify(parts)}`, () => {
      assert.throws(() => parseConstraintArray(parts), (err: unknown) => err instanceof Invalid && message.test(err.message));
    });
  }

  it('formats constraints the way they are written', () => {
    assert.equal(formatConstraint(parseConstraint('rack:GROUP_BY:3')), 'rack:GROUP_BY:3');
    assert.equal(formatConstraint(parseConstraintArray(['hostname', 'UNIQUE'])), 'hostname:UNIQUE');
  });
});
