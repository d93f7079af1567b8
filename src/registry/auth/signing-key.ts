// The secret that signs registry tokens (HS256): 32 random bytes generated at first start and kept in
// the store, so that every registry process on the same store verifies the same tokens and a restart
// does not invalidate tokens still in flight. HS256 rather than ES256 because the registry is both the
// issuer and the only verifier: nobody else needs a public key.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

const KEY_NAME = 'token-hs256';

/** The signing secret, created on first use (compare-and-set: concurrent starts agree on one). */
export async function loadSigningKey(knex: Knex, clock: () => Date = () => new Date()): Promise<Uint8Array> {
  const secret = randomBytes(32).toString('base64url');
  await knex('registry_auth_keys').insert({ name: KEY_NAME, secret, created_at: clock().toISOString() }).onConflict('name').ignore();
  const row: { secret: string } = await knex('registry_auth_keys').where({ name: KEY_NAME }).first('secret');
  return new Uint8Array(Buffer.from(row.secret, 'base64url'));
}
