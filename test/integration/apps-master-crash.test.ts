// kill -9 of the server (master and embedded agent in one process) in the middle of a rolling upgrade:
// the instances keep running (they are processes of their own), the restarted server takes them back,
// lists them before it decides anything, and finishes the deployment from where it was: no instance
// twice, never more instances than the upgrade strategy allows, every instance of the new version at
// the end.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, api, freePort, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

const PORTS = '[39000-39999]';
const SERVER = `node -e 'require("http").createServer((q, r) => { r.end(process.env.VERSION) }).listen(process.env.PORT0, "127.0.0.1")'`;

interface Task {
  id: string;
  state: string;
  health: string | null;
  killRequested: boolean;
  spec: { env: Record<string, string> };
}

describe('apps: the master killed (-9) in the middle of a deployment', function () {
  this.timeout(180_000);
  const dir = tempDir('apps-master-crash');
  const started: Started[] = [];
  let listen = '';

  /** `drainOnStop`: the last server's stop takes the instances with it, so that the test leaves no process behind. */
  const startServer = async (drainOnStop: boolean): Promise<Started> => {
    const server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', listen, '--registry-listen', '127.0.0.1:0', '--agent-resources', `cpus:4;mem:4096;ports:${PORTS}`, '--agent-task-users', 'root', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, GANTRY_DRAIN_ON_STOP: drainOnStop ? '1' : '0' },
      /Local agent \S+ registered/,
    );
    started.push(server);
    return server;
  };

  before(async () => {
    listen = `127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    // The restarted server drains on its stop: the instances go with it.
    for (const server of started) await server.stop();
    killAll();
  });

  it('resumes the deployment after a restart: no instance twice, within the over-capacity, all on the new version', async () => {
    let server = await startServer(false);
    const client = api(`http://${listen}`);
    const tasks = async (): Promise<Task[]> => ((await client.get<{ tasks: Task[] }>('/api/v1/apps/web/tasks')).body.tasks ?? []);
    const app = {
      id: '/web',
      cmd: SERVER,
      instances: 4,
      cpus: 0.05,
      mem: 48,
      env: { VERSION: 'v1' },
      portDefinitions: [{ port: 0 }],
      // Lenient: on a loaded machine a check that times out would have an instance replaced, and count twice below.
      healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 60, intervalSeconds: 2, timeoutSeconds: 1, maxConsecutiveFailures: 5 }],
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.25 },
    };
    assert.equal((await client.post('/api/v1/apps', app)).status, 201);
    await waitFor('4 healthy v1 instances', async () => (await tasks()).filter((t) => t.health === 'healthy').length === 4, 60_000);
    await waitFor('no deployment', async () => (await client.get<{ deployments: unknown[] }>('/api/v1/deployments')).body.deployments.length === 0, 30_000);

    const put = await fetch(`http://${listen}/api/v1/apps/web`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...app, env: { VERSION: 'v2' } }),
    });
    assert.equal(put.status, 200, await put.text());
    await waitFor('the upgrade under way', async () => (await tasks()).some((t) => t.spec.env.VERSION === 'v2'), 30_000);
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server.child.once('exit', resolve));
    server = await startServer(true);

    const seen = new Map<string, string>();
    let most = 0;
    const done = await waitFor('every instance on v2, healthy', async () => {
      const now = await tasks();
      for (const task of now) seen.set(task.id, task.spec.env.VERSION!);
      most = Math.max(most, now.filter((t) => !t.killRequested).length);
      return now.length === 4 && now.every((t) => t.spec.env.VERSION === 'v2' && t.health === 'healthy') ? now : undefined;
    }, 90_000);
    await waitFor('the deployment finished', async () => (await client.get<{ deployments: unknown[] }>('/api/v1/deployments')).body.deployments.length === 0, 30_000);
    assert.ok(most <= 5, `never more than 5 instances (4 + 25%): ${most}`);
    const v2Started = [...seen.values()].filter((version) => version === 'v2').length;
    assert.equal(v2Started, 4, 'no instance twice: exactly the 4 v2 instances the upgrade needs were ever started');
    assert.equal(done.length, 4);
  });
});
