// One lane for everything that changes the scheduler's state (firing, task events, job changes), so
// that they never interleave inside one process. Exactly-once across processes and crashes comes from
// the store's compare-and-set claims; this only keeps one process from racing itself.
export class SerialLane {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has run. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
