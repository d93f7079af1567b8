// An agent that dies under an app (kill -9 of `gantry agent`): its instances are replaced on another
// agent within the heartbeat timeout and a second, and when the agent comes back with the old
// instances still running, those are killed: never more instances than the app asks for.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { AppsService } from '../../../src/apps/index.ts';
import type { TaskRecord } from '../../../src/cluster/index.ts';
import { loadServerConfig } from '../../../src/config/server-config.ts';
import { startServer, type RunningServer } from '../../../src/main.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, isAlive, killAll, startGantry, tempDir, waitFor, type Started } from '../../helpers/processes.ts';

const HEARTBEAT_TIMEOUT_MS = 3000;
const SERVER = `node -e 'require("http").createServer((q, r) => r.end("ok")).listen(process.env.PORT0, "127.0.0.1")'`;

describe('apps: an agent lost under an app', function () {
  this.timeout(120_000);
  const dir = tempDir('apps-agent-loss');
  let server: RunningServer;
  let apps: AppsService;
  const agents: Started[] = [];

  before(async () => {
    const config = loadServerConfig({
      env: {},
      flags: {
        dataDir: path.join(dir, 'server'),
        listen: '127.0.0.1:0',
        registryListen: '127.0.0.1:0',
        discovery: { dnsListen: '127.0.0.1:0' },
        logLevel: 'silent',
        adminToken: ADMIN_TOKEN,
        joinToken: JOIN_TOKEN,
        heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
        agent: { hostname: 'embedded', resources: 'cpus:4;mem:4096;ports:[34000-34499]', taskUsers: ['root'] },
      },
    });
    server = await startServer(config, pino({ level: 'silent' }));
    apps = server.apps;
  });
  after(async () => {
    for (const agent of agents) await agent.stop();
    await server?.close({ drain: true });
    killAll();
  });

  const startRemote = async (): Promise<Started> => {
    const agent = await startGantry(
      ['agent', '--master', server.url, '--join-token', JOIN_TOKEN, '--hostname', 'remote', '--data-dir', path.join(dir, 'remote'), '--resources', 'cpus:4;mem:4096;ports:[34500-34999]', '--task-users', 'root'],
      { GANTRY_DRAIN_ON_STOP: '0' },
      /Agent \S+ joined/,
    );
    agents.push(agent);
    return agent;
  };
  const running = (): TaskRecord[] => apps.tasks('/web').filter((t) => t.state === 'running' && !t.killRequested);
  const hostOf = (task: TaskRecord): string | undefined => task.allocation?.host;

  it('replaces the instances of a killed agent elsewhere within the heartbeat timeout + 1 s, and kills the surplus when it returns', async () => {
    const remote = await startRemote();
    await apps.createApp({ id: '/web', cmd: SERVER, instances: 2, cpus: 0.1, mem: 64, portDefinitions: [{ port: 0 }] });
    await waitFor('one instance on each agent (spread)', async () => {
      const tasks = running();
      return tasks.length === 2 && new Set(tasks.map(hostOf)).size === 2;
    }, 30_000);
    const onRemote = running().find((t) => hostOf(t) === 'remote')!;
    const oldPid = pidOfTask(dir, onRemote.id);
    assert.ok(oldPid > 0 && isAlive(oldPid));

    const killedAt = Date.now();
    remote.child.kill('SIGKILL');
    const replaced = await waitFor('a replacement running on the embedded agent', async () => {
      const tasks = running();
      return tasks.length === 2 && tasks.every((t) => hostOf(t) === 'embedded') ? Date.now() : undefined;
    }, 30_000);
    assert.ok(replaced - killedAt <= HEARTBEAT_TIMEOUT_MS + 1000, `replaced ${replaced - killedAt} ms after the kill`);
    const lost = await server.master.getTask(onRemote.id);
    assert.equal(lost.state, 'lost');

    // The agent comes back, its old instance still running: the pool has it killed; the app stays at 2.
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, running().length)), 20);
    try {
      await startRemote();
      await waitFor('the returned agent\'s old instance killed', async () => {
        const record = (await server.master.findAgent(lost.agentId!)) ?? null;
        return record?.state === 'ready' && !isAlive(oldPid);
      }, 30_000);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(running().length, 2);
    assert.ok(most <= 2, `never more than 2 running instances: ${most}`);
  });
});

/** The pid of an exec task on the remote agent, from its sandbox's task record (0 when gone). */
function pidOfTask(dir: string, taskId: string): number {
  try {
    const record = JSON.parse(readFileSync(path.join(dir, 'remote', 'sandboxes', taskId, 'task.json'), 'utf8')) as { pid: number };
    return record.pid;
  } catch {
    return 0;
  }
}
