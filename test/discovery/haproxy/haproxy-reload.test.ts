// The managed HAProxy through reloads, refusals and crashes, with the real haproxy: a new listener is a
// seamless reload under steady load (every request answered, a TCP connection kept by the old worker);
// a configuration HAProxy refuses, or a port another process holds, keeps the last good one serving
// (its servers still follow the model) and status() says why; HAProxy killed -9 comes back.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { HaproxyDataPlane, type HaproxyDataPlaneOptions } from '../../../src/discovery/haproxy/index.ts';
import type { LbListener } from '../../../src/discovery/model.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';
import { bodies, freePort, HAPROXY, httpBackend, listener, model, requireHaproxy, route, server, steadyLoad, tcpBackend, tcpConnect, type Backend, type HttpBackend } from './helpers.ts';

/** Polls `check` until it holds (or throws its last failure after 20 s). */
async function eventually(check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe('HAProxy data plane: reloads, refusals, crashes', function () {
  this.timeout(60_000);
  const planes: HaproxyDataPlane[] = [];
  const backends: Backend[] = [];
  const pids = new Set<number>();
  let a: HttpBackend, b: HttpBackend, c: HttpBackend;

  const newPlane = (options: Partial<HaproxyDataPlaneOptions> = {}): HaproxyDataPlane => {
    const plane = new HaproxyDataPlane({ workDir: path.join(tempDir('haproxy-reload'), 'haproxy'), binary: HAPROXY, bindHost: '127.0.0.1', logger: pino({ level: 'silent' }), stopTimeoutMs: 5000, hardStopAfterMs: 15_000, restartDelays: { initialMs: 50, maxMs: 500 }, ...options });
    planes.push(plane);
    return plane;
  };
  /** Every HAProxy process of the plane now, remembered to be sure none outlives the tests. */
  const processes = async (plane: HaproxyDataPlane) => {
    const info = await plane.process.procInfo();
    for (const pid of [info.masterPid, ...info.workers, ...info.oldWorkers]) pids.add(pid);
    return info;
  };

  before(async function () {
    requireHaproxy(this);
    [a, b, c] = await Promise.all([httpBackend('a'), httpBackend('b'), httpBackend('c')]);
    backends.push(a, b, c);
  });

  after(async () => {
    for (const plane of planes) await plane.close();
    for (const pid of pids) {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      assert.equal(alive(pid), false, `HAProxy process ${pid} outlived its data plane`);
    }
    await Promise.all(backends.map((backend) => backend.close()));
  });

  it('a new listener is a seamless reload: 4 keep-alive clients and 4 opening a connection per request see every request answered; an open TCP connection stays with the old worker', async () => {
    const plane = newPlane();
    const echo = await tcpBackend('echo');
    backends.push(echo);
    const [webPort, tcpPort] = [await freePort(), await freePort()];
    const steady: LbListener[] = [listener(webPort, 'http', [route('web', [server(a), server(b)])]), listener(tcpPort, 'tcp', [route('echo', [server(echo)])])];
    await plane.apply(model(1, steady));
    const first = await processes(plane);
    const tcp = await tcpConnect(tcpPort);
    assert.equal(tcp.greeting, 'echo');

    const load = steadyLoad(webPort, 4);
    const fresh = steadyLoad(webPort, 4, false);
    await Promise.all([load.answered(100), fresh.answered(100)]);
    const added: LbListener[] = [];
    for (let i = 0; i < 3; i++) {
      added.push(listener(await freePort(), i % 2 === 0 ? 'http' : 'tcp', [route(`new_${i}`, [server(i % 2 === 0 ? c : echo)])]));
      await plane.apply(model(2 + i, [...steady, ...added]));
      await processes(plane);
      await Promise.all([load.answered(100), fresh.answered(100)]);
    }
    for (const result of [await load.stop(), await fresh.stop()]) {
      assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.total} requests failed`);
      assert.ok(result.total >= 400);
    }

    const info = await processes(plane);
    assert.equal(info.reloads, first.reloads + 3, 'three reloads');
    assert.equal(info.failedReloads, 0);
    assert.notEqual(info.workers[0], first.workers[0], 'a new worker');
    assert.ok(info.oldWorkers.includes(first.workers[0]!), 'the first worker finishes the TCP connection it has');
    assert.equal(await tcp.say('after the reloads'), 'echo:after the reloads');
    assert.deepEqual(await bodies(added[0]!.port, 2), ['c', 'c'], 'the new listener serves');
    tcp.close();
    await eventually(async () => assert.ok(!(await plane.process.procInfo()).oldWorkers.includes(first.workers[0]!), 'the old worker leaves once its connection closed'));
    assert.equal((await plane.status()).healthy, true);
  });

  it('a configuration haproxy -c refuses keeps the last good one serving; its routes still follow the model; status says why', async () => {
    const plane = newPlane();
    const port = await freePort();
    const good = [listener(port, 'http', [route('web', [server(a), server(b)])])];
    await plane.apply(model(1, good));
    const before = await processes(plane);
    const configBefore = readFileSync(plane.configFile, 'utf8');

    // Port 70000 does not exist: HAProxy's check refuses the whole configuration. The same model moves web from a to c.
    const bad = model(2, [listener(port, 'http', [route('web', [server(c), server(b)])]), listener(70000, 'tcp', [route('nowhere', [server(a)])])]);
    await assert.rejects(plane.apply(bad), /HAProxy refused the new configuration: .*invalid port '70000'/);
    const status = await plane.status();
    assert.equal(status.healthy, false);
    assert.match(status.message ?? '', /invalid port '70000'/);
    const after = await processes(plane);
    assert.deepEqual([after.reloads, after.workers], [before.reloads, before.workers], 'no reload was tried');
    assert.deepEqual(new Set(await bodies(port, 6)), new Set(['b', 'c']), 'the old configuration serves, with the new servers of its route');
    assert.notEqual(readFileSync(plane.configFile, 'utf8'), configBefore, 'the file follows the servers');
    assert.doesNotMatch(readFileSync(plane.configFile, 'utf8'), /70000/, 'and never holds the refused listener');

    await plane.apply(model(3, [listener(port, 'http', [route('web', [server(c), server(b)])])]));
    assert.deepEqual(await plane.status().then((s) => [s.healthy, s.message]), [true, null]);
  });

  it('a port another process holds is found before any reload; once free, the listener comes', async () => {
    const plane = newPlane();
    const port = await freePort();
    const good = [listener(port, 'http', [route('web', [server(a)])])];
    await plane.apply(model(1, good));
    const before = await processes(plane);
    const blocker = net.createServer();
    const blocked = await freePort();
    await new Promise<void>((resolve) => blocker.listen(blocked, '127.0.0.1', resolve));
    const next = model(2, [...good, listener(blocked, 'http', [route('other', [server(b)])])]);
    await assert.rejects(plane.apply(next), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${blocked}: the port is in use by another process`));
    const status = await plane.status();
    assert.equal(status.healthy, false);
    assert.match(status.message ?? '', /in use by another process/);
    assert.equal((await processes(plane)).reloads, before.reloads, 'no reload was tried');
    assert.deepEqual(await bodies(port, 2), ['a', 'a']);

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await plane.apply(next);
    assert.deepEqual(await bodies(blocked, 2), ['b', 'b']);
    assert.equal((await plane.status()).healthy, true);
  });

  it("a reload HAProxy itself fails (the port taken under it) keeps the old worker serving, and the file it had", async () => {
    const plane = newPlane({ precheckPorts: false });
    const port = await freePort();
    const good = [listener(port, 'http', [route('web', [server(a)])])];
    await plane.apply(model(1, good));
    const before = await processes(plane);
    const configBefore = readFileSync(plane.configFile, 'utf8');
    const blocker = net.createServer();
    const blocked = await freePort();
    await new Promise<void>((resolve) => blocker.listen(blocked, '127.0.0.1', resolve));
    const next = model(2, [...good, listener(blocked, 'http', [route('other', [server(b)])])]);
    await assert.rejects(plane.apply(next), /cannot bind socket \(Address already in use\)/);
    const failed = await processes(plane);
    assert.equal(failed.failedReloads, before.failedReloads + 1);
    assert.deepEqual(failed.workers, before.workers, 'the old worker serves on');
    assert.equal(readFileSync(plane.configFile, 'utf8'), configBefore, 'the file is the configuration that runs');
    assert.match((await plane.status()).message ?? '', /Address already in use/);
    assert.deepEqual(await bodies(port, 2), ['a', 'a']);

    // Runtime changes still reach the old worker; a reload works again once the port is free.
    await plane.apply(model(3, [listener(port, 'http', [route('web', [server(c)])])]));
    assert.deepEqual(await bodies(port, 2), ['c', 'c']);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await plane.apply(model(4, [listener(port, 'http', [route('web', [server(c)])]), listener(blocked, 'http', [route('other', [server(b)])])]));
    assert.deepEqual(await bodies(blocked, 2), ['b', 'b']);
    assert.equal((await plane.status()).healthy, true);
  });

  it('a missing binary: apply fails saying so, and status() too', async () => {
    const plane = newPlane({ binary: '/nonexistent/haproxy' });
    const port = await freePort();
    await assert.rejects(plane.apply(model(1, [listener(port, 'tcp', [route('web', [server(a)])])])), /\/nonexistent\/haproxy not found/);
    assert.match((await plane.status()).message ?? '', /not found/);
  });

  for (const victim of ['worker', 'master'] as const) {
    it(`HAProxy's ${victim} killed -9: restarted on the last configuration, draining servers drained again`, async () => {
      const plane = newPlane();
      const port = await freePort();
      await plane.apply(model(1, [listener(port, 'http', [route('web', [server(a), server(b, { draining: true })])])]));
      const before = await processes(plane);
      assert.deepEqual(new Set(await bodies(port, 4)), new Set(['a']));
      process.kill(victim === 'worker' ? before.workers[0]! : before.masterPid, 'SIGKILL');
      await eventually(async () => {
        assert.notEqual(plane.process.masterPid(), before.masterPid);
        assert.equal(plane.process.running(), true);
      });
      await processes(plane);
      assert.deepEqual(new Set(await bodies(port, 4)), new Set(['a']), 'serving again, b still out of rotation');
      await eventually(async () => {
        const status = await plane.status();
        assert.deepEqual(status.servers.map((s) => [s.id, s.state]), [['a:0', 'up'], ['b:0', 'draining']]);
        assert.equal(status.healthy, true);
      });
    });
  }
});
