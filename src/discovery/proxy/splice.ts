// Two sockets joined both ways (TCP mode, HTTP upgrades), with TCP's half-close kept: when one side
// ends its sending (FIN), the other side's sending is ended too and the reverse direction goes on until
// it ends as well. An error or an abrupt close on either side destroys both.
import type net from 'node:net';

/** `onClosed` runs once both sockets are closed. */
export function splice(client: net.Socket, upstream: net.Socket, onClosed: () => void): void {
  let open = 2;
  const closed = (): void => {
    if (--open === 0) onClosed();
  };
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  for (const [socket, other] of [
    [client, upstream],
    [upstream, client],
  ] as const) {
    socket.on('error', destroyBoth);
    // Closed with the other side's sending not ended by the pipe: it did not end cleanly.
    socket.on('close', () => {
      if (!other.writableEnded) other.destroy();
    });
    if (socket.closed) closed();
    else socket.once('close', closed);
  }
  if (client.destroyed || upstream.destroyed) return destroyBoth();
  client.pipe(upstream);
  upstream.pipe(client);
}
