// Deployment plans and what each change asks of an app: Marathon's DeploymentPlanTest
// (src/test/scala/mesosphere/marathon/core/deployment/DeploymentPlanTest.scala) translated, each
// expected plan written as steps of "action appId" strings, plus Gantry's differences (stops in reverse
// dependency order, a new app as one start in its wave).
import assert from 'node:assert/strict';
import { appChange, changedFields, marathonActionName, planDeployment, plansConflict, type AppsState, type DeploymentPlan, type PlanOptions } from '../../../src/apps/deployments/index.ts';
import { parseAppDefinition, parseGroupDefinition, type AppDefinition } from '../../../src/apps/index.ts';

const app = (id: string, json: object = {}): AppDefinition => parseAppDefinition({ id, cmd: 'sleep 1000', ...json });

/** The plan as one line per step: `restart /a, scale /b 3`. */
function steps(before: AppsState, after: AppsState, options?: PlanOptions): string[] {
  return planDeployment(before, after, options).steps.map((step) =>
    step.actions.map((a) => [a.action, a.appId, ...('instances' in a ? [a.instances] : []), ...('killInstances' in a && a.killInstances.length > 0 ? [`kill=${a.killInstances.join(',')}`] : [])].join(' ')).join(', '),
  );
}

describe('apps: deployment plans (Marathon DeploymentPlan)', () => {
  it('partition a simple group\'s apps into concurrently deployable subsets: a, then b and c, then d', () => {
    const after = parseGroupDefinition({
      id: '/test',
      apps: [
        { id: 'c', cmd: 'sleep', dependencies: ['/test/database/a'] },
        { id: 'd', cmd: 'sleep', dependencies: ['/test/service/b'] },
      ],
      groups: [
        { id: 'database', apps: [{ id: 'a', cmd: 'sleep' }] },
        { id: 'service', apps: [{ id: 'b', cmd: 'sleep', dependencies: ['/test/database/a'] }] },
      ],
    });
    assert.deepEqual(steps([], after), ['start /test/database/a 1', 'start /test/c 1, start /test/service/b 1', 'start /test/d 1']);
  });

  it('partition a complex group\'s apps: d and e, then c, then b, then a (the longest dependency path decides)', () => {
    const after = [app('/a', { dependencies: ['/b', '/c'] }), app('/b', { dependencies: ['/c'] }), app('/c', { dependencies: ['/d'] }), app('/d'), app('/e')];
    assert.deepEqual(steps([], after), ['start /d 1, start /e 1', 'start /c 1', 'start /b 1', 'start /a 1']);
  });

  it('start from empty group: the new app starts with its instances', () => {
    assert.deepEqual(steps([], [app('/group/app', { instances: 2 })]), ['start /group/app 2']);
  });

  it('start from running group: the removed app stops first, then a restart, a scale and a start together', () => {
    const before = [app('/group/app', { cmd: 'sleep 10' }), app('/group/app2', { cmd: 'cmd2' }), app('/group/app3', { cmd: 'cmd3' })];
    const after = [app('/group/app', { cmd: 'sleep 30' }), app('/group/app2', { cmd: 'cmd2', instances: 10 }), app('/group/app4', { cmd: 'cmd4' })];
    assert.deepEqual(steps(before, after), ['stop /group/app3', 'restart /group/app 1, scale /group/app2 10, start /group/app4 1']);
  });

  it('can compute affected app ids, and two plans on one app conflict', () => {
    const before = [app('/group/app'), app('/group/app2'), app('/group/app3'), app('/group/unchanged', { cmd: 'unchanged' })];
    const after = [app('/group/app', { cmd: 'sleep 30' }), app('/group/app2', { instances: 10 }), app('/group/app4', { cmd: 'cmd4' }), app('/group/unchanged', { cmd: 'unchanged' })];
    const plan = planDeployment(before, after);
    assert.deepEqual([...plan.affectedAppIds].sort(), ['/group/app', '/group/app2', '/group/app3', '/group/app4']);
    assert.equal(plansConflict(plan, plan), true);
    assert.equal(plansConflict(plan, planDeployment(before, before)), false);
  });

  const strategy = { upgradeStrategy: { minimumHealthCapacity: 0.75 } };
  const mongo = ['/test/database/mongo', { ...strategy, cmd: 'mng1', instances: 4 }, { ...strategy, cmd: 'mng2', instances: 8 }] as const;

  it('when updating a group with dependencies, the correct order is computed: mongo, then the service now depending on it', () => {
    const before = [app(mongo[0], mongo[1]), app('/test/service/srv1', { ...strategy, cmd: 'srv1', instances: 4 })];
    const after = [app(mongo[0], mongo[2]), app('/test/service/srv1', { ...strategy, cmd: 'srv2', instances: 10, dependencies: [mongo[0]] })];
    assert.deepEqual(steps(before, after), ['restart /test/database/mongo 8', 'restart /test/service/srv1 10']);
  });

  it('when updating apps without dependencies, the restarts are executed in the same step', () => {
    const before = [app(mongo[0], mongo[1]), app('/test/service/srv1', { ...strategy, cmd: 'srv1', instances: 4 })];
    const after = [app(mongo[0], mongo[2]), app('/test/service/srv1', { ...strategy, cmd: 'srv2', instances: 10 })];
    assert.deepEqual(steps(before, after), ['restart /test/database/mongo 8, restart /test/service/srv1 10']);
  });

  it('when updating a group with dependent and independent applications, the correct order is computed', () => {
    const before = [
      app(mongo[0], mongo[1]),
      app('/test/service/srv1', { ...strategy, cmd: 'srv1', instances: 4 }),
      app('/test/service/to-stop', { dependencies: [mongo[0]] }),
      app('/test/independent/app', { ...strategy, cmd: 'app1' }),
    ];
    const after = [
      app(mongo[0], mongo[2]),
      app('/test/service/srv1', { ...strategy, cmd: 'srv2', instances: 10, dependencies: [mongo[0]] }),
      app('/test/service/to-start', { instances: 2, dependencies: ['/test/service/srv1'] }),
      app('/test/independent/app', { ...strategy, cmd: 'app2', instances: 3 }),
    ];
    // Marathon: [stop to-stop], [StartApplication to-start (0)], [restart mongo, independent], [restart srv1], [scale to-start 2].
    assert.deepEqual(steps(before, after), ['stop /test/service/to-stop', 'restart /test/database/mongo 8, restart /test/independent/app 3', 'restart /test/service/srv1 10', 'start /test/service/to-start 2']);
  });

  it('when the only action is to stop an application: one step', () => {
    assert.deepEqual(steps([app('/test/independent/app', { instances: 3 })], []), ['stop /test/independent/app']);
  });

  it('creates a plan when only args have changed (#765)', () => {
    const before = parseAppDefinition({ id: '/test', args: ['sleep', '5'] });
    const after = parseAppDefinition({ id: '/test', args: ['sleep', '6'] });
    assert.deepEqual(steps([before], [after]), ['restart /test 1']);
  });

  it('does not restart apps that have not changed (#1007)', () => {
    assert.deepEqual(planDeployment([app('/test')], [app('/test')]), { steps: [], affectedAppIds: [] } satisfies DeploymentPlan);
  });

  it('restarts apps that have not changed but were asked to restart (a new version)', () => {
    assert.deepEqual(steps([app('/test')], [app('/test')], { restart: ['/test'] }), ['restart /test 1']);
  });

  it('creates the ScaleApplication step with the instances to kill', () => {
    assert.deepEqual(steps([app('/a', { instances: 6 })], [app('/a', { instances: 5 })], { killInstances: { '/a': ['i-3'] } }), ['scale /a 5 kill=i-3']);
  });

  it('treats a definition change with a scale down to 0 instances as a scale', () => {
    assert.deepEqual(steps([app(mongo[0], mongo[1])], [app(mongo[0], { ...mongo[2], instances: 0 })]), ['scale /test/database/mongo 0']);
  });

  it('orders an app after an unchanged app it depends on: its wave counts the whole target', () => {
    const before = [app('/a', { dependencies: ['/b'] }), app('/b'), app('/c')];
    const after = [app('/a', { cmd: 'new', dependencies: ['/b'] }), app('/b'), app('/c', { cmd: 'new' })];
    assert.deepEqual(steps(before, after), ['restart /c 1', 'restart /a 1']);
  });

  describe('group trees', () => {
    const shop = (version: string) => ({
      id: '/shop',
      apps: [
        { id: 'db', cmd: 'postgres' },
        { id: 'web', cmd: `serve ${version}`, dependencies: ['db', 'cache'] },
      ],
      groups: [
        {
          id: 'cache',
          dependencies: ['../db'],
          apps: [
            { id: 'redis', cmd: `redis-server ${version}` },
            { id: 'warmer', cmd: 'warm', dependencies: ['redis'] },
          ],
        },
      ],
    });

    it('a group\'s dependencies count for its apps: redis restarts after db, web after the cache group', () => {
      const plan = steps(parseGroupDefinition(shop('1')), parseGroupDefinition(shop('2')));
      assert.deepEqual(plan, ['restart /shop/cache/redis 1', 'restart /shop/web 1']);
    });

    it('a whole tree starts in dependency order', () => {
      assert.deepEqual(steps([], parseGroupDefinition(shop('1'))), ['start /shop/db 1', 'start /shop/cache/redis 1', 'start /shop/cache/warmer 1', 'start /shop/web 1']);
    });

    it('removed apps stop in the reverse order, dependents first (Marathon stops them all in one step)', () => {
      assert.deepEqual(steps(parseGroupDefinition(shop('1')), []), ['stop /shop/web', 'stop /shop/cache/warmer', 'stop /shop/cache/redis', 'stop /shop/db']);
    });
  });

  it('names actions as Marathon\'s /v2/deployments does', () => {
    const plan = planDeployment([app('/old'), app('/scaled'), app('/changed')], [app('/new'), app('/scaled', { instances: 2 }), app('/changed', { cmd: 'x' })]);
    assert.deepEqual(plan.steps.flatMap((s) => s.actions.map(marathonActionName)), ['StopApplication', 'StartApplication', 'ScaleApplication', 'RestartApplication']);
  });
});

describe('apps: what a change asks of an app (Marathon isUpgrade / needsRestart)', () => {
  const base = { id: '/web', cmd: 'serve', instances: 3 };
  // [what changes, after, the change, the fields that differ]
  const table: Array<[string, object, string, string[]]> = [
    ['nothing', {}, 'none', []],
    ['the instance count only', { instances: 5 }, 'scale', []],
    ['the command', { cmd: 'serve --v2' }, 'restart', ['cmd']],
    ['labels only (they reach the tasks as MARATHON_APP_LABELS; Marathon restarts)', { labels: { tier: 'front' } }, 'restart', ['labels']],
    ['the upgrade strategy only (Marathon restarts)', { upgradeStrategy: { minimumHealthCapacity: 0.5 } }, 'restart', ['upgradeStrategy']],
    ['the kill selection only (Marathon restarts)', { killSelection: 'OLDEST_FIRST' }, 'restart', ['killSelection']],
    ['the command and the count', { cmd: 'serve --v2', instances: 5 }, 'restart', ['cmd']],
    ['the command, to 0 instances', { cmd: 'serve --v2', instances: 0 }, 'scale', ['cmd']],
    ['resources', { cpus: 2, mem: 512 }, 'restart', ['cpus', 'mem']],
  ];
  for (const [what, after, change, fields] of table) {
    it(`${what}: ${change}`, () => {
      const before = parseAppDefinition(base);
      const next = parseAppDefinition({ ...base, ...after });
      assert.equal(appChange(before, next), change);
      assert.deepEqual(changedFields(before, next), fields);
    });
  }

  it('reads the canonical definition: env keys and constraints in another order change nothing', () => {
    const before = parseAppDefinition({ ...base, env: { A: '1', B: '2' }, constraints: [['hostname', 'UNIQUE'], ['rack', 'GROUP_BY', '2']] });
    const after = parseAppDefinition({ ...base, env: { B: '2', A: '1' }, constraints: [['rack', 'GROUP_BY', '2'], ['hostname', 'UNIQUE']] });
    assert.equal(appChange(before, after), 'none');
  });

  it('reads the canonical definition: a deprecated spelling of the same ports changes nothing', () => {
    const before = parseAppDefinition({ ...base, ports: [0, 0] });
    const after = parseAppDefinition({ ...base, portDefinitions: [{ port: 0 }, { port: 0 }] });
    assert.notDeepEqual(before.source, after.source);
    assert.equal(appChange(before, after), 'none');
  });

  it('a new app starts, a removed one stops, a restart asked for restarts', () => {
    const web = parseAppDefinition(base);
    assert.equal(appChange(undefined, web), 'start');
    assert.equal(appChange(web, undefined), 'stop');
    assert.equal(appChange(web, web, { restart: true }), 'restart');
  });
});
