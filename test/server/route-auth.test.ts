// Authentication by default (issue 17): every route of the platform API needs the admin token unless
// it is mounted public, with the reason (src/server/app.ts, mount-routes.ts), and a request no route
// answers needs it too. The real app over a real SQLite store in a temp dir, on a loopback port: every
// route it mounts is called anonymously over HTTP. The list the app gives of its routes is checked
// against its routers' own layers, so a router mounted around the table fails here.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Router from '@koa/router';
import type Koa from 'koa';
import { pino } from 'pino';
import { BatchService } from '../../src/batch/index.ts';
import { CiService } from '../../src/ci/index.ts';
import { AppsService } from '../../src/apps/index.ts';
import { Discovery } from '../../src/discovery/index.ts';
import { clusterClient } from '../../src/cluster/index.ts';
import { Master } from '../../src/cluster/master/master.ts';
import { TaskLogStore } from '../../src/cluster/master/task-logs.ts';
import { ClusterStore } from '../../src/cluster/store/cluster-store.ts';
import { createRegistry } from '../../src/registry/index.ts';
import { createApp, type ApiApp, type AppParts } from '../../src/server/app.ts';
import { bootstrapTokens } from '../../src/server/bootstrap-tokens.ts';
import type { MountedRoute } from '../../src/server/mount-routes.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { tempDir } from '../helpers/temp-dirs.ts';

const ADMIN_TOKEN = 'gat_route-auth-admin';
const JOIN_TOKEN = 'gjt_route-auth-join';
const AGENT_TOKEN = 'gat_route-auth-agent';

/** The public routes that answer anyone; the agents' and the registry browser's check their own credentials. */
const OPEN_TO_ANYONE = ['GET /', 'GET /api/v1/health', 'GET /ping', 'GET /ui/', 'GET /ui/:file'];
const CHECKS_ITS_OWN_CREDENTIALS = [/^\/api\/v1\/agent\//, /^\/api\/v1\/registry\/browse\//];

/** Values for path parameters; the others get `sample-<name>`. */
const SAMPLES: Record<string, string> = { file: 'app.js' };

interface Answer {
  status: number;
  body: unknown;
  location: string | null;
}

describe('route authentication: admin token by default, public by declaration', function () {
  this.timeout(30_000);
  let store: Store;
  let master: Master;
  let batch: BatchService;
  let ci: CiService;
  let apps: AppsService;
  let parts: AppParts;
  let app: ApiApp;
  let server: http.Server;
  let url: string;
  let discovery: Discovery;

  before(async () => {
    // As src/main.ts composes them, without the listeners the app does not own (webhooks, registry).
    const dir = tempDir('route-auth');
    const logger = pino({ level: 'silent' });
    store = await openStore({ dataDir: dir });
    await bootstrapTokens(store, { adminToken: ADMIN_TOKEN, joinToken: JOIN_TOKEN });
    await store.tokens.create('agent', 'agent route-auth', AGENT_TOKEN, 'agent-route-auth');
    const logs = new TaskLogStore(path.join(dir, 'logs'));
    master = new Master({ store: new ClusterStore(store.knex), logs, clock: systemClock, rng: Math.random, logger, defaultStrategy: 'binpack', heartbeatTimeoutMs: 30_000 });
    await master.start();
    batch = new BatchService({ knex: store.knex, cluster: clusterClient(master), clock: systemClock, logger });
    await batch.start();
    ci = new CiService({ knex: store.knex, cluster: clusterClient(master), clock: systemClock, logger, dataDir: dir, pipelinesDir: path.join(dir, 'pipelines'), webhookSecrets: [] });
    await ci.start();
    apps = new AppsService({ knex: store.knex, cluster: clusterClient(master), logger });
    await apps.start();
    const registry = createRegistry({
      root: path.join(dir, 'registry'),
      knex: store.knex,
      isAdminToken: async (secret) => (await store.tokens.findBySecret(secret))?.kind === 'admin',
      reserves: { minFreeBytes: 0, minFreeInodes: 0 },
      logger,
    });
    discovery = new Discovery({ source: apps.endpoints, logger, dataDir: dir, domain: 'gantry', dnsListen: null, dnsTtlSeconds: 5, lb: 'off', lbBindHost: '127.0.0.1', lbHttpPort: 80, lbGroups: ['*'], haproxyBinary: 'haproxy' });
    await discovery.start();
    parts = { store, master, logs, registry, batch, ci, apps, discovery, logger, version: 'test' };
    app = createApp(parts);
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await discovery?.close();
    await apps?.stop();
    await ci?.stop();
    await batch?.stop();
    master?.stop();
    await store?.close();
  });

  async function call(method: string, route: string, token?: string): Promise<Answer> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
    if (withBody) headers['content-type'] = 'application/json';
    const response = await fetch(url + route, { method, headers, redirect: 'manual', ...(withBody ? { body: '{}' } : {}) });
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('application/json');
    return { status: response.status, body: json ? JSON.parse(text) : text, location: response.headers.get('location') };
  }

  const sampled = (route: string): string => route.replace(/:(\w+)/g, (_, name: string) => SAMPLES[name] ?? `sample-${name}`);
  const key = (r: { method: string; path: string }): string => `${r.method} ${r.path}`;
  const isPublic = (r: MountedRoute): boolean => r.public !== undefined;

  /** The admin guard's refusal: 401 {error, message} naming the admin token. */
  function assertAdminRefusal(answer: Answer, what: string): void {
    assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
    const body = answer.body as { error?: unknown; message?: unknown };
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message'], what);
    assert.equal(body.error, 'unauthorized', what);
    assert.match(String(body.message), /an admin token is required/, what);
  }

  it('lists every route its routers answer: no router is mounted around the table', () => {
    const listed = app.mountedRoutes.map(key);
    assert.equal(new Set(listed).size, listed.length, 'each method and path once');
    assert.deepEqual(listed.slice().sort(), routesInRouters(app));
    assert.ok(listed.length > 80, `the whole API is listed (${listed.length} routes)`);
    for (const route of ['GET /api/v1/agents', 'POST /api/v1/tasks', 'GET /api/v1/registry/browse/whoami', 'PUT /v1/scheduler/iso8601', 'GET /api/v1/runs/:id/events']) {
      assert.ok(listed.includes(route), route);
    }
    assert.ok(Object.isFrozen(app.mountedRoutes), 'read-only');
  });

  it('catches a router mounted around the table', () => {
    const other = createApp(parts);
    const stray = new Router();
    stray.get('/v2/apps', (ctx) => {
      ctx.body = [];
    });
    other.use(stray.routes());
    assert.notDeepEqual(other.mountedRoutes.map(key).sort(), routesInRouters(other));
    assert.ok(routesInRouters(other).includes('GET /v2/apps'));
  });

  it('makes public only the health checks (ours and Marathon\'s /ping), the web UI, the agents\' own routes and the registry browser, each saying why', () => {
    const publicRoutes = app.mountedRoutes.filter(isPublic);
    for (const route of publicRoutes) assert.ok(route.public && route.public.length > 10, `${key(route)} says why it is public`);
    const open = publicRoutes.map(key).filter((k) => !CHECKS_ITS_OWN_CREDENTIALS.some((pattern) => pattern.test(k.split(' ')[1]!)));
    assert.deepEqual(open.sort(), OPEN_TO_ANYONE.slice().sort(), 'a new public route is a change to this list');
    // Every agent route and every registry browser route is public (and checks credentials itself, below).
    for (const route of app.mountedRoutes) {
      if (CHECKS_ITS_OWN_CREDENTIALS.some((pattern) => pattern.test(route.path))) assert.ok(isPublic(route), key(route));
    }
    assert.ok(publicRoutes.some((r) => key(r) === 'POST /api/v1/agent/register'));
    assert.ok(publicRoutes.some((r) => key(r) === 'GET /api/v1/registry/browse/repositories'));
    // The people's agent routes sit in the agents' router with their own admin guard: listed as guarded.
    for (const route of ['GET /api/v1/agents', 'POST /api/v1/agents/join-tokens']) {
      assert.equal(app.mountedRoutes.find((r) => key(r) === route)?.public, undefined, route);
    }
  });

  it('refuses every other route to an anonymous caller with the admin guard\'s 401 {error, message}', async () => {
    const guarded = app.mountedRoutes.filter((r) => !isPublic(r));
    assert.ok(guarded.length > 60);
    for (const route of guarded) assertAdminRefusal(await call(route.method, sampled(route.path)), key(route));
  });

  it('lets an anonymous caller past the admin guard on the public routes; the agents\' and the browser\'s refuse it themselves', async () => {
    for (const route of app.mountedRoutes.filter(isPublic)) {
      const answer = await call(route.method, sampled(route.path));
      const what = `${key(route)}: ${answer.status} ${JSON.stringify(answer.body)}`;
      if (CHECKS_ITS_OWN_CREDENTIALS.some((pattern) => pattern.test(route.path))) {
        assert.equal(answer.status, 401, what);
        assert.equal((answer.body as { error: string }).error, 'unauthorized', what);
        assert.doesNotMatch((answer.body as { message: string }).message, /admin token is required/, what);
      } else {
        assert.ok(answer.status >= 200 && answer.status < 400, what);
      }
    }
    assert.deepEqual((await call('GET', '/api/v1/health')).body, { status: 'ok', version: 'test' });
    assert.equal((await call('GET', '/')).location, '/ui/');
  });

  it('answers a request no route answers with 401 to an anonymous caller and 404 to the admin', async () => {
    const unknown: Array<[string, string]> = [
      ['GET', '/v2/nothing'],
      ['POST', '/v2/pods'],
      ['POST', '/whatever'],
      ['GET', '/api/v1/nothing'],
      ['DELETE', '/api/v1/health'],
      ['GET', '/api/v1/registry/browse/nothing'],
      ['GET', '/ui/a/b'],
      ['PUT', '/'],
    ];
    for (const [method, route] of unknown) {
      assertAdminRefusal(await call(method, route), `${method} ${route}`);
      const answer = await call(method, route, ADMIN_TOKEN);
      assert.equal(answer.status, 404, `${method} ${route} as the admin`);
      assert.deepEqual(answer.body, { error: 'not_found', message: `no route ${method} ${route}` });
    }
    const wrong = await call('GET', '/v2/apps', 'gat_not-a-token');
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { error: 'unauthorized', message: 'the token is not valid' });
  });

  it('serves the guarded routes to the admin token as before', async () => {
    assert.deepEqual(await call('GET', '/api/v1/agents', ADMIN_TOKEN), { status: 200, body: { agents: [] }, location: null });
    const joinToken = await call('POST', '/api/v1/agents/join-tokens', ADMIN_TOKEN);
    assert.equal(joinToken.status, 201);
    assert.match((joinToken.body as { token: string }).token, /^gjt/);
    const submitted = await call('POST', '/api/v1/tasks', ADMIN_TOKEN);
    assert.equal(submitted.status, 400, 'an empty spec is invalid');
    assert.equal((submitted.body as { error: string }).error, 'invalid');
    const task = await fetch(`${url}/api/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ args: ['true'] }),
    });
    assert.equal(task.status, 201);
    assert.equal(((await task.json()) as { spec: { owner: string } }).spec.owner, 'user:admin', 'the guard tells the route who calls');
    assert.equal((await call('GET', '/api/v1/tasks', ADMIN_TOKEN)).status, 200);
    assert.deepEqual(await call('GET', '/scheduler/jobs', ADMIN_TOKEN), { status: 200, body: [], location: null });
    assert.equal((await call('GET', '/api/v1/jobs/nope', ADMIN_TOKEN)).status, 404, 'errors keep their status');
    assert.deepEqual((await call('GET', '/api/v1/registry/browse/whoami', ADMIN_TOKEN)).body, { name: 'admin', kind: 'admin' });
  });

  it('refuses the guarded routes to a join or agent token with 403', async () => {
    for (const token of [JOIN_TOKEN, AGENT_TOKEN]) {
      for (const [method, route] of [
        ['GET', '/api/v1/agents'],
        ['GET', '/api/v1/tasks'],
        ['GET', '/scheduler/jobs'],
        ['GET', '/v2/apps'],
      ] as const) {
        const answer = await call(method, route, token);
        assert.equal(answer.status, 403, `${method} ${route}`);
        assert.equal((answer.body as { error: string }).error, 'forbidden');
        assert.match((answer.body as { message: string }).message, /needs a admin token/);
      }
    }
  });
});

/** Every `METHOD path` the app's routers answer, from their layers (HEAD goes with GET), sorted. */
function routesInRouters(app: Koa): string[] {
  const found: string[] = [];
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      for (const method of layer.methods) if (method !== 'HEAD' || !layer.methods.includes('GET')) found.push(`${method} ${String(layer.path)}`);
    }
  }
  return found.sort();
}
