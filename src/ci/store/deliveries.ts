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
  /** Deliveries waiting for the next insert (see record). */
  private waiting: PendingRecord[] = [];
  /** An insert is on its way to the store: what arrives meanwhile waits for the next one. */
  private flushing = false;

  constructor(private readonly knex: Knex) {}

  /**
   * Records a delivery; false when one with this id was recorded before. A group commit: one insert
   * is in flight at a time, and every delivery that arrives while it is goes into the next one. In a
   * burst, deliveries come one per turn of the event loop; an insert each queued them on the store's
   * single connection (50 in flight waited ~40 ms for their turn) and made the server do the work of
   * 50 statements (bench/README.md, CI: 1,000–1,400 → 1,500–4,000 answers a second).
   */
  record(delivery: Delivery): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      // setImmediate: the deliveries of this turn go together even when no insert is in flight.
      if (this.waiting.length === 1 && !this.flushing) setImmediate(() => void this.flushAll());
    });
  }

  private async flushAll(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) await this.flush();
    } finally {
      this.flushing = false;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    // The same id twice in one batch: the first is the claim, the others are redeliveries. (In two
    // batches, the second insert meets the first's row: inserts run one after the other.)
    const first = new Map<string, PendingRecord>();
    for (const item of batch) {
      if (first.has(item.delivery.deliveryId)) item.resolve(false);
      else first.set(item.delivery.deliveryId, item);
    }
    const items = [...first.values()];
    for (let i = 0; i < items.length; i += RECORD_BATCH) {
      const chunk = items.slice(i, i + RECORD_BATCH);
      try {
        const result: unknown = await this.knex.raw(insertSql(chunk.length), chunk.flatMap(({ delivery }) => rowValues(delivery)));
        // sqlite3 answers with the rows, pg with {rows}.
        const inserted = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ delivery_id: string }>;
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

const COLUMNS = ['delivery_id', 'event', 'repository', 'ref', 'received_at', 'outcome', 'detail', 'payload'] as const;

/** A delivery's values in COLUMNS order. */
function rowValues(d: Delivery): Array<string | null> {
  return [d.deliveryId, d.event, d.repository, d.ref, d.receivedAt, d.outcome, d.detail, d.payload];
}

const insertSqlCache = new Map<number, string>();

/**
 * INSERT of `rows` deliveries that skips ids recorded before and returns the ids it inserted; the
 * same text in SQLite (3.35+) and PostgreSQL. Written out and kept per row count rather than built by
 * knex for every batch: knex's SQLite compiler turns a multi-row insert into a UNION of SELECTs,
 * which cost the receiver's thread as much as the rest of a delivery in a burst.
 */
function insertSql(rows: number): string {
  let sql = insertSqlCache.get(rows);
  if (!sql) {
    const row = `(${COLUMNS.map(() => '?').join(', ')})`;
    sql = `insert into ci_deliveries (${COLUMNS.join(', ')}) values ${Array(rows).fill(row).join(', ')} on conflict (delivery_id) do nothing returning delivery_id`;
    insertSqlCache.set(rows, sql);
  }
  return sql;
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
