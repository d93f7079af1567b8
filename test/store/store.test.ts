// The store on each database it runs on (SQLite always, PostgreSQL when GANTRY_TEST_DATABASE_URL is
// set): the migrations, run again without harm, and the tokens repository. The cluster's tables have
// their tests in test/cluster/store/.
import assert from 'node:assert/strict';
import { openStore, type Store } from '../../src/store/index.ts';
import { testDatabases } from '../helpers/databases.ts';

for (const database of testDatabases()) {
  describe(`store on ${database.name}`, function () {
    this.timeout(30_000);
    let store: Store;

    before(async () => {
      store = await openStore(await database.prepare());
    });
    after(async () => {
      await store?.close();
    });

    it('runs its migrations again without error (versioned, idempotent)', async () => {
      const again = await openStore({ dataDir: '/nonexistent-not-used', databaseUrl: store.kind === 'postgres' ? process.env.GANTRY_TEST_DATABASE_URL : `sqlite://${(store.knex.client.config.connection as { filename: string }).filename}` });
      const rows = await again.knex('gantry_migrations').select('name');
      assert.deepEqual(rows.map((r: { name: string }) => r.name), ['001-initial', '002-registry', '003-registry-auth', '004-batch', '005-ci', '006-agent-disk-usage', '007-task-restarts', '008-agent-images', '009-registry-gc', '010-registry-retention', '011-registry-quotas', '012-task-log-retention', '013-agent-task-users', '014-task-probes', '015-apps', '016-build-results', '017-ci-deploy-steps', '018-ci-pull-requests', '019-app-switches', '020-task-addresses']);
      await again.close();
    });

    it('stores tokens hashed and finds them by secret', async () => {
      await store.tokens.create('admin', 'admin', 'secret-value-1234567890');
      const found = await store.tokens.findBySecret('secret-value-1234567890');
      assert.equal(found?.kind, 'admin');
      assert.equal(await store.tokens.findBySecret('wrong-secret'), null);
      const raw = await store.knex('tokens').select('hash');
      assert.ok(raw.every((r: { hash: string }) => !r.hash.includes('secret-value')), 'no secret in the table');
    });
  });
}
