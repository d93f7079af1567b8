// The managed HAProxy with the real haproxy and real servers on 127.0.0.1: a model applied serves; a
// server that comes or goes is a runtime change on the same worker (no reload); a draining server keeps
// its open connections and gets no new ones; status() tells each server's state and connections.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pino from 'pino';
import { HaproxyDataPlane } from '../../../src/discovery/haproxy/index.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';
import { bodies, freePort, get, HAPROXY, httpBackend, listener, model, requireHaproxy, route, server, tcpBackend, tcpConnect, type Backend, type HttpBackend } from './helpers.ts';

describe('HAProxy data plane', function () {
  this.timeout(60_000);
  let plane: HaproxyDataPlane | undefined;
  const backends: Backend[] = [];
  let a: HttpBackend, b: HttpBackend, c: HttpBackend;
  let httpPort = 0;
  let tcpPort = 0;

  before(async function () {
    requireHaproxy(this);
    [a, b, c] = await Promise.all([httpBackend('a'), httpBackend('b'), httpBackend('c')]);
    backends.push(a, b, c);
    [httpPort, tcpPort] = [await freePort(), await freePort()];
    plane = new HaproxyDataPlane({ workDir: path.join(tempDir('haproxy-plane'), 'haproxy'), binary: HAPROXY, bindHost: '127.0.0.1', logger: pino({ level: 'silent' }), stopTimeoutMs: 5000, hardStopAfterMs: 10_000 });
  });

  after(async () => {
    const master = plane?.process.masterPid();
    await plane?.close();
    if (master != null) assert.throws(() => process.kill(master, 0), 'HAProxy is gone after close()');
    await Promise.all(backends.map((backend) => backend.close()));
  });

  const workerPid = async (): Promise<number> => {
    const info = await plane!.process.procInfo();
    assert.equal(info.workers.length, 1);
    return info.workers[0]!;
  };

  const getWith = (agent: http.Agent): Promise<string> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: httpPort, path: '/', agent }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve(body));
        })
        .on('error', reject);
    });

  it('applies a model: HTTP requests go through, round robin over the servers', async () => {
    await plane!.apply(model(1, [listener(httpPort, 'http', [route('web', [server(a), server(b)])])]));
    const seen = await bodies(httpPort, 6);
    assert.deepEqual(new Set(seen), new Set(['a', 'b']));
    const status = await plane!.status();
    assert.equal(status.healthy, true, status.message ?? '');
    assert.deepEqual(status.servers.map((s) => [s.id, s.route, s.state]), [['a:0', 'web', 'up'], ['b:0', 'web', 'up']]);
    assert.match(readFileSync(plane!.configFile, 'utf8'), /expose-fd listeners/);
  });

  it('applying the same model again changes nothing', async () => {
    const worker = await workerPid();
    const config = readFileSync(plane!.configFile, 'utf8');
    await plane!.apply(model(1, [listener(httpPort, 'http', [route('web', [server(a), server(b)])])]));
    assert.equal(await workerPid(), worker);
    assert.equal(readFileSync(plane!.configFile, 'utf8'), config);
  });

  it('a server replaced by another is a runtime change: same worker, the new one serves, the removed one gets nothing', async () => {
    // Keep-alive requests first, so that HAProxy holds idle connections to a that it could reuse.
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });
    await Promise.all(Array.from({ length: 8 }, () => getWith(keepAlive)));
    const worker = await workerPid();
    const reloadsBefore = (await plane!.process.procInfo()).reloads;
    await plane!.apply(model(2, [listener(httpPort, 'http', [route('web', [server(b), server(c)])])]));
    const aHits = a.hits;
    const seen = [...(await bodies(httpPort, 8)), ...(await Promise.all(Array.from({ length: 8 }, () => getWith(keepAlive))))];
    keepAlive.destroy();
    assert.deepEqual(new Set(seen), new Set(['b', 'c']));
    assert.equal(a.hits, aHits, 'the removed server took no request');
    const info = await plane!.process.procInfo();
    assert.equal(info.reloads, reloadsBefore, 'no reload');
    assert.equal(await workerPid(), worker, 'the same worker');
    // The file on disk says the same, for the next start: c took a's slot (s1), b kept s2.
    const config = readFileSync(plane!.configFile, 'utf8');
    assert.match(config, new RegExp(`server s1 127\\.0\\.0\\.1:${c.port} weight 1  # c:0`));
    assert.match(config, new RegExp(`server s2 127\\.0\\.0\\.1:${b.port} weight 1  # b:0`));
  });

  it('a weight of 0 takes a server out of the rotation at runtime', async () => {
    const worker = await workerPid();
    await plane!.apply(model(3, [listener(httpPort, 'http', [route('web', [server(b, { weight: 0 }), server(c)])])]));
    assert.deepEqual(new Set(await bodies(httpPort, 6)), new Set(['c']));
    await plane!.apply(model(4, [listener(httpPort, 'http', [route('web', [server(b), server(c)])])]));
    assert.deepEqual(new Set(await bodies(httpPort, 6)), new Set(['b', 'c']));
    assert.equal(await workerPid(), worker);
  });

  it('HTTP: a draining server finishes the request it has but gets no new one', async () => {
    const worker = await workerPid();
    const holding = new http.Agent({ keepAlive: false });
    const hold = (): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const request = http.get({ host: '127.0.0.1', port: httpPort, path: '/hold', agent: holding }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on('error', reject);
      });
    // Round robin over two: two requests, one on each.
    const pending = [hold(), hold()];
    await Promise.all([b.held(), c.held()]);
    await plane!.apply(model(5, [listener(httpPort, 'http', [route('web', [server(b, { draining: true }), server(c)])])]));
    assert.deepEqual(new Set(await bodies(httpPort, 6)), new Set(['c']), 'new requests go to c only');
    const status = await plane!.status();
    const drained = status.servers.find((s) => s.id === 'b:0')!;
    assert.equal(drained.state, 'draining');
    assert.equal(drained.connections, 1, "b's open request is counted");
    b.release();
    c.release();
    const answers = await Promise.all(pending);
    assert.deepEqual(answers.map((x) => [x.status, x.body]).sort(), [[200, 'b'], [200, 'c']], 'the held requests are answered, b by b');
    holding.destroy();
    assert.equal(await workerPid(), worker);
  });

  it('TCP: a draining server keeps its open connection; new connections go to the others', async () => {
    const [x, y] = await Promise.all([tcpBackend('x'), tcpBackend('y')]);
    backends.push(x, y);
    const http1 = listener(httpPort, 'http', [route('web', [server(b, { draining: true }), server(c)])]);
    await plane!.apply(model(6, [http1, listener(tcpPort, 'tcp', [route('echo', [server(x), server(y)])])]));
    const clients = [await tcpConnect(tcpPort), await tcpConnect(tcpPort)];
    const onY = clients.find((client) => client.greeting === 'y')!;
    assert.ok(onY, `one connection on each: ${clients.map((cl) => cl.greeting).join(',')}`);
    const worker = await workerPid();
    await plane!.apply(model(7, [http1, listener(tcpPort, 'tcp', [route('echo', [server(x), server(y, { draining: true })])])]));
    for (let i = 0; i < 4; i++) {
      const client = await tcpConnect(tcpPort);
      assert.equal(client.greeting, 'x', 'a new connection goes to x');
      client.close();
    }
    assert.equal(await onY.say('still there?'), 'y:still there?', 'the draining server keeps its open connection');
    const status = await plane!.status();
    assert.deepEqual(status.servers.filter((s) => s.route === 'echo').map((s) => [s.id, s.state, s.connections]), [['x:0', 'up', 1], ['y:0', 'draining', 1]]);
    assert.equal(await workerPid(), worker, 'draining took no reload');
    for (const client of clients) client.close();
  });

  it('more servers than slots: a reload, and every server serves', async () => {
    const many = await Promise.all(Array.from({ length: 9 }, (_, i) => httpBackend(`m${i}`)));
    backends.push(...many);
    const worker = await workerPid();
    await plane!.apply(model(8, [listener(httpPort, 'http', [route('web', many.map((m) => server(m)))])]));
    assert.notEqual(await workerPid(), worker, 'a new worker');
    assert.deepEqual(new Set(await bodies(httpPort, 18)), new Set(many.map((m) => m.name)));
    assert.equal((readFileSync(plane!.configFile, 'utf8').match(/^ {2}server /gm) ?? []).length, 16, '16 slots');
  });

  it('a server that refuses connections (gone before the catalog knew): its requests and connections are retried on another', async () => {
    const dead = { name: 'dead', port: await freePort(), hits: 0, close: async () => undefined };
    const [x] = [await tcpBackend('x2')];
    backends.push(x);
    await plane!.apply(model(10, [listener(httpPort, 'http', [route('web', [server(dead), server(a)])]), listener(tcpPort, 'tcp', [route('echo', [server(dead), server(x)])])]));
    assert.deepEqual(new Set(await bodies(httpPort, 8)), new Set(['a']), 'every request answered, by a');
    for (let i = 0; i < 4; i++) {
      const client = await tcpConnect(tcpPort);
      assert.equal(client.greeting, 'x2');
      client.close();
    }
  });

  it('answers 503 with a reason when no route matches', async () => {
    const port = await freePort();
    await plane!.apply(model(9, [listener(port, 'http', [route('api', [server(a)], { hosts: ['api.example.com'], pathPrefix: '/v1' })])]));
    assert.deepEqual(await get(port, '/v1/users', 'API.example.com:8080'), { status: 200, body: 'a' });
    const miss = await get(port, '/v2', 'api.example.com');
    assert.equal(miss.status, 503);
    assert.equal(miss.body, "gantry: no route for host 'api.example.com' and path '/v2'\n");
    assert.equal((await get(port, '/v1x', 'api.example.com')).status, 503, '/v1 answers below it, not /v1x');
  });
});
