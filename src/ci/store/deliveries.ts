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

/** Rows per INSERT when many deliveries are recorded together (8 values each, far under SQLite's limit). */
const RECORD_BATCH = 100;

interface PendingRecord {
  delivery: Delivery;
  resolve: (recorded: boolean) => void;
  reject: (err: Error) => void;
}

export class DeliveryStore {
  /** Deliveries waiting for the insert of this turn of the event loop (see record). */
  private waiting: PendingRecord[] = [];

  constructor(private readonly knex: Knex) {}

  /**
   * Records a delivery; false when one with this id was recorded before. The deliveries that arrive in
   * the same turn of the event loop (a burst of pushes) are inserted with one statement: one trip to the
   * store's single connection instead of one each, which is what the receiver waited on in a burst.
   */
  record(delivery: Delivery): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    // The same id twice in one batch: the first is the claim, the others are redeliveries.
    const first = new Map<string, PendingRecord>();
    for (const item of batch) {
      if (first.has(item.delivery.deliveryId)) item.resolve(false);
      else first.set(item.delivery.deliveryId, item);
    }
    const items = [...first.values()];
    for (let i = 0; i < items.length; i += RECORD_BATCH) {
      const chunk = items.slice(i, i + RECORD_BATCH);
      try {
        const inserted: Array<{ delivery_id: string }> = await this.knex('ci_deliveries')
          .insert(chunk.map(({ delivery }) => toRow(delivery)))
          .onConflict('delivery_id')
          .ignore()
          .returning('delivery_id');
        const recorded = new Set(inserted.map((row) => row.delivery_id));
        for (const item of chunk) item.resolve(recorded.has(item.delivery.deliveryId));
      } catch (err) {
        for (const item of chunk) item.reject(err as Error);
      }
    }
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

function toRow(delivery: Delivery): Row {
  return {
    delivery_id: delivery.deliveryId,
    event: delivery.event,
    repository: delivery.repository,
    ref: delivery.ref,
    received_at: delivery.receivedAt,
    outcome: delivery.outcome,
    detail: delivery.detail,
    payload: delivery.payload,
  };
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
