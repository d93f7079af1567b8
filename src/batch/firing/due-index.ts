// The in-memory index of what is due next: one entry per key (a job's next occurrence, a run's next
// retry), ordered by due time. A binary min-heap with a position map, so that moving or removing one
// key costs O(log n) and finding the earliest O(1): the firing loop never scans all jobs.
// It is rebuilt from the store at start; the store stays the truth.

export interface DueEntry {
  key: string;
  /** Milliseconds since the epoch. */
  dueAt: number;
}

export class DueIndex {
  private readonly heap: DueEntry[] = [];
  private readonly positions = new Map<string, number>();

  get size(): number {
    return this.heap.length;
  }

  /** Adds the key, or moves it to the new time. */
  set(key: string, dueAt: number): void {
    const at = this.positions.get(key);
    if (at === undefined) {
      this.heap.push({ key, dueAt });
      this.positions.set(key, this.heap.length - 1);
      this.up(this.heap.length - 1);
      return;
    }
    const entry = this.heap[at]!;
    const earlier = dueAt < entry.dueAt;
    entry.dueAt = dueAt;
    if (earlier) this.up(at);
    else this.down(at);
  }

  has(key: string): boolean {
    return this.positions.has(key);
  }

  dueAt(key: string): number | undefined {
    const at = this.positions.get(key);
    return at === undefined ? undefined : this.heap[at]!.dueAt;
  }

  delete(key: string): boolean {
    const at = this.positions.get(key);
    if (at === undefined) return false;
    const last = this.heap.pop()!;
    this.positions.delete(key);
    if (at < this.heap.length) {
      this.heap[at] = last;
      this.positions.set(last.key, at);
      this.up(at);
      this.down(this.positions.get(last.key)!);
    }
    return true;
  }

  peek(): DueEntry | undefined {
    const first = this.heap[0];
    return first ? { ...first } : undefined;
  }

  /** Removes and returns every entry due at or before `now`, earliest first. */
  popDue(now: number): DueEntry[] {
    const due: DueEntry[] = [];
    while (this.heap.length > 0 && this.heap[0]!.dueAt <= now) {
      const first = this.heap[0]!;
      this.delete(first.key);
      due.push(first);
    }
    return due;
  }

  private up(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.heap[parent]!.dueAt <= this.heap[i]!.dueAt) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.heap[left]!.dueAt < this.heap[smallest]!.dueAt) smallest = left;
      if (right < this.heap.length && this.heap[right]!.dueAt < this.heap[smallest]!.dueAt) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const first = this.heap[a]!;
    const second = this.heap[b]!;
    this.heap[a] = second;
    this.heap[b] = first;
    this.positions.set(second.key, a);
    this.positions.set(first.key, b);
  }
}
