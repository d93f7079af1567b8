// Lines of several logs (an app's instances) printed in the order of their time, though they arrive in
// the order each log was read. Each line is held for a moment after it arrives, so that an earlier line
// of another log, still on its way, can go before it; the held lines then go out sorted by their time.
// The hold is measured on this machine's clock (arrival), the order on the agents' (`at`), so a clock
// skew between agents can misorder lines but never holds one back for long.

export interface TimedLine {
  /** When the agent read it (epoch ms); undefined for logs that kept no time: they go at their arrival. */
  at: number | undefined;
  text: string;
  stream: 'stdout' | 'stderr';
}

interface Held extends TimedLine {
  arrived: number;
  /** Tie-breaker: lines of the same time keep their arrival order (a log's own lines stay in order). */
  seq: number;
}

export class LinesByTime {
  private held: Held[] = [];
  private seq = 0;

  constructor(
    private readonly print: (line: TimedLine) => void,
    private readonly holdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(line: TimedLine): void {
    const arrived = this.now();
    this.held.push({ ...line, at: line.at ?? arrived, arrived, seq: this.seq++ });
  }

  /** Prints the lines held for the whole hold, and any held line of an earlier time than those. */
  release(): void {
    const cutoff = this.now() - this.holdMs;
    // A loop, not Math.max(...): following starts with every instance's whole log, hundreds of thousands of lines.
    let latest = -Infinity;
    for (const line of this.held) if (line.arrived <= cutoff && line.at! > latest) latest = line.at!;
    if (latest === -Infinity) return;
    this.emit((l) => l.arrived <= cutoff || l.at! < latest);
  }

  /** Prints every held line (all logs have ended). */
  flush(): void {
    this.emit(() => true);
  }

  private emit(going: (line: Held) => boolean): void {
    const out = this.held.filter(going).sort((a, b) => a.at! - b.at! || a.seq - b.seq);
    this.held = this.held.filter((l) => !going(l));
    for (const line of out) this.print(line);
  }
}
