// The built-in load balancer in TCP mode, with real echo servers on loopback: bytes both ways with
// half-close, servers that refuse, draining, listeners added and removed, a port already in use.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { BuiltinDataPlane } from '../../../src/discovery/proxy/index.ts';
import { HOST, SILENT, TcpClient, freePort, lbModel, lbRoute, lbServer, request, tcpBackend, until, type TcpBackend } from './helpers.ts';

describe('builtin load balancer: tcp', () => {
  let plane: BuiltinDataPlane;
  let backends: TcpBackend[];
  let clients: TcpClient[];

  beforeEach(() => {
    plane = new BuiltinDataPlane({ bindHost: HOST, logger: SILENT });
    backends = [];
    clients = [];
  });

  afterEach(async () => {
    for (const client of clients) client.socket.destroy();
    await plane.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  const backend = async (name: string): Promise<TcpBackend> => {
    const started = await tcpBackend(name);
    backends.push(started);
    return started;
  };
  const connect = (port: number): TcpClient => {
    const client = new TcpClient(port);
    clients.push(client);
    return client;
  };
  const greeting = async (client: TcpClient): Promise<string> => {
    await client.waitFor('\n');
    return client.received.split('\n')[0]!;
  };

  it('passes bytes both ways and keeps a half-close', async () => {
    const a = await backend('a');
    const port = await freePort();
    await plane.apply(lbModel({ port, mode: 'tcp', routes: [lbRoute('r', [lbServer('a', a.port)])] }));
    const client = connect(port);
    client.socket.write('hello\n');
    await client.waitFor('hello\n');
    // The client stops sending; the server still answers, then closes.
    client.socket.end();
    await client.closed;
    assert.equal(client.received, 'a\nhello\nbye\n');
    assert.equal(client.ended, true);
  });

  it('sends the bytes a client sent before the server accepted, after trying past a refusing one', async () => {
    const a = await backend('a');
    const dead = await freePort();
    const port = await freePort();
    await plane.apply(lbModel({ port, mode: 'tcp', routes: [lbRoute('r', [lbServer('dead', dead), lbServer('a', a.port)])] }));
    for (let i = 0; i < 6; i++) {
      const client = connect(port);
      client.socket.end(`m${i}\n`);
      await client.closed;
      assert.equal(client.received, `a\nm${i}\nbye\n`);
    }
    const { servers } = await plane.status();
    const down = servers.find((s) => s.id === 'dead')!;
    assert.equal(down.state, 'down');
    assert.equal(down.reason, 'refused 3 connections in a row: ECONNREFUSED; ejected for 5s');
  });

  it('closes a client when the route has no server to go to', async () => {
    const dead = await freePort();
    const port = await freePort();
    await plane.apply(lbModel({ port, mode: 'tcp', routes: [lbRoute('r', [lbServer('draining', dead, { draining: true }), lbServer('dead', dead), lbServer('zero', dead, { weight: 0 })])] }));
    const client = connect(port);
    await client.gone;
    assert.equal(client.received, '');
  });

  it('keeps an open connection to a draining server and sends new ones elsewhere', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const port = await freePort();
    const listener = (drainA: boolean) => ({ port, mode: 'tcp' as const, routes: [lbRoute('r', [lbServer('a', a.port, { draining: drainA }), lbServer('b', b.port)])] });
    await plane.apply(lbModel(listener(false)));
    const first = connect(port);
    assert.equal(await greeting(first), 'a');
    await plane.apply(lbModel(listener(true)));
    const status = (await plane.status()).servers.find((s) => s.id === 'a')!;
    assert.deepEqual([status.state, status.connections], ['draining', 1]);
    for (let i = 0; i < 3; i++) assert.equal(await greeting(connect(port)), 'b');
    first.socket.write('still here\n');
    await first.waitFor('still here\n');
    // Removed from the model altogether: still open, still listed while it lasts.
    await plane.apply(lbModel({ port, mode: 'tcp', routes: [lbRoute('r', [lbServer('b', b.port)])] }));
    first.socket.write('and here\n');
    await first.waitFor('and here\n');
    const retired = (await plane.status()).servers.find((s) => s.id === 'a')!;
    assert.deepEqual([retired.state, retired.connections], ['draining', 1]);
    first.socket.end();
    await first.closed;
    await until(async () => !(await plane.status()).servers.some((s) => s.id === 'a'));
  });

  it('keeps the balancing across apply() for servers that remain', async () => {
    const [a, b, c] = [await backend('a'), await backend('b'), await backend('c')];
    const port = await freePort();
    const route = (servers: ReturnType<typeof lbServer>[]) => lbModel({ port, mode: 'tcp', routes: [lbRoute('r', servers)] });
    await plane.apply(route([lbServer('a', a.port), lbServer('b', b.port)]));
    assert.equal(await greeting(connect(port)), 'a');
    await plane.apply(route([lbServer('a', a.port), lbServer('b', b.port)]));
    assert.equal(await greeting(connect(port)), 'b');
    await plane.apply(route([lbServer('a', a.port), lbServer('b', b.port), lbServer('c', c.port)]));
    const next = [await greeting(connect(port)), await greeting(connect(port)), await greeting(connect(port))];
    assert.deepEqual([...next].sort(), ['a', 'b', 'c']);
  });

  it('stops accepting on a removed listener while its open connections go on', async () => {
    const a = await backend('a');
    const [kept, removed] = [await freePort(), await freePort()];
    const route = lbRoute('r', [lbServer('a', a.port)]);
    await plane.apply(lbModel({ port: kept, mode: 'tcp', routes: [route] }, { port: removed, mode: 'tcp', routes: [{ ...route, name: 'r2' }] }));
    const open = connect(removed);
    assert.equal(await greeting(open), 'a');
    await plane.apply(lbModel({ port: kept, mode: 'tcp', routes: [route] }));
    const refused = net.connect({ host: HOST, port: removed });
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
    open.socket.write('ping\n');
    await open.waitFor('ping\n');
    assert.equal(await greeting(connect(kept)), 'a');
    // Applying the same model again changes nothing.
    await plane.apply(lbModel({ port: kept, mode: 'tcp', routes: [route] }));
    open.socket.write('pong\n');
    await open.waitFor('pong\n');
  });

  it('reports a port it cannot bind and serves the others; binds it at a later apply once free', async () => {
    const a = await backend('a');
    const busy = net.createServer();
    busy.listen(0, HOST);
    await once(busy, 'listening');
    const busyPort = (busy.address() as net.AddressInfo).port;
    const freeOne = await freePort();
    const model = lbModel({ port: busyPort, mode: 'tcp', routes: [lbRoute('r1', [lbServer('a', a.port)])] }, { port: freeOne, mode: 'tcp', routes: [lbRoute('r2', [lbServer('a', a.port)])] });
    await plane.apply(model);
    const status = await plane.status();
    assert.equal(status.healthy, false);
    assert.match(status.message ?? '', new RegExp(`port ${busyPort}: .*EADDRINUSE`));
    assert.equal(await greeting(connect(freeOne)), 'a');
    await new Promise((resolve) => busy.close(resolve));
    await plane.apply(model);
    assert.deepEqual([(await plane.status()).healthy, (await plane.status()).message], [true, null]);
    assert.equal(await greeting(connect(busyPort)), 'a');
  });

  it('reopens a listener whose mode changes, on the same port', async () => {
    const a = await backend('a');
    const port = await freePort();
    await plane.apply(lbModel({ port, mode: 'tcp', routes: [lbRoute('r', [lbServer('a', a.port)])] }));
    const open = connect(port);
    assert.equal(await greeting(open), 'a');
    const { httpBackend } = await import('./helpers.ts');
    const web = await httpBackend('web');
    try {
      await plane.apply(lbModel({ port, mode: 'http', routes: [lbRoute('w', [lbServer('w', web.port)])] }));
      assert.equal((await plane.status()).healthy, true);
      assert.equal((await request(port)).body, 'web GET /');
      open.socket.write('tcp still\n');
      await open.waitFor('tcp still\n');
    } finally {
      await web.close();
    }
  });

  it('ends every connection on close()', async () => {
    const a = await backend('a');
    const port = await freePort();
    await plane.apply(lbModel({ port, mode: 'tcp', routes: [lbRoute('r', [lbServer('a', a.port)])] }));
    const open = connect(port);
    assert.equal(await greeting(open), 'a');
    await plane.close();
    await open.gone;
  });
});
