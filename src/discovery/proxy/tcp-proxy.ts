// TCP mode: each client connection is joined to a server of the listener's route, picked by the route's
// algorithm; a server that does not accept is replaced by another before a byte is exchanged. With no
// server to go to, the client's connection is closed.
import type net from 'node:net';
import type { Logger } from 'pino';
import type { BackendPool } from './backend-pool.ts';
import { clientAddressOf, connectToRoute, type ConnectOptions } from './connect.ts';
import { splice } from './splice.ts';

export function proxyTcpConnection(client: net.Socket, pool: BackendPool | undefined, options: ConnectOptions, logger: Logger): void {
  client.on('error', () => client.destroy());
  if (pool === undefined) {
    client.destroy();
    return;
  }
  const abort = new AbortController();
  const onClientClose = (): void => abort.abort();
  client.once('close', onClientClose);
  const clientAddress = clientAddressOf(client);
  void connectToRoute(pool, clientAddress, options, abort.signal).then((connected) => {
    client.off('close', onClientClose);
    if (connected.socket === null) {
      logger.debug({ route: pool.name, client: clientAddress, reason: connected.reason }, 'load balancer: tcp connection closed');
      client.destroy();
      return;
    }
    const { backend } = connected;
    splice(client, connected.socket, () => backend.closed());
  });
}
