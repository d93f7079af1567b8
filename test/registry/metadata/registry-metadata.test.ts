import assert from 'node:assert/strict';
import { MissingReferences, RepositoryUnknown, ManifestUnknown } from '../../../src/registry/metadata/errors.ts';
import { RegistryMetadata } from '../../../src/registry/metadata/registry-metadata.ts';
import type { ManifestInput } from '../../../src/registry/metadata/records.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { testDatabases } from '../../helpers/databases.ts';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const alice = { by: 'alice', at: '2026-11-24T10:00:00.000Z' };
const later = { by: 'bob', at: '2026-11-24T11:00:00.000Z' };

function image(digest: string, blobs: string[], extra: Partial<ManifestInput> = {}): ManifestInput {
  return {
    digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 500,
    references: blobs.map((b) => ({ digest: b, kind: 'blob' as const })),
    ...extra,
  };
}

for (const database of testDatabases()) {
  describe(`registry metadata on ${database.name}`, function () {
    this.timeout(30_000);
    let store: Store;
    let meta: RegistryMetadata;

    before(async () => {
      store = await openStore(await database.prepare());
      meta = new RegistryMetadata(store.knex);
      for (const blob of [d(1), d(2), d(3)]) await meta.linkBlob('team/app', blob, 1000, alice);
    });
    after(async () => store?.close());

    it('lets a repository read only the blobs pushed or mounted into it', async () => {
      assert.equal(await meta.blobSize('team/app', d(1)), 1000);
      assert.equal(await meta.blobSize('other/app', d(1)), null);
      await meta.linkBlob('other/app', d(1), 1000, later);
      assert.equal(await meta.blobSize('other/app', d(1)), 1000, 'after a mount');
      await meta.linkBlob('other/app', d(1), 1000, later);
    });

    it('records a manifest with its tag, and finds it by tag and by digest', async () => {
      await meta.putManifest('team/app', image(d(100), [d(1), d(2), d(3)]), 'v1', alice);
      const byTag = await meta.getManifest('team/app', 'v1');
      assert.equal(byTag.digest, d(100));
      assert.equal(byTag.pushedBy, 'alice');
      assert.deepEqual(await meta.getManifest('team/app', d(100)), byTag);
    });

    it('rejects a manifest that references blobs the repository does not have, and writes nothing', async () => {
      await assert.rejects(meta.putManifest('team/app', image(d(101), [d(1), d(9)]), 'v2', alice), (err: unknown) => {
        assert.ok(err instanceof MissingReferences);
        assert.deepEqual(err.missing, [d(9)]);
        return true;
      });
      await assert.rejects(meta.getManifest('team/app', 'v2'), ManifestUnknown);
      await assert.rejects(meta.getManifest('team/app', d(101)), ManifestUnknown);
    });

    it('moves a tag to a new manifest, keeping the old manifest by digest', async () => {
      await meta.putManifest('team/app', image(d(102), [d(1)]), 'v1', later);
      assert.equal((await meta.getManifest('team/app', 'v1')).digest, d(102));
      assert.equal((await meta.getManifest('team/app', d(100))).digest, d(100));
      const [tag] = await meta.tags('team/app');
      assert.equal(tag?.pushedBy, 'bob');
    });

    it('pages tags and repositories in lexical order with n and last', async () => {
      for (const tag of ['a', 'b', 'c']) await meta.putManifest('team/app', image(d(100), [d(1)]), tag, alice);
      await meta.putManifest('team/app', image(d(100), [d(1)]), 'B', alice);
      assert.deepEqual(await meta.listTags('team/app', 2), { items: ['B', 'a'], more: true }, 'byte order: uppercase first, on every database');
      assert.deepEqual(await meta.listTags('team/app', 2, 'a'), { items: ['b', 'c'], more: true });
      assert.deepEqual(await meta.listTags('team/app', 5, 'c'), { items: ['v1'], more: false });
      assert.deepEqual(await meta.listRepositories(1), { items: ['other/app'], more: true });
      assert.deepEqual(await meta.listRepositories(5, 'other/app'), { items: ['team/app'], more: false });
    });

    it('an index may reference manifests of its own repository only', async () => {
      const index: ManifestInput = {
        digest: d(200),
        mediaType: 'application/vnd.oci.image.index.v1+json',
        size: 300,
        references: [{ digest: d(100), kind: 'manifest' }, { digest: d(102), kind: 'manifest' }],
      };
      await meta.putManifest('team/app', index, 'multi', alice);
      await assert.rejects(meta.putManifest('other/app', { ...index }, 'multi', alice), MissingReferences);
    });

    it('records pulls, at most once a minute per manifest', async () => {
      await meta.markPulled('team/app', d(100), '2026-11-24T12:00:00.000Z');
      assert.equal((await meta.getManifest('team/app', d(100))).lastPulledAt, '2026-11-24T12:00:00.000Z');
      await meta.markPulled('team/app', d(100), '2026-11-24T12:00:30.000Z');
      assert.equal((await meta.getManifest('team/app', d(100))).lastPulledAt, '2026-11-24T12:00:00.000Z', 'not rewritten within the minute');
      await meta.markPulled('team/app', d(100), '2026-11-24T12:01:00.000Z');
      assert.equal((await meta.getManifest('team/app', d(100))).lastPulledAt, '2026-11-24T12:01:00.000Z');
    });

    it('finds referrers by subject, filtered by artifact type', async () => {
      await meta.putManifest('team/app', image(d(300), [d(2)], { subjectDigest: d(100), artifactType: 'application/vnd.example.sbom' }), null, alice);
      await meta.putManifest('team/app', image(d(301), [d(3)], { subjectDigest: d(100), artifactType: 'application/vnd.example.sig' }), null, alice);
      assert.deepEqual((await meta.referrers('team/app', d(100))).map((m) => m.digest), [d(300), d(301)]);
      assert.deepEqual((await meta.referrers('team/app', d(100), 'application/vnd.example.sig')).map((m) => m.digest), [d(301)]);
    });

    it('deletes a manifest together with the tags pointing at it', async () => {
      await meta.putManifest('team/app', image(d(400), [d(1)]), 'doomed', alice);
      assert.equal(await meta.deleteManifest('team/app', d(400)), true);
      await assert.rejects(meta.getManifest('team/app', 'doomed'), ManifestUnknown);
      assert.equal(await meta.deleteManifest('team/app', d(400)), false);
      assert.ok(!(await meta.listTags('team/app', 100)).items.includes('doomed'));
    });

    it('keeps upload sessions per repository', async () => {
      await meta.createUpload('team/app', 'up-1', alice);
      assert.equal((await meta.findUpload('team/app', 'up-1'))?.startedBy, 'alice');
      assert.equal(await meta.findUpload('other/app', 'up-1'), null, 'another repository cannot use it');
      await meta.deleteUpload('up-1');
      assert.equal(await meta.findUpload('team/app', 'up-1'), null);
    });

    it('says when a repository is unknown', async () => {
      await assert.rejects(meta.listTags('nobody/here', 10), RepositoryUnknown);
      assert.equal(await meta.repositoryExists('nobody/here'), false);
    });
  });
}
