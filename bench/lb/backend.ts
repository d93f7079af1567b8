// One backend of the load balancer bench, as its own process (its own event loop): a plain node:http
// server on loopback answering every request with a short body (`<name>\n`, 200). Driven over IPC by
// the bench: it says `{ready, port}` once listening; `stop` is an instance going away after its drain
// (stop accepting, close idle keep-alive connections at once, cut what is left 1 s later, as the
// process's exit would); `start` listens again on the same port (a new instance that passed its check).
//
// Usage (the bench spawns it): node --import tsx bench/lb/backend.ts NAME [PORT]
import http from 'node:http';
import type net from 'node:net';

const name = process.argv[2] ?? 'backend';
const wantedPort = Number(process.argv[3] ?? 0);
const body = Buffer.from(`${name}\n`);

const server = http.createServer((request, response) => {
  // Drain what a request carries (none here), then answer.
  request.resume();
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
let port = wantedPort;
let cutTimer: NodeJS.Timeout | undefined;

function listen(): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => reject(err);
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      port = (server.address() as net.AddressInfo).port;
      resolve();
    });
  });
}

process.on('message', (message: { op: 'stop' | 'start'; seq: number }) => {
  if (message.op === 'stop') {
    if (server.listening) {
      server.close();
      server.closeIdleConnections();
      clearTimeout(cutTimer);
      cutTimer = setTimeout(() => server.closeAllConnections(), 1000);
    }
    process.send!({ seq: message.seq, ok: true });
  } else if (message.op === 'start') {
    clearTimeout(cutTimer);
    const started = server.listening ? Promise.resolve() : listen();
    started.then(
      () => process.send!({ seq: message.seq, ok: true }),
      (err: Error) => process.send!({ seq: message.seq, ok: false, error: err.message }),
    );
  }
});
process.on('disconnect', () => process.exit(0));

listen().then(
  () => process.send!({ ready: true, port }),
  (err: Error) => {
    console.error(`${name}: cannot listen on ${port}: ${err.message}`);
    process.exit(1);
  },
);
