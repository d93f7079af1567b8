// The apps' store on SQLite and PostgreSQL: a change writes the app's new version and its deployment
// together, and only if the app is still where the writer read it; versions are kept newest first; a
// deployment moves on only while it runs.
import assert from 'node:assert/strict';
import { parseAppDefinition } from '../../../src/apps/index.ts';
import { AppStore, type DeploymentRecord } from '../../../src/apps/store/app-store.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { testDatabases } from '../../helpers/databases.ts';

const T1 = '2026-12-07T10:00:00.000Z';
const T2 = '2026-12-07T10:05:00.000Z';
const T3 = '2026-12-07T10:10:00.000Z';

function deployment(id: string, apps: string[], at: string): DeploymentRecord {
  return { id, affectedApps: apps, plan: { steps: [[{ action: 'StartApplication', app: apps[0] }]] }, currentStep: 0, state: 'running', reason: null, rollbackOf: null, createdAt: at, deadlineAt: null, finishedAt: null };
}

for (const database of testDatabases()) {
  describe(`apps store on ${database.name}`, function () {
    this.timeout(20_000);
    let store: Store;
    let apps: AppStore;

    before(async () => {
      store = await openStore(await database.prepare());
      apps = new AppStore(store.knex);
    });
    after(async () => store?.close());

    const web = (instances: number) => {
      const source = { id: '/prod/web', cmd: 'python3 -m http.server $PORT0', instances };
      return { definition: parseAppDefinition(source), source };
    };

    it('creates an app with its first version and deployment in one write, and reads them back', async () => {
      await apps.writeChange([{ appId: '/prod/web', ...web(2), version: T1, lastConfigChangeAt: T1, expected: null }], deployment('d-1', ['/prod/web'], T1), T1);
      const app = await apps.getApp('/prod/web');
      assert.deepEqual(app, { id: '/prod/web', version: T1, lastHealthyVersion: null, createdAt: T1, updatedAt: T1 });
      const version = await apps.getVersion('/prod/web', T1);
      assert.equal(version?.definition.instances, 2);
      assert.deepEqual(version?.source, web(2).source, 'the source as posted');
      assert.deepEqual((await apps.getDeployment('d-1'))?.affectedApps, ['/prod/web']);
    });

    it('refuses a change made from a version that is no longer current, writing nothing', async () => {
      await apps.writeChange([{ appId: '/prod/web', ...web(3), version: T2, lastConfigChangeAt: T1, expected: T1 }], deployment('d-2', ['/prod/web'], T2), T2, ['d-1']);
      assert.equal((await apps.getDeployment('d-1'))?.state, 'superseded');
      assert.equal((await apps.getDeployment('d-1'))?.reason, 'superseded by deployment d-2');
      await assert.rejects(
        apps.writeChange([{ appId: '/prod/web', ...web(4), version: T3, lastConfigChangeAt: T3, expected: T1 }], deployment('d-3', ['/prod/web'], T3), T3),
        /app \/prod\/web changed meanwhile \(now at version 2026-12-07T10:05:00.000Z\)/,
      );
      await assert.rejects(
        apps.writeChange([{ appId: '/prod/web', ...web(4), version: T3, lastConfigChangeAt: T3, expected: null }], deployment('d-3', ['/prod/web'], T3), T3),
        (err: Error & { status?: number }) => err.status === 409,
      );
      assert.equal(await apps.getDeployment('d-3'), null, 'no deployment written');
      assert.deepEqual(await apps.listVersions('/prod/web'), [T2, T1], 'newest first; the refused one not written');
      assert.equal((await apps.getVersion('/prod/web', T2))?.lastConfigChangeAt, T1, 'a scale keeps the config change time');
    });

    it('lists apps and their current versions by id prefix, one query for all', async () => {
      await apps.writeChange([{ appId: '/production/api', ...web(1), version: T1, lastConfigChangeAt: T1, expected: null }], deployment('d-4', ['/production/api'], T1), T1);
      assert.deepEqual((await apps.listApps()).map((a) => a.id), ['/prod/web', '/production/api']);
      assert.deepEqual((await apps.listApps('/prod/')).map((a) => a.id), ['/prod/web'], 'a group prefix, not a name that starts the same');
      const current = await apps.currentVersions();
      assert.deepEqual(current.map((v) => [v.appId, v.version, v.definition.instances]), [['/prod/web', T2, 3], ['/production/api', T1, 1]]);
      assert.deepEqual((await apps.listApps('100%_')).length, 0, 'LIKE wildcards in a prefix match themselves');
    });

    it('moves a deployment on only while it runs; marks a version healthy', async () => {
      assert.equal(await apps.updateDeployment('d-2', { currentStep: 1 }), true);
      assert.equal(await apps.updateDeployment('d-2', { state: 'succeeded', finishedAt: T3 }), true);
      assert.equal(await apps.updateDeployment('d-2', { currentStep: 2 }), false, 'finished: no more moves');
      assert.deepEqual((await apps.listDeployments(['running'])).map((d) => d.id), ['d-4']);
      await apps.markHealthy('/prod/web', T2);
      assert.equal((await apps.getApp('/prod/web'))?.lastHealthyVersion, T2);
    });

    it('deletes an app with its versions, keeping its deployment', async () => {
      await apps.writeChange([], { ...deployment('d-5', ['/production/api'], T3), plan: { steps: [[{ action: 'StopApplication', app: '/production/api' }]] } }, T3, ['d-4'], ['/production/api']);
      assert.equal(await apps.getApp('/production/api'), null);
      assert.deepEqual(await apps.listVersions('/production/api'), []);
      assert.equal((await apps.getDeployment('d-4'))?.state, 'superseded');
      await assert.rejects(apps.writeChange([], deployment('d-6', ['/production/api'], T3), T3, [], ['/production/api']), /app \/production\/api does not exist/);
      assert.equal(await apps.getDeployment('d-6'), null, 'nothing written');
    });
  });
}
