// Copies of the platform port's listening handle (src/server/extra-acceptors.ts): a burst of waiting
// connections is taken in a few turns of the event loop instead of one per turn, the copies'
// connections are served by the server, closing the copies frees the port, and a helper that cannot
// run leaves the server on its own handle with a warning. Real sockets, a real helper process.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { addExtraAcceptors, type ExtraAcceptors } from '../../src/server/extra-acceptors.ts';

const BURST = 40;

describe('extra acceptors on a listening socket', function () {
  this.timeout(20_000);
  let server: http.Server;
  let port = 0;
  let extra: ExtraAcceptors | undefined;
  const sockets: net.Socket[] = [];
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });

  beforeEach(async () => {
    warnings.length = 0;
    server = http.createServer((req, res) => res.end(`served ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    extra?.close();
    extra = undefined;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /**
   * Opens BURST connections while the event loop is kept busy, so that all of them wait in the
   * socket's backlog, then counts the turns of the loop in which the server accepted them.
   */
  async function turnsToAcceptBurst(): Promise<number> {
    let turn = 0;
    let counting = true;
    const nextTurn = (): void => {
      turn++;
      if (counting) setImmediate(nextTurn);
    };
    nextTurn();
    const turnsSeen = new Set<number>();
    let accepted = 0;
    const allAccepted = new Promise<void>((resolve) => {
      server.on('connection', () => {
        turnsSeen.add(turn);
        if (++accepted === BURST) resolve();
      });
    });
    for (let i = 0; i < BURST; i++) sockets.push(net.connect(port, '127.0.0.1'));
    // After the connects (they are made on the next tick), hold the loop so the kernel queues them.
    process.nextTick(() => {
      const until = performance.now() + 150;
      while (performance.now() < until);
    });
    await allAccepted;
    counting = false;
    return turnsSeen.size;
  }

  it('takes a burst of waiting connections in a few turns of the event loop, not one a turn', async () => {
    const alone = await turnsToAcceptBurst();
    // Node 20 (libuv ≥ 1.45) accepts one connection per turn per handle: why the copies exist.
    assert.ok(alone >= BURST / 2, `without copies ${BURST} connections took only ${alone} turns: if Node accepts several per turn again, the copies are no longer needed`);
    for (const socket of sockets.splice(0)) socket.destroy();

    extra = addExtraAcceptors(server, 7, logger);
    assert.equal(await extra.ready, 7);
    const withCopies = await turnsToAcceptBurst();
    assert.ok(withCopies <= Math.ceil(BURST / 8) + 3, `with 8 handles ${BURST} connections took ${withCopies} turns`);
  });

  it('serves the requests of connections the copies accepted', async () => {
    extra = addExtraAcceptors(server, 3, logger);
    await extra.ready;
    const agent = new http.Agent({ keepAlive: false, maxSockets: 20 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<string>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: `/r${i}`, agent }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve(body));
          }).on('error', reject);
        }),
      ),
    );
    assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => `served /r${i}`));
  });

  it('keeps the port open until the copies close too', async () => {
    extra = addExtraAcceptors(server, 2, logger);
    assert.equal(await extra.ready, 2);
    await new Promise((resolve) => server.close(resolve));
    assert.equal(await connectOutcome(port), 'connected', 'the copies still listen after the server closed its own handle');
    extra.close();
    assert.equal(await connectOutcome(port), 'ECONNREFUSED');
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)); // for afterEach
  });

  it('leaves the server on its own handle, with a warning, when the helper cannot run', async () => {
    extra = addExtraAcceptors(server, 7, logger, '/nonexistent/node');
    assert.equal(await extra.ready, 0);
    assert.match(warnings.join(''), /one connection accepted per turn/);
    assert.match(warnings.join(''), /spawn \/nonexistent\/node ENOENT/);
    assert.equal(await connectOutcome(port), 'connected');
  });

  it('closes at once even while the helper is at work, and leaves no copy listening', async () => {
    extra = addExtraAcceptors(server, 7, logger);
    extra.close(); // the helper has just been spawned
    assert.equal(await extra.ready, 0);
    assert.equal(warnings.length, 0, 'closing is not a failure to warn about');
    await new Promise((resolve) => server.close(resolve));
    assert.equal(await connectOutcome(port), 'ECONNREFUSED');
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)); // for afterEach
  });
});

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
