// apply() while HTTP requests keep coming: servers added, drained, removed (then stopped, as an instance
// is after its drain) and the whole set replaced, and every request is answered 2xx: changes happen in
// place, under the connections that are open, and nothing that never reached a server is lost.
import assert from 'node:assert/strict';
import http from 'node:http';
import { BuiltinDataPlane } from '../../../src/discovery/proxy/index.ts';
import type { LbServer } from '../../../src/discovery/model.ts';
import { HOST, SILENT, freePort, httpBackend, lbModel, lbRoute, lbServer, request, until, type HttpBackend } from './helpers.ts';

describe('builtin load balancer: apply() under a steady stream of requests', () => {
  let plane: BuiltinDataPlane;
  const backends: HttpBackend[] = [];

  afterEach(async () => {
    await plane.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('answers every request 2xx while servers are added, drained, removed and replaced', async () => {
    plane = new BuiltinDataPlane({ bindHost: HOST, logger: SILENT });
    const port = await freePort();
    for (const name of ['s1', 's2', 's3', 's4', 's5']) backends.push(await httpBackend(name));
    const [s1, s2, s3, s4, s5] = backends as [HttpBackend, HttpBackend, HttpBackend, HttpBackend, HttpBackend];
    const serve = (...servers: LbServer[]) => plane.apply(lbModel({ port, mode: 'http', routes: [lbRoute('web', servers)] }));
    const server = (b: HttpBackend, draining = false) => lbServer(b.name, b.port, { draining });
    /** Stops a server once the proxy has no connection left to it, as an instance is stopped after its drain. */
    const stopWhenIdle = async (b: HttpBackend) => {
      await until(async () => !(await plane.status()).servers.some((s) => s.id === b.name && s.connections > 0));
      await b.close();
    };

    await serve(server(s1), server(s2));
    const answers: Array<{ status: number; from: string; error?: string }> = [];
    let running = true;
    const client = async (n: number) => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        for (let i = 0; running; i++) {
          // Every third request carries a body.
          const options = i % 3 === 0 ? { method: 'POST', body: `client ${n} request ${i}` } : { path: `/c${n}/${i}` };
          try {
            const answer = await request(port, { agent, ...options });
            answers.push({ status: answer.status, from: String(answer.headers['x-backend']), ...(answer.status >= 300 ? { error: answer.body } : {}) });
          } catch (err) {
            answers.push({ status: 0, from: '', error: String(err) });
          }
        }
      } finally {
        agent.destroy();
      }
    };
    const clients = [1, 2, 3, 4].map(client);
    const progress = async (more = 250) => {
      const target = answers.length + more;
      await until(() => answers.length >= target);
    };

    await progress();
    await serve(server(s1), server(s2), server(s3));
    await progress();
    await serve(server(s1, true), server(s2), server(s3));
    await progress();
    await serve(server(s2), server(s3));
    await stopWhenIdle(s1);
    await progress();
    await serve(server(s4), server(s5));
    await Promise.all([stopWhenIdle(s2), stopWhenIdle(s3)]);
    const afterReplace = answers.length;
    await progress(200);
    await serve(server(s4), server(s5));
    await progress();
    running = false;
    await Promise.all(clients);

    const failed = answers.filter((a) => a.status < 200 || a.status >= 300);
    assert.deepEqual(failed, []);
    assert.deepEqual(new Set(answers.map((a) => a.from)), new Set(['s1', 's2', 's3', 's4', 's5']));
    // Once s2 and s3 are stopped, only the new set answers.
    assert.deepEqual(new Set(answers.slice(afterReplace).map((a) => a.from)), new Set(['s4', 's5']));
  });
});
