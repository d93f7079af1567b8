// API tokens: admin tokens for people and scripts, join tokens for agents joining the pool, and the
// per-agent tokens handed out at registration. Only sha256 hashes are stored.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../shared/ids.ts';

export type TokenKind = 'admin' | 'join' | 'agent';

export interface TokenRecord {
  id: string;
  kind: TokenKind;
  name: string;
  agentId: string | null;
  createdAt: string;
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class TokenRepository {
  constructor(private readonly knex: Knex) {}

  async create(kind: TokenKind, name: string, secret: string, agentId: string | null = null, now = new Date()): Promise<TokenRecord> {
    const record: TokenRecord = { id: newId('tok'), kind, name, agentId, createdAt: now.toISOString() };
    await this.knex('tokens').insert({
      id: record.id,
      kind,
      name,
      hash: hashToken(secret),
      agent_id: agentId,
      created_at: record.createdAt,
    });
    return record;
  }

  /** The token a secret belongs to, or null. */
  async findBySecret(secret: string): Promise<TokenRecord | null> {
    const row = await this.knex('tokens').where({ hash: hashToken(secret) }).first();
    return row ? toRecord(row) : null;
  }

  async countByKind(kind: TokenKind): Promise<number> {
    const row = await this.knex('tokens').where({ kind }).count<{ n: number | string }[]>({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  async deleteForAgent(agentId: string): Promise<void> {
    await this.knex('tokens').where({ kind: 'agent', agent_id: agentId }).delete();
  }
}

function toRecord(row: Record<string, unknown>): TokenRecord {
  return {
    id: String(row.id),
    kind: row.kind as TokenKind,
    name: String(row.name),
    agentId: (row.agent_id as string | null) ?? null,
    createdAt: String(row.created_at),
  };
}
