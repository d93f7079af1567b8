import { Invalid } from '../shared/errors.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `HOST:PORT` (`127.0.0.1:7070`, `[::1]:7070`, `:7070` = all interfaces). Port 0 = any free port. */
export function parseListenAddress(text: string, what: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new Invalid(`${what} must be HOST:PORT (got "${text}")`);
  const port = Number(match[3]);
  if (port > 65535) throw new Invalid(`${what} port must be 0..65535 (got ${port})`);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
