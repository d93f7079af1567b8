// What a process started, stopped in the reverse order of its start. Each part is added with how it
// stops as soon as it has started; a normal stop and a start that fails half-way then run the same
// sequence (the latter over what was started so far), so the two cannot drift apart.
export class Closers {
  private readonly closers: Array<() => unknown> = [];

  /** How to stop what was just started: it runs before everything added earlier. */
  add(close: () => unknown): void {
    this.closers.push(close);
  }

  /**
   * Runs the closers, the last added first, each once. One that fails does not keep the others from
   * running; the first failure is thrown once they all ran.
   */
  async close(): Promise<void> {
    const failures: unknown[] = [];
    for (let close = this.closers.pop(); close; close = this.closers.pop()) {
      try {
        await close();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}
