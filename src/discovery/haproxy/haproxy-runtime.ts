// A client of HAProxy's runtime API (management.txt §9.3) over a unix socket: one command per connection,
// the answer read to the end. It speaks to the stats socket directly, or to one worker through the master
// CLI (`prefix: '@!<pid>'`), which is how the data plane reaches exactly the worker a reload started and
// not an old one still finishing its connections. Commands change a server slot's address, weight and
// state; `show stat` tells each server's state and open connections.
import net from 'node:net';

export interface HaproxyRuntimeOptions {
  socketPath: string;
  /** Put before every command: `@!1234` sends it to worker 1234 through the master CLI. */
  prefix?: string;
  /** For a whole command, connection included. Default 5 s. */
  timeoutMs?: number;
}

export interface ServerSettings {
  address?: string;
  port?: number;
  weight?: number;
  state?: 'ready' | 'drain' | 'maint';
}

/** One server's row of `show stat`. */
export interface HaproxyServerStat {
  backend: string;
  server: string;
  /** HAProxy's words: `UP`, `no check` (up, not checked), `DRAIN`, `MAINT`, `DOWN`, `MAINT (resolution)`... */
  status: string;
  /** Sessions open to it now. */
  scur: number;
  weight: number;
  /** `ip:port` as HAProxy has it, when it says. */
  addr: string | null;
  checkStatus: string | null;
}

export class HaproxyRuntimeError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(`haproxy runtime API: ${command}: ${message}`);
    this.name = 'HaproxyRuntimeError';
  }
}

export class HaproxyRuntime {
  constructor(private readonly options: HaproxyRuntimeOptions) {}

  /** Sends one command, resolves with HAProxy's whole answer. */
  command(command: string): Promise<string> {
    if (/[\n\r;]/.test(command)) return Promise.reject(new HaproxyRuntimeError(command, 'one command, on one line'));
    const line = this.options.prefix === undefined ? command : `${this.options.prefix} ${command}`;
    const timeoutMs = this.options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.options.socketPath);
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (error: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve(Buffer.concat(chunks).toString('utf8'));
      };
      const timer = setTimeout(() => finish(new HaproxyRuntimeError(command, `no answer in ${timeoutMs} ms`)), timeoutMs);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => finish(null));
      socket.on('close', () => finish(null));
      socket.on('error', (err) => finish(new HaproxyRuntimeError(command, err.message)));
      // The master CLI answers once the client has finished writing; the stats socket does either way.
      socket.end(`${line}\n`);
    });
  }

  /**
   * Changes a server: address and port, weight, administrative state. Leaving service (`drain`, `maint`)
   * comes first and entering it (`ready`) last, so that a server never takes new connections at an
   * address or weight it is not meant to have.
   */
  async setServer(backend: string, server: string, settings: ServerSettings): Promise<void> {
    const target = `${backend}/${server}`;
    const leaving = settings.state !== undefined && settings.state !== 'ready';
    if (leaving) await this.expectEmpty(`set server ${target} state ${settings.state}`);
    if (settings.address !== undefined) {
      const port = settings.port === undefined ? '' : ` port ${settings.port}`;
      const command = `set server ${target} addr ${settings.address}${port}`;
      const answer = (await this.command(command)).trim();
      if (!/^(IP changed from|no need to change the addr)/.test(answer)) throw new HaproxyRuntimeError(command, answer || 'no answer');
    }
    if (settings.weight !== undefined) await this.expectEmpty(`set server ${target} weight ${settings.weight}`);
    if (settings.state === 'ready') await this.expectEmpty(`set server ${target} state ready`);
  }

  /** Every server's row of `show stat` (frontends and backends' totals left out). */
  async stats(): Promise<HaproxyServerStat[]> {
    const command = 'show stat';
    const answer = await this.command(command);
    if (!answer.startsWith('# ')) throw new HaproxyRuntimeError(command, answer.trim().split('\n')[0] ?? 'no answer');
    return parseShowStat(answer);
  }

  private async expectEmpty(command: string): Promise<void> {
    const answer = (await this.command(command)).trim();
    if (answer !== '') throw new HaproxyRuntimeError(command, answer);
  }
}

/** `show stat`'s CSV (its first line names the columns) → its servers' rows. */
export function parseShowStat(csv: string): HaproxyServerStat[] {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const header = lines[0];
  if (header === undefined || !header.startsWith('# ')) return [];
  const columns = header.slice(2).split(',');
  const at = (name: string): number => columns.indexOf(name);
  const [pxname, svname, scur, status, weight, type, addr, checkStatus] = ['pxname', 'svname', 'scur', 'status', 'weight', 'type', 'addr', 'check_status'].map(at) as [number, number, number, number, number, number, number, number];
  const rows: HaproxyServerStat[] = [];
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    const field = (index: number): string => (index < 0 ? '' : (fields[index] ?? ''));
    if (field(type) !== '2') continue;
    rows.push({
      backend: field(pxname),
      server: field(svname),
      status: field(status),
      scur: Number(field(scur)) || 0,
      weight: Number(field(weight)) || 0,
      addr: field(addr) || null,
      checkStatus: field(checkStatus) || null,
    });
  }
  return rows;
}
