import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { RegistryAcl } from '../../../src/registry/auth/acl-store.ts';
import { RegistryUsers } from '../../../src/registry/auth/users.ts';
import { Conflict, Invalid } from '../../../src/shared/errors.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers/processes.ts';

describe('registry users, robots and ACL rules in the store', () => {
  let store: Store;
  let users: RegistryUsers;
  let acl: RegistryAcl;

  before(async () => {
    store = await openStore({ dataDir: tempDir('registry-users') });
    users = new RegistryUsers(store.knex, () => new Date('2026-11-24T12:00:00.000Z'));
    acl = new RegistryAcl(store.knex);
  });
  after(async () => store?.close());

  it('adds a user with a bcrypt hash and verifies the password', async () => {
    const added = await users.add({ name: 'alice', kind: 'user', password: 'correct horse', groups: ['team', 'team', 'ops'] });
    assert.deepEqual(added, { name: 'alice', kind: 'user', groups: ['ops', 'team'], createdAt: '2026-11-24T12:00:00.000Z' });
    const row = await store.knex('registry_users').where({ name: 'alice' }).first();
    assert.match(row.password_hash, /^\$2[aby]\$10\$/);
    assert.ok(!JSON.stringify(row).includes('correct horse'));
    assert.ok(await bcrypt.compare('correct horse', row.password_hash));
    assert.equal((await users.verify('alice', 'correct horse'))?.name, 'alice');
    assert.equal(await users.verify('alice', 'wrong horse'), null);
    assert.equal(await users.verify('nobody', 'correct horse'), null);
  });

  it('gives a robot a generated token, once', async () => {
    const robot = await users.add({ name: 'ci-bot', kind: 'robot', groups: ['ci'] });
    assert.match(robot.token ?? '', /^grr_[A-Za-z0-9_-]{43}$/);
    assert.equal((await users.verify('ci-bot', robot.token!))?.kind, 'robot');
    const listed = await users.list();
    assert.deepEqual(listed.map((u) => [u.name, u.kind]), [['alice', 'user'], ['ci-bot', 'robot']]);
    assert.ok(listed.every((u) => !('token' in u) && !('password_hash' in u) && !('passwordHash' in u)));
  });

  it('refuses duplicates, bad names, reserved names, short passwords and robot passwords', async () => {
    await assert.rejects(users.add({ name: 'alice', kind: 'user', password: 'another one' }), Conflict);
    await assert.rejects(users.add({ name: 'Alice!', kind: 'user', password: 'long enough' }), Invalid);
    await assert.rejects(users.add({ name: 'admin', kind: 'user', password: 'long enough' }), Invalid);
    await assert.rejects(users.add({ name: 'anonymous', kind: 'user', password: 'long enough' }), Invalid);
    await assert.rejects(users.add({ name: 'shorty', kind: 'user', password: 'short' }), Invalid);
    await assert.rejects(users.add({ name: 'longpw', kind: 'user', password: 'x'.repeat(73) }), Invalid);
    await assert.rejects(users.add({ name: 'bot2', kind: 'robot', password: 'chosen password' }), Invalid);
  });

  it('removes a user: it no longer verifies', async () => {
    assert.equal(await users.remove('alice'), true);
    assert.equal(await users.remove('alice'), false);
    assert.equal(await users.verify('alice', 'correct horse'), null);
  });

  it('sets, replaces, lists and removes ACL rules', async () => {
    await acl.set({ repositoryGlob: 'team/secret/**', subject: 'anonymous', actions: [] });
    await acl.set({ repositoryGlob: 'team/secret/**', subject: 'group:team', actions: ['push', 'pull'] });
    await acl.set({ repositoryGlob: 'team/secret/**', subject: 'group:team', actions: ['pull'] });
    const rules = await acl.list();
    assert.deepEqual(rules.map((r) => [r.repositoryGlob, r.subject, r.actions]), [
      ['team/secret/**', 'anonymous', []],
      ['team/secret/**', 'group:team', ['pull']],
    ]);
    await assert.rejects(acl.set({ repositoryGlob: 'x/**', subject: 'group:Bad Name', actions: [] }), Invalid);
    await assert.rejects(acl.set({ repositoryGlob: 'x/**', subject: 'bob', actions: ['write' as 'pull'] }), Invalid);
    await assert.rejects(acl.set({ repositoryGlob: '', subject: 'bob', actions: [] }), Invalid);
    assert.equal(await acl.remove('team/secret/**', 'anonymous'), true);
    assert.equal((await acl.list()).length, 1);
  });
});
