// While a task waits for an agent, tell the person why, on stderr: rewritten in place on a terminal,
// one line per change otherwise.
import type { TaskRecord } from '../cluster/index.ts';
import type { ApiClient } from './client.ts';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class WaitProgress {
  private timer: NodeJS.Timeout | undefined;
  private lastMessage = '';
  private frame = 0;
  private started = Date.now();
  private drawn = false;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly client: ApiClient,
    private readonly taskId: string,
  ) {}

  start(): void {
    this.started = Date.now();
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn && this.tty) process.stderr.write('\r\x1b[2K');
  }

  private async tick(): Promise<void> {
    let task: TaskRecord;
    try {
      task = await this.client.get<TaskRecord>(`/api/v1/tasks/${this.taskId}`);
    } catch {
      return;
    }
    if (!this.timer) return;
    if (task.state !== 'queued' && task.state !== 'staging') {
      this.stop();
      return;
    }
    const waited = Math.round((Date.now() - this.started) / 1000);
    const why = task.state === 'staging' ? 'starting on its agent' : `waiting for an agent: ${task.waitingReason ?? 'placing'}`;
    if (this.tty) {
      this.frame = (this.frame + 1) % SPINNER.length;
      process.stderr.write(`\r\x1b[2K${SPINNER[this.frame]} ${this.taskId} ${why} (${waited}s)`);
      this.drawn = true;
    } else if (why !== this.lastMessage) {
      process.stderr.write(`gantry: ${this.taskId} ${why}\n`);
    }
    this.lastMessage = why;
  }
}
