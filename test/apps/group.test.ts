import assert from 'node:assert/strict';
import {
  AppDefinitionInvalid,
  checkAppDependencies,
  groupStartOrder,
  groupStopOrder,
  parseAppDefinition,
  parseGroupDefinition,
  startOrder,
  stopOrder,
  type GroupParseOptions,
} from '../../src/apps/index.ts';
import { appsCreate } from './marathon-apps.ts';
import { refused } from './refused.ts';

const group = (json: object, options?: GroupParseOptions) => parseGroupDefinition(json, options);

/** A shop: a database, a cache group reading it, and a web front waiting for both. */
const shop = {
  id: '/shop',
  apps: [
    { id: 'db', cmd: 'postgres' },
    { id: 'web', cmd: 'serve', dependencies: ['db', 'cache'] },
  ],
  groups: [
    {
      id: 'cache',
      dependencies: ['../db'],
      apps: [
        { id: 'redis', cmd: 'redis-server' },
        { id: '/shop/cache/warmer', cmd: 'warm', dependencies: ['redis'] },
      ],
    },
  ],
};

describe('apps: groups', () => {
  it('reads a tree with absolute ids, relative ones resolved against their group', () => {
    const tree = group(shop);
    assert.equal(tree.id, '/shop');
    assert.deepEqual(tree.apps.map((a) => a.id), ['/shop/db', '/shop/web']);
    assert.equal(tree.groups[0]?.id, '/shop/cache');
    assert.deepEqual(tree.groups[0]?.apps.map((a) => a.id), ['/shop/cache/redis', '/shop/cache/warmer']);
    assert.deepEqual(tree.groups[0]?.dependencies, ['/shop/db']);
    assert.deepEqual(tree.apps[1]?.dependencies, ['/shop/db', '/shop/cache']);
    assert.deepEqual(tree.groups[0]?.apps[1]?.dependencies, ['/shop/cache/redis']);
  });

  it('starts dependencies first, in waves that start together (a group dependency counts for all its apps), and stops in reverse', () => {
    const tree = group(shop);
    assert.deepEqual(groupStartOrder(tree), [['/shop/db'], ['/shop/cache/redis'], ['/shop/cache/warmer'], ['/shop/web']]);
    assert.deepEqual(groupStopOrder(tree), [['/shop/web'], ['/shop/cache/warmer'], ['/shop/cache/redis'], ['/shop/db']]);
  });

  it('starts apps that do not depend on each other in the same wave, in the order written', () => {
    const tree = group({ id: '/g', apps: [{ id: 'b', cmd: 'x' }, { id: 'a', cmd: 'x' }, { id: 'c', cmd: 'x', dependencies: ['a', 'b'] }] });
    assert.deepEqual(groupStartOrder(tree), [['/g/b', '/g/a'], ['/g/c']]);
  });

  it('names a dependency cycle, on the first app of it', () => {
    const problems = refused(() =>
      group({ id: '/g', apps: [{ id: 'a', cmd: 'x', dependencies: ['b'] }, { id: 'b', cmd: 'x', dependencies: ['c'] }, { id: 'c', cmd: 'x', dependencies: ['a'] }] }),
    );
    assert.deepEqual(problems, { '/apps(0)/dependencies': ['dependency cycle: /g/a → /g/b → /g/c → /g/a'] });
  });

  it('finds a cycle through group dependencies, and an app waiting for the group that holds it', () => {
    const problems = refused(() => group({ id: '/g', groups: [{ id: 'inner', dependencies: ['/g/front'], apps: [{ id: 'api', cmd: 'x' }] }], apps: [{ id: 'front', cmd: 'x', dependencies: ['inner'] }] }));
    assert.deepEqual(problems, { '/apps(0)/dependencies': ['dependency cycle: /g/front → /g/inner/api → /g/front'] });
    const itself = refused(() => group({ id: '/g', apps: [{ id: 'a', cmd: 'x', dependencies: ['/g'] }] }));
    assert.deepEqual(itself, { '/apps(0)/dependencies': ['dependency cycle: /g/a → /g/a'] });
  });

  it('refuses a dependency on nothing, and takes one on a deployed app or a group holding one', () => {
    const json = { id: '/g', apps: [{ id: 'web', cmd: 'x', dependencies: ['db', '/platform'] }] };
    const problems = refused(() => group(json));
    assert.deepEqual(problems['/apps(0)/dependencies(0)'], ['unknown app or group /g/db ("db" read in /g): not in this definition and not deployed']);
    assert.match(problems['/apps(0)/dependencies(1)']![0]!, /unknown app or group \/platform:/);
    const existingApps = [{ id: '/g/db', dependencies: [] }, { id: '/platform/auth', dependencies: [] }];
    assert.deepEqual(group(json, { existingApps }).apps[0]?.dependencies, ['/g/db', '/platform']);
  });

  it('refuses a cycle through deployed apps, and lets a redeployed app replace its old dependencies', () => {
    const json = { id: '/g', apps: [{ id: 'web', cmd: 'x', dependencies: ['/auth'] }] };
    const problems = refused(() => group(json, { existingApps: [{ id: '/auth', dependencies: ['/g/web'] }] }));
    assert.deepEqual(Object.values(problems), [['dependency cycle: /g/web → /auth → /g/web']]);
    const redeployed = group(json, { existingApps: [{ id: '/auth', dependencies: [] }, { id: '/g/web', dependencies: ['/nowhere'] }] });
    assert.equal(redeployed.apps.length, 1);
  });

  it('refuses an id used twice, by two apps or by an app and a group', () => {
    const problems = refused(() => group({ id: '/g', apps: [{ id: 'a', cmd: 'x' }, { id: '/g/a', cmd: 'y' }, { id: 'sub', cmd: 'z' }], groups: [{ id: 'sub' }] }));
    assert.match(problems['/apps(1)/id']![0]!, /duplicate id \/g\/a: an app at \/apps\(0\) has it/);
    assert.match(problems['/groups(0)/id']![0]!, /duplicate id \/g\/sub: an app at \/apps\(2\) has it/);
  });

  it('refuses apps and groups outside the group that lists them', () => {
    const problems = refused(() => group({ id: '/prod', apps: [{ id: '/staging/web', cmd: 'x' }, { id: 'db/mysql', cmd: 'y' }], groups: [{ id: '/other' }] }));
    assert.match(problems['/apps(0)/id']![0]!, /App has to be child of group with parent id: \/staging\/web is in \/staging, not \/prod/);
    assert.match(problems['/apps(1)/id']![0]!, /\/prod\/db\/mysql is in \/prod\/db, not \/prod/);
    assert.match(problems['/groups(0)/id']![0]!, /Group has to be child of groups with parent id/);
  });

  it('names the problems of an app inside the tree at their place in the posted JSON', () => {
    const problems = refused(() => group({ id: '/g', groups: [{ id: 'sub', apps: [{ id: 'x', cmd: 'a', instances: -1 }] }], pods: [{ id: 'p' }], version: '2015-09-17T10:38:20.875Z' }));
    assert.deepEqual(Object.keys(problems).sort(), ['/groups(0)/apps(0)/instances', '/pods']);
  });

  it('refuses a group without an id, and a nested one at the root', () => {
    assert.match(refused(() => group({ apps: [] }))['/id']![0]!, /required/);
    assert.match(refused(() => group({ id: '/a', groups: [{ id: '/' }] }))['/groups(0)/id']![0]!, /not directly in \/a/);
  });
});

describe('apps: apps posted on their own (/v2/apps) and their dependencies', () => {
  const [sleep60, sleep120] = appsCreate.map((json) => parseAppDefinition(json));

  it('refuses the documented apps_create.json while /other/namespace/or/app is not deployed, and takes it once it is', () => {
    assert.throws(() => checkAppDependencies([sleep60!, sleep120!]), (err: unknown) => {
      assert.ok(err instanceof AppDefinitionInvalid);
      assert.deepEqual(err.problems, [{ path: '/(0)/dependencies', errors: ['unknown app or group /other/namespace/or/app: not in this definition and not deployed'] }]);
      return true;
    });
    checkAppDependencies([sleep60!, sleep120!], [{ id: '/other/namespace/or/app', dependencies: [] }]);
  });

  it('starts sleep120 before the sleep60 that depends on it, and stops it after', () => {
    assert.deepEqual(startOrder([sleep60!, sleep120!]), [['/test/sleep120'], ['/test/sleep60']]);
    assert.deepEqual(stopOrder([sleep60!, sleep120!]), [['/test/sleep60'], ['/test/sleep120']]);
  });

  it('refuses to order apps in a cycle, naming it', () => {
    const a = { id: '/a', dependencies: ['/b'] };
    const b = { id: '/b', dependencies: ['/a'] };
    assert.throws(() => startOrder([a, b]), /dependency cycle: \/a → \/b → \/a/);
    assert.throws(() => checkAppDependencies([parseAppDefinition({ id: '/a', cmd: 'x', dependencies: ['/b'] })], [b]), /dependency cycle: \/a → \/b → \/a/);
  });
});
