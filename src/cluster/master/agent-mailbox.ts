// Wakes an agent's pending poll when the master has something for it (a task staged on it, a kill).
export class AgentMailbox {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves when notify(agentId) is called or after waitMs, whichever comes first. */
  wait(agentId: string, waitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(agentId);
      if (!set) this.waiters.set(agentId, (set = new Set()));
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  notify(agentId: string): void {
    for (const wake of [...(this.waiters.get(agentId) ?? [])]) wake();
  }

  notifyAll(): void {
    for (const agentId of this.waiters.keys()) this.notify(agentId);
  }
}
