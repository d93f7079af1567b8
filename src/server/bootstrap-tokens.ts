// First start: create the admin token and a join token, unless they were given (GANTRY_ADMIN_TOKEN,
// GANTRY_JOIN_TOKEN). Only hashes are stored; the generated secrets are returned once for printing.
import { newSecret } from '../shared/ids.ts';
import type { Store, TokenKind } from '../store/index.ts';

export interface NewSecrets {
  adminToken?: string;
  joinToken?: string;
}

export async function bootstrapTokens(store: Store, given: { adminToken?: string | undefined; joinToken?: string | undefined }): Promise<NewSecrets> {
  const created: NewSecrets = {};
  const admin = await ensureToken(store, 'admin', 'admin', given.adminToken, 'gat');
  if (admin) created.adminToken = admin;
  const join = await ensureToken(store, 'join', 'join token', given.joinToken, 'gjt');
  if (join) created.joinToken = join;
  return created;
}

/** Returns a newly generated secret, or undefined when the token was given or one already exists. */
async function ensureToken(store: Store, kind: TokenKind, name: string, given: string | undefined, prefix: string): Promise<string | undefined> {
  if (given) {
    const existing = await store.tokens.findBySecret(given);
    if (!existing) await store.tokens.create(kind, name, given);
    return undefined;
  }
  if ((await store.tokens.countByKind(kind)) > 0) return undefined;
  const secret = newSecret(prefix);
  await store.tokens.create(kind, name, secret);
  return secret;
}
