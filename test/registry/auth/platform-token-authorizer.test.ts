import assert from 'node:assert/strict';
import { PlatformTokenAuthorizer } from '../../../src/registry/auth/platform-token-authorizer.ts';
import { RegistryError } from '../../../src/registry/protocol/errors.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers/processes.ts';

const TOKEN = 'gat_registry-test-token-0123456789';
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('registry policy: anonymous pull, admin-token push', () => {
  let store: Store;
  let authorizer: PlatformTokenAuthorizer;

  before(async () => {
    store = await openStore({ dataDir: tempDir('registry-auth') });
    await store.tokens.create('admin', 'admin', TOKEN);
    await store.tokens.create('join', 'join', 'gjt_join-token-not-for-the-registry');
    authorizer = new PlatformTokenAuthorizer(async (secret) => (await store.tokens.findBySecret(secret))?.kind === 'admin');
  });
  after(async () => store?.close());

  const cases: Array<[string, string | undefined, 'anonymous' | 'admin' | 'rejected', string[]]> = [
    ['no credentials', undefined, 'anonymous', ['pull']],
    ['empty Basic credentials, as skopeo sends them', basic('', ''), 'anonymous', ['pull']],
    ['Basic with the admin token', basic('ci', TOKEN), 'admin', ['pull', 'push', 'delete']],
    ['Bearer with the admin token', `Bearer ${TOKEN}`, 'admin', ['pull', 'push', 'delete']],
    ['Basic with a wrong password', basic('ci', 'nope'), 'rejected', []],
    ['a join token is not an admin token', basic('ci', 'gjt_join-token-not-for-the-registry'), 'rejected', []],
    ['Basic without a password', `Basic ${Buffer.from('ci').toString('base64')}`, 'rejected', []],
    ['an unknown scheme', 'Digest abc', 'rejected', []],
  ];
  for (const [what, header, outcome, actions] of cases) {
    it(what, async () => {
      if (outcome === 'rejected') {
        await assert.rejects(authorizer.authenticate(header), (err: unknown) => err instanceof RegistryError && err.code === 'UNAUTHORIZED');
        return;
      }
      const identity = await authorizer.authenticate(header);
      assert.equal(identity.kind, outcome);
      assert.deepEqual(await authorizer.allowed(identity, 'team/app', ['pull', 'push', 'delete']), actions);
    });
  }

  it('names the Basic realm in its challenge', () => {
    assert.equal(authorizer.challenge(), 'Basic realm="Gantry registry"');
  });
});
