// Reading a registry's challenge (registry-auth.ts): the WWW-Authenticate forms registries write, the
// way the builder decides between the token flow and Basic.
import assert from 'node:assert/strict';
import { parseChallenge } from '../../../src/cluster/image-builder/registry-auth.ts';

describe('image builder registry challenge', () => {
  const table: Array<[string, ReturnType<typeof parseChallenge>]> = [
    [
      'Bearer realm="http://127.0.0.1:5000/token",service="gantry-registry",scope="repository:team/web:pull,push repository:team/base:pull"',
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:5000/token', service: 'gantry-registry', scope: 'repository:team/web:pull,push repository:team/base:pull' } },
    ],
    ['Basic realm="gantry registry"', { scheme: 'basic', params: { realm: 'gantry registry' } }],
    ['basic', { scheme: 'basic', params: {} }],
    ['Bearer realm=https://auth.example.com/token, service=registry.example.com', { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com' } }],
    ['Bearer realm="a \\"quoted\\", realm",Service="x"', { scheme: 'bearer', params: { realm: 'a "quoted", realm', service: 'x' } }],
    ['Bearer realm="r", Basic realm="b"', { scheme: 'bearer', params: { realm: 'r' } }],
    ['', null],
  ];
  for (const [header, expected] of table) {
    it(header || '(empty)', () => assert.deepEqual(parseChallenge(header), expected));
  }
});
