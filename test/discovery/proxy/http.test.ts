// The built-in load balancer in HTTP mode, with real HTTP servers on loopback: each algorithm's
// distribution, routing by host and path, retries past refusing servers and reset keep-alive
// connections, passive ejection and its end, bodies, X-Forwarded-* headers and upgrades.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';
import { BuiltinDataPlane } from '../../../src/discovery/proxy/index.ts';
import type { LbRoute } from '../../../src/discovery/model.ts';
import { ManualTime } from '../../helpers/manual-time.ts';
import { HOST, SILENT, freePort, httpBackend, lbModel, lbRoute, lbServer, request, until, type HttpBackend } from './helpers.ts';

describe('builtin load balancer: http', () => {
  let time: ManualTime;
  let plane: BuiltinDataPlane;
  let backends: HttpBackend[];
  let port: number;
  let agent: http.Agent;

  beforeEach(async () => {
    time = new ManualTime('2030-01-01T00:00:00Z');
    plane = new BuiltinDataPlane({ bindHost: HOST, logger: SILENT, clock: time });
    backends = [];
    port = await freePort();
    agent = new http.Agent({ keepAlive: true });
  });

  afterEach(async () => {
    agent.destroy();
    await plane.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  const backend = async (name: string, handler?: Parameters<typeof httpBackend>[1], at?: number): Promise<HttpBackend> => {
    const started = await httpBackend(name, handler, at);
    backends.push(started);
    return started;
  };
  const serve = (...routes: LbRoute[]): Promise<void> => plane.apply(lbModel({ port, mode: 'http', routes }));
  const get = (options: Parameters<typeof request>[1] = {}) => request(port, { agent, ...options });
  const tally = async (n: number, options: Parameters<typeof request>[1] = {}): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const answer = await get(options);
      assert.equal(answer.status, 200, answer.body);
      const name = String(answer.headers['x-backend']);
      counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
  };

  it('round robin gives weights 1:3 a 25/75 split', async () => {
    const [a, b] = [await backend('a'), await backend('b')];
    await serve(lbRoute('r', [lbServer('a', a.port, { weight: 1 }), lbServer('b', b.port, { weight: 3 })]));
    assert.deepEqual(await tally(400), { a: 100, b: 300 });
  });

  it('leastconn sends to the idle server while the other holds a slow request', async () => {
    const held: http.ServerResponse[] = [];
    const slow = await backend('slow', (_req, res) => {
      res.setHeader('x-backend', 'slow');
      held.push(res);
    });
    const fast = await backend('fast');
    await serve(lbRoute('r', [lbServer('slow', slow.port), lbServer('fast', fast.port)], { balance: 'leastconn' }));
    const first = get();
    await until(() => held.length === 1);
    assert.deepEqual(await tally(10), { fast: 10 });
    const busy = (await plane.status()).servers.find((s) => s.id === 'slow')!;
    assert.equal(busy.connections, 1);
    held[0]!.end('done');
    assert.equal((await first).body, 'done');
  });

  it('source sends each client IP to the same server, and a removed server moves only its clients', async () => {
    const [a, b, c] = [await backend('a'), await backend('b'), await backend('c')];
    const route = (...ids: string[]) => lbRoute('r', ids.map((id) => lbServer(id, { a, b, c }[id]!.port)), { balance: 'source' });
    await serve(route('a', 'b', 'c'));
    const clients = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 2}`);
    const landing = async (): Promise<Map<string, string>> => {
      const where = new Map<string, string>();
      for (const localAddress of clients) {
        const seen = new Set<string>();
        for (let i = 0; i < 3; i++) seen.add(String((await get({ localAddress, agent: false })).headers['x-backend']));
        assert.equal(seen.size, 1, `${localAddress} went to ${[...seen]}`);
        where.set(localAddress, [...seen][0]!);
      }
      return where;
    };
    const before = await landing();
    assert.deepEqual(new Set(before.values()), new Set(['a', 'b', 'c']), 'the client IPs spread over every server');
    await serve(route('a', 'c'));
    const after = await landing();
    for (const client of clients) {
      if (before.get(client) !== 'b') assert.equal(after.get(client), before.get(client), `${client} moved`);
      else assert.notEqual(after.get(client), 'b');
    }
  });

  it('routes by host and path in the order given, and answers 503 when nothing matches', async () => {
    const [api, site, any] = [await backend('api'), await backend('site'), await backend('any')];
    await serve(
      lbRoute('api', [lbServer('api', api.port)], { hosts: ['example.com'], pathPrefix: '/api' }),
      lbRoute('site', [lbServer('site', site.port)], { hosts: ['example.com', 'www.example.com'] }),
      lbRoute('static', [lbServer('any', any.port)], { pathPrefix: '/static' }),
    );
    const table: Array<[string, string, number, string]> = [
      ['Example.com:' + port, '/api/users?id=1', 200, 'api GET /api/users?id=1'],
      ['example.com', '/apiary', 200, 'site GET /apiary'],
      ['www.example.com', '/api/users', 200, 'site GET /api/users'],
      ['other.org', '/static/app.js', 200, 'any GET /static/app.js'],
      ['other.org', '/index.html', 503, 'no route for host other.org and path /index.html\n'],
    ];
    for (const [host, path, status, body] of table) {
      const answer = await get({ host, path });
      assert.deepEqual([answer.status, answer.body], [status, body], `${host}${path}`);
    }
  });

  it('answers 503 naming the route when none of its servers is in service', async () => {
    const a = await backend('a');
    await serve(lbRoute('r', [lbServer('a', a.port, { draining: true }), lbServer('z', a.port, { weight: 0 })]));
    const answer = await get();
    assert.deepEqual([answer.status, answer.body], [503, 'no healthy backend for route r\n']);
  });

  it('passes X-Forwarded-* headers, bodies both ways, and drops hop-by-hop headers', async () => {
    const a = await backend('a');
    await serve(lbRoute('r', [lbServer('a', a.port)]));
    const body = Buffer.alloc(3 * 1024 * 1024, 'x');
    const answer = await get({ method: 'POST', path: '/upload', host: 'app.example', body, headers: { 'x-forwarded-for': '192.0.2.1', 'keep-alive': 'timeout=9', te: 'trailers' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.length, body.length);
    const seen = a.requests[0]!.headers;
    assert.equal(seen['x-forwarded-for'], '192.0.2.1, 127.0.0.1');
    assert.equal(seen['x-forwarded-host'], 'app.example');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-port'], String(port));
    assert.equal(seen.host, 'app.example');
    assert.equal(seen.te, undefined);
    assert.equal(seen['keep-alive'], undefined);
  });

  it('streams a chunked body of any method both ways', async () => {
    const a = await backend('a');
    await serve(lbRoute('r', [lbServer('a', a.port)]));
    for (const method of ['POST', 'DELETE']) {
      const req = http.request({ host: HOST, port, method, path: '/chunks', headers: { 'transfer-encoding': 'chunked' } });
      const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
      req.write('one,');
      req.write('two,');
      req.end('three');
      const [res] = await response;
      let text = '';
      for await (const chunk of res) text += String(chunk);
      assert.deepEqual([res.statusCode, text], [200, 'one,two,three'], method);
    }
  });

  it('retries past a refusing server, ejects it, and tries it again once the period is over', async () => {
    const a = await backend('a');
    const deadPort = await freePort();
    await serve(lbRoute('r', [lbServer('dead', deadPort), lbServer('a', a.port)]));
    assert.deepEqual(await tally(8), { a: 8 });
    const dead = async () => (await plane.status()).servers.find((s) => s.id === 'dead')!;
    assert.deepEqual([(await dead()).state, (await dead()).reason], ['down', 'refused 3 connections in a row: ECONNREFUSED; ejected for 5s']);
    // Still ejected: no request goes there (its reason would have changed).
    assert.deepEqual(await tally(4), { a: 4 });
    assert.equal((await dead()).reason, 'refused 3 connections in a row: ECONNREFUSED; ejected for 5s');
    // Over: it is tried again, fails once more on probation and is ejected for twice as long.
    time.jump(5000);
    assert.equal((await dead()).state, 'up');
    await until(async () => {
      assert.equal((await get()).status, 200);
      return (await dead()).state === 'down';
    });
    assert.equal((await dead()).reason, 'refused 4 connections in a row: ECONNREFUSED; ejected for 10s');
    // It comes back: once the period is over it gets requests and is up.
    const back = await backend('dead', undefined, deadPort);
    time.jump(10_000);
    await until(async () => {
      assert.equal((await get()).status, 200);
      return back.requests.length > 0;
    });
    assert.deepEqual([(await dead()).state, (await dead()).reason], ['up', null]);
  });

  it('tries servers that are all ejected rather than refusing (panic mode)', async () => {
    const deadPort = await freePort();
    await serve(lbRoute('r', [lbServer('dead', deadPort)]));
    for (let i = 0; i < 3; i++) assert.equal((await get()).status, 503);
    assert.equal((await plane.status()).servers[0]!.state, 'down');
    const back = await backend('dead', undefined, deadPort);
    assert.equal((await get()).body, 'dead GET /');
    assert.equal(back.requests.length, 1);
    assert.equal((await plane.status()).servers[0]!.state, 'up');
  });

  it('sends a request again when its reused keep-alive connection was reset, unless sending it twice is unsafe', async () => {
    // The server drops a kept-alive connection when a second request comes on it, as one closing idle connections does.
    const perSocket = new WeakMap<net.Socket, number>();
    const a = await backend('a', (req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n > 1) return req.socket.destroy();
      req.resume();
      req.on('end', () => res.end(`a ${req.method}`));
    });
    await serve(lbRoute('r', [lbServer('a', a.port)]));
    for (let i = 0; i < 4; i++) assert.equal((await get()).body, 'a GET');
    assert.equal((await get({ method: 'PUT', body: 'data' })).body, 'a PUT');
    assert.equal((await get({ method: 'POST' })).body, 'a POST');
    const unsafe = await get({ method: 'POST', body: 'data' });
    assert.equal(unsafe.status, 502);
    assert.match(unsafe.body, /^backend a at 127\.0\.0\.1:\d+ of route r failed: ECONNRESET/);
  });

  it('closes a draining server idle keep-alive connections and sends it nothing new', async () => {
    const [a, b] = [await backend('a'), await backend('b')];
    await serve(lbRoute('r', [lbServer('a', a.port), lbServer('b', b.port)]));
    assert.deepEqual(await tally(4), { a: 2, b: 2 });
    const connectionsOf = (server: http.Server) => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    assert.equal(await connectionsOf(a.server), 1);
    await serve(lbRoute('r', [lbServer('a', a.port, { draining: true }), lbServer('b', b.port)]));
    await until(async () => (await connectionsOf(a.server)) === 0);
    assert.deepEqual(await tally(4), { b: 4 });
  });

  it('passes an upgrade (WebSocket-like) through as bytes', async () => {
    const a = await backend('a');
    a.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Forwarded-For: ${req.headers['x-forwarded-for']}\r\n\r\n`);
      socket.pipe(socket);
    });
    await serve(lbRoute('r', [lbServer('a', a.port)]));
    const req = http.request({ host: HOST, port, path: '/ws', headers: { connection: 'Upgrade', upgrade: 'echo' } });
    req.end();
    const [res, socket] = (await once(req, 'upgrade')) as [http.IncomingMessage, net.Socket];
    assert.equal(res.statusCode, 101);
    assert.equal(res.headers['x-forwarded-for'], '127.0.0.1');
    socket.write('ping');
    const [echoed] = (await once(socket, 'data')) as [Buffer];
    assert.equal(echoed.toString(), 'ping');
    socket.destroy();
  });
});
