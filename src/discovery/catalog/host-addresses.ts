// Agents register by hostname; DNS records and load balancers need addresses. Each hostname is resolved
// once (IPv4 first) and kept for the life of the process: an agent's hostname does not move between
// addresses while it runs, and a lookup per catalog change would put the system resolver on the path
// of every instance change. An address literal is its own address.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export class HostAddresses {
  private readonly known = new Map<string, string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    /** Called once a hostname's address is known, so that what waited for it is built again. */
    private readonly resolved: (host: string) => void,
    private readonly resolve: (host: string) => Promise<string> = async (host) => (await lookup(host, { family: 0, order: 'ipv4first' })).address,
    private readonly warn: (host: string, err: Error) => void = () => undefined,
  ) {}

  /** The address, or undefined while it is being looked up (`resolved` is called when it is known). */
  addressOf(host: string): string | undefined {
    if (isIP(host) !== 0) return host;
    const known = this.known.get(host);
    if (known !== undefined || this.pending.has(host)) return known;
    this.pending.set(
      host,
      this.resolve(host)
        .then((address) => {
          this.known.set(host, address);
          this.resolved(host);
        })
        .catch((err: Error) => this.warn(host, err))
        .finally(() => this.pending.delete(host)),
    );
    return undefined;
  }
}
