// Webhook deliveries in the store. The delivery id GitHub sends (X-GitHub-Delivery) is the primary
// key: recording one is the claim, so a redelivery of the same event records nothing and starts nothing.
import type { Knex } from 'knex';

export type DeliveryOutcome = 'received' | 'ignored' | 'processed' | 'failed';

export interface Delivery {
  deliveryId: string;
  event: string;
  repository: string | null;
  ref: string | null;
  receivedAt: string;
  outcome: DeliveryOutcome;
  detail: string | null;
  payload: string;
}

interface Row {
  delivery_id: string;
  event: string;
  repository: string | null;
  ref: string | null;
  received_at: string;
  outcome: string;
  detail: string | null;
  payload: string;
}

export class DeliveryStore {
  constructor(private readonly knex: Knex) {}

  /** Records a delivery; false when one with this id was recorded before. */
  async record(delivery: Delivery): Promise<boolean> {
    const inserted = await this.knex('ci_deliveries')
      .insert({
        delivery_id: delivery.deliveryId,
        event: delivery.event,
        repository: delivery.repository,
        ref: delivery.ref,
        received_at: delivery.receivedAt,
        outcome: delivery.outcome,
        detail: delivery.detail,
        payload: delivery.payload,
      })
      .onConflict('delivery_id')
      .ignore()
      .returning('delivery_id');
    return inserted.length === 1;
  }

  async get(deliveryId: string): Promise<Delivery | null> {
    const row: Row | undefined = await this.knex('ci_deliveries').where({ delivery_id: deliveryId }).first();
    return row ? toDelivery(row) : null;
  }

  /** Deliveries recorded but not processed yet (after a crash), oldest first. */
  async pending(): Promise<Delivery[]> {
    const rows: Row[] = await this.knex('ci_deliveries').where({ outcome: 'received' }).orderBy('received_at');
    return rows.map(toDelivery);
  }

  async settle(deliveryId: string, outcome: Exclude<DeliveryOutcome, 'received'>, detail: string): Promise<void> {
    await this.knex('ci_deliveries').where({ delivery_id: deliveryId }).update({ outcome, detail });
  }

  async list(limit: number): Promise<Array<Omit<Delivery, 'payload'>>> {
    const rows: Row[] = await this.knex('ci_deliveries').orderBy('received_at', 'desc').limit(limit).select('delivery_id', 'event', 'repository', 'ref', 'received_at', 'outcome', 'detail');
    return rows.map((row) => {
      const { payload: _payload, ...rest } = toDelivery({ ...row, payload: '' });
      return rest;
    });
  }
}

function toDelivery(row: Row): Delivery {
  return {
    deliveryId: row.delivery_id,
    event: row.event,
    repository: row.repository,
    ref: row.ref,
    receivedAt: row.received_at,
    outcome: row.outcome as DeliveryOutcome,
    detail: row.detail,
    payload: row.payload,
  };
}
