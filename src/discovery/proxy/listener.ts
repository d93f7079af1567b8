// One port the proxy listens on, in TCP or HTTP mode, with its routes. Binding may fail (port in use,
// no permission): the failure is kept for status() and binding is tried again at the next apply().
// Stopping stops accepting while the connections open go on with the routes they had, to their end.
import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { LbListener, LbRoute } from '../model.ts';
import type { ConnectOptions } from './connect.ts';
import type { EjectionPolicy } from './ejection.ts';
import { proxyHttpRequest, proxyHttpUpgrade } from './http-proxy.ts';
import { RouteTable } from './route-table.ts';
import { proxyTcpConnection } from './tcp-proxy.ts';

export interface ListenerOptions extends ConnectOptions {
  clock: Clock;
  logger: Logger;
  ejection: EjectionPolicy;
}

export class ProxyListener {
  readonly port: number;
  readonly mode: 'tcp' | 'http';
  readonly routes: RouteTable;
  /** Why the port could not be bound at the last attempt, or null. */
  bindError: string | null = null;
  private readonly server: net.Server;
  private readonly clients = new Set<net.Socket>();
  private stopping = false;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;

  constructor(
    spec: LbListener,
    private readonly options: ListenerOptions,
  ) {
    this.port = spec.port;
    this.mode = spec.mode;
    this.routes = new RouteTable(options);
    this.routes.update(spec.routes);
    this.server = spec.mode === 'tcp' ? this.tcpServer() : this.httpServer();
    this.server.on('connection', (socket: net.Socket) => {
      this.clients.add(socket);
      socket.once('close', () => this.clients.delete(socket));
    });
    // Errors while binding are listen()'s to report.
    this.server.on('error', (err) => {
      if (this.server.listening) options.logger.error({ port: this.port, err }, 'load balancer: listener error');
    });
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.server.once('close', () => this.markClosed());
  }

  update(routes: readonly LbRoute[]): void {
    this.routes.update(routes);
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Binds the port unless bound already; a failure is recorded in bindError, not thrown. */
  async listen(host: string): Promise<void> {
    if (this.server.listening || this.stopping) return;
    this.bindError = await new Promise<string | null>((resolve) => {
      const onError = (err: Error): void => {
        this.server.off('listening', onListening);
        resolve(err.message);
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        resolve(null);
      };
      this.server.prependOnceListener('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ host, port: this.port });
    });
    if (this.bindError !== null) this.options.logger.error({ port: this.port, mode: this.mode, error: this.bindError }, 'load balancer: cannot listen');
  }

  /** Stops accepting. Resolves once every connection open has closed; the routes' agents then close. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      if (this.server.listening) this.server.close();
      else this.markClosed();
      if (this.server instanceof http.Server) this.server.closeIdleConnections();
      void this.closed.then(() => this.routes.destroy());
    }
    return this.closed;
  }

  /** Stops accepting and ends every connection open. */
  async destroy(): Promise<void> {
    const closed = this.stop();
    for (const socket of this.clients) socket.destroy();
    await closed;
  }

  private tcpServer(): net.Server {
    return net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => proxyTcpConnection(socket, this.routes.routes()[0], this.options, this.options.logger));
  }

  private httpServer(): http.Server {
    const server = http.createServer({ noDelay: true });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (this.stopping) {
        // The listener was removed: this connection's last request.
        res.setHeader('connection', 'close');
        res.once('finish', () => server.closeIdleConnections());
      }
      proxyHttpRequest(req, res, this.routes.routes(), { ...this.options, port: this.port });
    });
    server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => proxyHttpUpgrade(req, socket, head, this.routes.routes(), { ...this.options, port: this.port }));
    return server;
  }
}
