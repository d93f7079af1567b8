// `gantry apps deploy|ls|show|scale|restart|rollback|versions|tasks|logs|rm` and `gantry deployments
// ls|cancel`: long-running apps (Marathon's model) from the terminal, over /api/v1/apps and /api/v1/deployments.
// `apps deploy FILE` reads a Marathon app definition (JSON or YAML), creates or replaces the app, then
// follows its deployment live (new healthy / old / target) and exits 0 once it succeeded, 1 when it
// failed, was rolled back or was canceled, with the reason. The outcome comes from the deployment
// events (/v2/events), the progress from the app itself.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Command } from 'commander';
import { parseDeployFile } from '../../apps/definition/index.ts';
import type { AppView, ChangeResult, SwitchRecord } from '../../apps/index.ts';
import { parseOwner, type TaskRecord } from '../../cluster/index.ts';
import { ApiClient, CliError } from '../client.ts';
import { LinesByTime, type TimedLine } from '../lines-by-time.ts';
import { age, formatTable, printJson } from '../table.ts';

/** An app as GET /api/v1/apps/ID shows it. */
type App = Omit<AppView, 'tasks'> & { id: string; tasks?: TaskRecord[] };

interface Deployment {
  id: string;
  affectedApps: string[];
  currentStep: number;
  state: string;
  rollbackOf: string | null;
  createdAt: string;
  steps: Array<{ actions: Array<{ action: string; app: string }> }>;
  currentActions: Array<{ action: string; app: string }>;
}

const appPath = (id: string, rest = '') => `/api/v1/apps/${id.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}${rest}`;
const forceQuery = (force: boolean | undefined) => (force ? '?force=true' : '');

export function registerAppCommands(program: Command): void {
  const apps = program.command('apps').description('long-running apps: Marathon app definitions, rolling deployments that roll themselves back');

  apps
    .command('deploy')
    .description('create or replace an app from a Marathon app definition (JSON or YAML; - reads stdin), then follow its deployment')
    .argument('<file>')
    .option('--force', 'supersede a deployment of the app that is still running')
    .option('--no-follow', 'return once the deployment has started')
    .option('--blue-green', 'start the new version as a second app beside the live one, then move traffic to it (see --steps)')
    .option('--steps <percentages>', 'with --blue-green: the new version\'s share of requests at each step, e.g. 10,50,100 (default 100: all at once)')
    .option('--pause <duration>', 'with --blue-green: hold each step this long (default: until `gantry apps promote`)')
    .option('--rollback-window <duration>', 'with --blue-green: keep the old version this long at 0% for `gantry apps abort` (default 5m)')
    .action(async (file: string, flags: { force?: boolean; follow: boolean; blueGreen?: boolean; steps?: string; pause?: string; rollbackWindow?: string }) => {
      const text = readText(file);
      const parsed = parseDeployFile(text, { file });
      const client = new ApiClient();
      if (parsed.kind === 'group') {
        if (flags.blueGreen) throw new CliError('--blue-green deploys one app, not a group', 2);
        return deployGroup(client, parsed.group.id, parseYaml(text) as Record<string, unknown>, flags);
      }
      const { app } = parsed;
      if (flags.blueGreen) return deployBlueGreen(client, { ...app.source, id: app.id }, flags);
      const follower = flags.follow ? await DeploymentFollower.open(client, app.id) : null;
      try {
        const result = await client.put<ChangeResult & { created: boolean }>(appPath(app.id, forceQuery(flags.force)), { ...app.source, id: app.id });
        process.stdout.write(`${result.created ? 'Created' : 'Updated'} ${app.id}: version ${result.version}, deployment ${result.deploymentId}\n`);
        if (follower) await follower.follow(result);
      } finally {
        follower?.close();
      }
    });

  apps
    .command('promote')
    .description('a blue-green switch goes on now: its next traffic step without waiting, or the end of its rollback window')
    .argument('<id>')
    .action(async (id: string) => {
      const record = await new ApiClient().post<SwitchRecord>(appPath(id, '/promote'));
      process.stdout.write(`Promoting ${record.green} (group ${record.group})\n`);
    });

  apps
    .command('abort')
    .description('a blue-green switch goes back: all traffic to the old version, the new one removed')
    .argument('<id>')
    .action(async (id: string) => {
      const record = await new ApiClient().post<SwitchRecord>(appPath(id, '/abort'));
      process.stdout.write(`Aborted: all traffic of ${record.group} back to ${record.blue}; ${record.green} is removed\n`);
    });

  apps
    .command('ls')
    .description('apps with their instances, health and deployments')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { apps: list } = await new ApiClient().get<{ apps: App[] }>('/api/v1/apps');
      if (flags.json) return printJson(list);
      const rows = list.map((a) => [
        a.id,
        `${a.counts.running}/${a.definition.instances}`,
        a.definition.healthChecks.length > 0 ? String(a.counts.healthy) : '-',
        a.version,
        a.deployments.length > 0 ? `deploying ${a.deployments[0]}` : 'stable',
      ]);
      process.stdout.write(formatTable(['ID', 'RUNNING', 'HEALTHY', 'VERSION', 'STATE'], rows) + '\n');
    });

  apps
    .command('show')
    .description('one app: its state, instances and definition')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const app = await new ApiClient().get<App>(appPath(id));
      if (flags.json) return printJson(app);
      const lines = [
        `id:           ${app.id}`,
        `version:      ${app.version} (configuration of ${app.lastConfigChangeAt})`,
        `last healthy: ${app.lastHealthyVersion ?? '-'}`,
        `instances:    ${app.definition.instances} asked, ${app.counts.running} running, ${app.counts.staged} staging, ${app.counts.healthy} healthy, ${app.counts.unhealthy} unhealthy`,
        `deployment:   ${app.deployments.join(', ') || '-'}`,
        ...(app.lastTaskFailure ? [`last failure: ${app.lastTaskFailure.taskId} ${app.lastTaskFailure.state} ${age(app.lastTaskFailure.timestamp)} ago: ${app.lastTaskFailure.message}`] : []),
        'definition:',
        JSON.stringify(app.definition.source, null, 2).replace(/^/gm, '  '),
      ];
      process.stdout.write(lines.join('\n') + '\n');
      if ((app.tasks ?? []).length > 0) process.stdout.write(taskTable(app.tasks!) + '\n');
    });

  apps
    .command('scale')
    .description('run N instances of an app')
    .argument('<id>')
    .argument('<instances>')
    .option('--force', 'supersede a deployment of the app that is still running')
    .option('-w, --wait', 'follow the deployment until it ends')
    .action(async (id: string, count: string, flags: { force?: boolean; wait?: boolean }) => {
      if (!/^\d+$/.test(count)) throw new CliError(`the instance count is a whole number, not "${count}"`, 2);
      await change(id, flags, `Scaling ${id} to ${count}`, (client) => client.post<ChangeResult>(appPath(id, `/scale${forceQuery(flags.force)}`), { instances: Number(count) }));
    });

  apps
    .command('restart')
    .description('replace every instance of an app, rolling, as its upgrade strategy allows')
    .argument('<id>')
    .option('--force', 'supersede a deployment of the app that is still running')
    .option('-w, --wait', 'follow the deployment until it ends')
    .action(async (id: string, flags: { force?: boolean; wait?: boolean }) => {
      await change(id, flags, `Restarting ${id}`, (client) => client.post<ChangeResult>(appPath(id, `/restart${forceQuery(flags.force)}`)));
    });

  apps
    .command('rollback')
    .description('go back to the last version that was fully healthy, or to the one named')
    .argument('<id>')
    .option('--to <version>', 'the version to go back to (see `gantry apps versions ID`)')
    .option('--force', 'supersede a deployment of the app that is still running')
    .option('-w, --wait', 'follow the deployment until it ends')
    .action(async (id: string, flags: { to?: string; force?: boolean; wait?: boolean }) => {
      const to = flags.to ? ` to version ${flags.to}` : '';
      await change(id, flags, `Rolling ${id} back${to}`, (client) => client.post<ChangeResult>(appPath(id, `/rollback${forceQuery(flags.force)}`), flags.to ? { version: flags.to } : {}));
    });

  apps
    .command('versions')
    .description("an app's versions, newest first")
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const client = new ApiClient();
      const [{ versions }, app] = await Promise.all([client.get<{ versions: string[] }>(appPath(id, '/versions')), client.get<App>(appPath(id))]);
      if (flags.json) return printJson(versions);
      const rows = versions.map((v) => [v, [v === app.version ? 'current' : '', v === app.lastHealthyVersion ? 'last healthy' : ''].filter(Boolean).join(', ')]);
      process.stdout.write(formatTable(['VERSION', ''], rows) + '\n');
    });

  apps
    .command('tasks')
    .description("an app's instances: state, health, address, version")
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { tasks } = await new ApiClient().get<{ tasks: TaskRecord[] }>(appPath(id, '/tasks'));
      if (flags.json) return printJson(tasks);
      process.stdout.write(taskTable(tasks) + '\n');
    });

  apps
    .command('logs')
    .description("the output of all an app's instances merged by time, each line led by its instance; -f follows, new instances too")
    .argument('<id>')
    .option('-f, --follow', 'keep following, and pick up instances started meanwhile')
    .action(async (id: string, flags: { follow?: boolean }) => {
      await appLogs(new ApiClient(), id, flags.follow === true);
    });

  apps
    .command('rm')
    .description('remove an app: its instances are stopped')
    .argument('<id>')
    .option('--force', 'supersede a deployment of the app that is still running')
    .action(async (id: string, flags: { force?: boolean }) => {
      const result = await new ApiClient().delete<ChangeResult>(appPath(id, forceQuery(flags.force)));
      process.stdout.write(`Removing ${id} (deployment ${result.deploymentId})\n`);
    });

  const deployments = program.command('deployments').description("apps' running deployments");
  deployments
    .command('ls')
    .description('running deployments and their current step')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { deployments: list } = await new ApiClient().get<{ deployments: Deployment[] }>('/api/v1/deployments');
      if (flags.json) return printJson(list);
      const rows = list.map((d) => [
        d.id,
        d.affectedApps.join(','),
        `${Math.min(d.currentStep + 1, d.steps.length)}/${d.steps.length}`,
        d.currentActions.map((a) => `${a.action} ${a.app}`).join(', '),
        age(d.createdAt),
        d.rollbackOf ? `rollback of ${d.rollbackOf}` : '',
      ]);
      process.stdout.write(formatTable(['ID', 'APPS', 'STEP', 'ACTIONS', 'AGE', ''], rows) + '\n');
    });
  deployments
    .command('cancel')
    .description('cancel a deployment: its apps are rolled back; --force stops it where it stands')
    .argument('<id>')
    .option('--force', 'stop where it stands, without rolling back')
    .action(async (id: string, flags: { force?: boolean }) => {
      const result = await new ApiClient().delete<ChangeResult | { canceled: string }>(`/api/v1/deployments/${encodeURIComponent(id)}${forceQuery(flags.force)}`);
      if ('deploymentId' in result) process.stdout.write(`Canceled ${id}: rolling back (deployment ${result.deploymentId})\n`);
      else process.stdout.write(`Canceled ${id}: stopped where it stood\n`);
    });
}

/** A change (scale, restart, rollback): says what started and, with --wait, follows it to its end. */
async function change(id: string, flags: { wait?: boolean }, what: string, call: (client: ApiClient) => Promise<ChangeResult>): Promise<void> {
  const client = new ApiClient();
  const follower = flags.wait ? await DeploymentFollower.open(client, id.startsWith('/') ? id : `/${id}`) : null;
  try {
    const result = await call(client);
    process.stdout.write(`${what}: version ${result.version}, deployment ${result.deploymentId}\n`);
    if (follower) await follower.follow(result);
  } finally {
    follower?.close();
  }
}

interface DeploymentState {
  id: string;
  state: string;
  reason: string | null;
  currentStep: number;
  totalSteps: number;
}

/**
 * A group file (it lists apps or groups): the tree as written, deployed in its dependencies' order;
 * followed step by step until its deployment ends (exit 1 unless it succeeded, with why).
 */
async function deployGroup(client: ApiClient, id: string, source: Record<string, unknown>, flags: { force?: boolean; follow: boolean }): Promise<void> {
  const result = await client.put<ChangeResult>(`/api/v1/groups/${id.replace(/^\/+/, '')}${forceQuery(flags.force)}`, source);
  process.stdout.write(`Deploying group ${id}: version ${result.version}, deployment ${result.deploymentId}\n`);
  if (!flags.follow) return;
  let shown = -1;
  for (;;) {
    const deployment = await client.get<DeploymentState>(`/api/v1/deployments/${result.deploymentId}`);
    if (deployment.currentStep !== shown && deployment.state === 'running') {
      shown = deployment.currentStep;
      process.stdout.write(`step ${Math.min(shown + 1, deployment.totalSteps)}/${deployment.totalSteps}\n`);
    }
    if (deployment.state === 'succeeded') {
      process.stdout.write(`Deployed group ${id}\n`);
      return;
    }
    if (deployment.state !== 'running') throw new CliError(`deployment ${deployment.id} ${deployment.state}: ${deployment.reason ?? 'no reason given'}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 2);
  }
}

function taskTable(tasks: readonly TaskRecord[]): string {
  const rows = tasks.map((t) => [
    instanceOf(t),
    t.id,
    t.state,
    t.health ?? '-',
    t.allocation ? `${t.allocation.host}:${t.allocation.ports.join(',') || '-'}` : (t.waitingReason ?? '-'),
    t.spec.env.MARATHON_APP_VERSION ?? '-',
    age(t.startedAt ?? t.createdAt),
  ]);
  return formatTable(['INSTANCE', 'TASK', 'STATE', 'HEALTH', 'ADDRESS', 'VERSION', 'AGE'], rows);
}

/** The instance a task is (`app:/web:i-3f9c` → `i-3f9c`). */
function instanceOf(task: TaskRecord): string {
  return parseOwner(task.spec.owner).parts.at(-1) ?? task.id;
}

// Following a deployment.

interface DeploymentEvent {
  eventType: string;
  id?: string;
  reason?: string;
  plan?: { id: string; affectedApps?: string[] };
}

/** How far an app's instances are: new ones healthy (or running, without health checks), old ones left, the target. */
export interface Progress {
  newHealthy: number;
  old: number;
  target: number;
}

export function progressOf(app: App): Progress {
  // A task being killed is on its way out: counted neither way.
  const tasks = (app.tasks ?? []).filter((t) => !t.killRequested);
  const checked = app.definition.healthChecks.length > 0;
  // A task launched with a version at or after the last configuration change runs the current configuration
  // (versions since then only scaled), so it is new; an earlier one is old.
  const isNew = (t: TaskRecord) => (t.spec.env.MARATHON_APP_VERSION ?? '') >= app.lastConfigChangeAt;
  return {
    newHealthy: tasks.filter((t) => isNew(t) && t.state === 'running' && (checked ? t.health === 'healthy' : true)).length,
    old: tasks.filter((t) => !isNew(t)).length,
    target: app.definition.instances,
  };
}

/**
 * Follows one app's deployment: listens to the deployment events from before the change is made (so
 * that its end cannot be missed), reads the app for progress every POLL_MS, prints the progress when it
 * changes (in place on a terminal), and ends with the deployment: resolves when it succeeded, throws a
 * CliError with the reason when it failed (and was rolled back), was canceled or superseded.
 */
class DeploymentFollower {
  static readonly POLL_MS = 500;
  private readonly outcomes = new Map<string, DeploymentEvent>();
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private readonly tty = process.stderr.isTTY === true;
  private drawn = false;

  private constructor(
    private readonly client: ApiClient,
    private readonly appId: string,
  ) {}

  static async open(client: ApiClient, appId: string): Promise<DeploymentFollower> {
    const follower = new DeploymentFollower(client, appId);
    await follower.listen();
    return follower;
  }

  close(): void {
    this.abort.abort();
  }

  async follow(result: ChangeResult): Promise<void> {
    let last = '';
    let goneFor = 0;
    for (;;) {
      const outcome = this.outcomes.get(result.deploymentId);
      if (outcome?.eventType === 'deployment_success') {
        const app = await this.client.get<App>(appPath(this.appId));
        this.clearLine();
        process.stdout.write(`Deployed ${this.appId} version ${result.version}: ${describe(progressOf(app))}\n`);
        return;
      }
      if (outcome?.eventType === 'deployment_failed') {
        this.clearLine();
        throw new CliError(`deployment ${result.deploymentId} of ${this.appId} failed: ${outcome.reason ?? 'no reason given'}; ${await this.rolledBack(result)}`);
      }
      const app = await this.client.get<App>(appPath(this.appId));
      const line = describe(progressOf(app));
      if (line !== last) this.draw(line);
      last = line;
      // Gone from the app without an event we heard: an empty change (nothing to do), canceled, or
      // superseded. Two reads in a row, so that an event on its way is not taken for its absence.
      if (!app.deployments.includes(result.deploymentId)) {
        if (++goneFor >= 3) {
          this.clearLine();
          if (app.version === result.version && app.deployments.length === 0 && isComplete(progressOf(app))) {
            process.stdout.write(`Deployed ${this.appId} version ${result.version}: ${line}\n`);
            return;
          }
          const now = app.deployments.length > 0 ? `deployment ${app.deployments[0]} is running now` : `the app is at version ${app.version}`;
          throw new CliError(`deployment ${result.deploymentId} of ${this.appId} ended without succeeding (canceled or superseded): ${now}`);
        }
      } else {
        goneFor = 0;
      }
      await this.sleep(DeploymentFollower.POLL_MS);
    }
  }

  /** What became of the app after its deployment failed: the rollback the server started, once it is known. */
  private async rolledBack(result: ChangeResult): Promise<string> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const app = await this.client.get<App>(appPath(this.appId)).catch(() => null);
      if (app && app.version !== result.version) {
        return `rolled back to the configuration of version ${app.lastConfigChangeAt} (now version ${app.version}${app.deployments.length > 0 ? `, deployment ${app.deployments[0]}` : ''})`;
      }
      if (Date.now() > deadline) return 'left as it is: no earlier version was ever fully healthy';
      await this.sleep(200);
    }
  }

  /** Opens the event stream and resolves once the server has attached it. */
  private async listen(): Promise<void> {
    const types = ['deployment_success', 'deployment_failed', 'event_stream_attached'].map((t) => `event_type=${t}`).join('&');
    let body: ReadableStream<Uint8Array>;
    try {
      body = await this.client.stream(`/v2/events?${types}`, this.abort.signal);
    } catch (err) {
      if (err instanceof CliError) throw err;
      return; // aborted
    }
    let attached: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (attached = resolve));
    void (async () => {
      try {
        for await (const event of sseEvents(body)) {
          if (event.eventType === 'event_stream_attached') attached();
          const id = event.id ?? event.plan?.id;
          if (id && event.eventType !== 'event_stream_attached') {
            this.outcomes.set(id, event);
            this.wake?.();
          }
        }
      } catch {
        // The stream ended (the follow is over, or the server went): the polls still see the app.
      }
      attached();
    })();
    await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private draw(line: string): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${this.appId}: ${line}`);
      this.drawn = true;
    } else {
      process.stderr.write(`${this.appId}: ${line}\n`);
    }
  }

  private clearLine(): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }
}

function isComplete(p: Progress): boolean {
  return p.old === 0 && p.newHealthy >= p.target;
}

/** `[######----] 2/3 new healthy, 1 old, target 3` */
export function describe(p: Progress): string {
  const width = 10;
  const filled = p.target === 0 ? width : Math.min(width, Math.round((p.newHealthy / p.target) * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.newHealthy}/${p.target} new healthy, ${p.old} old, target ${p.target}`;
}

/** The events of a Server-Sent Events body, their `data` read as JSON (comments and unnamed data skipped). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<DeploymentEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) yield JSON.parse(data.join('\n')) as DeploymentEvent;
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    }
  }
}

// Logs of every instance.

/** How long a followed line waits for earlier lines of other instances still on their way (agents send every 100 ms). */
const FOLLOW_HOLD_MS = 1000;

/**
 * Every instance's output, each line led by `[instance]`, merged by the time the agents read it (lines
 * of logs that kept no time go in the order they arrive). Partial lines are held until their end, so
 * two instances' lines never mix. With `follow`, the app's instances are read again every second and new
 * ones are followed too, until interrupted; each line is then held a second for earlier ones.
 */
async function appLogs(client: ApiClient, id: string, follow: boolean): Promise<void> {
  const merged = new LinesByTime((line) => (line.stream === 'stderr' ? process.stderr : process.stdout).write(line.text), FOLLOW_HOLD_MS);
  const following = new Map<string, Promise<void>>();
  const start = (task: TaskRecord): void => {
    if (following.has(task.id)) return;
    following.set(task.id, instanceLog(client, task, follow, (line) => merged.add(line)));
  };
  const { tasks } = await client.get<{ tasks: TaskRecord[] }>(appPath(id, '/tasks'));
  for (const task of tasks.filter((t) => t.state !== 'queued')) start(task);
  if (!follow) {
    await Promise.all(following.values());
    merged.flush();
    return;
  }
  const releasing = setInterval(() => merged.release(), 200);
  try {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = await client.get<{ tasks: TaskRecord[] }>(appPath(id, '/tasks'));
      for (const task of now.tasks.filter((t) => t.state !== 'queued')) start(task);
    }
  } finally {
    clearInterval(releasing);
    merged.flush();
  }
}

/** One instance's output as whole lines, each led by the instance and with the time of the chunk it began in. */
async function instanceLog(client: ApiClient, task: TaskRecord, follow: boolean, line: (line: TimedLine) => void): Promise<void> {
  const prefix = `[${instanceOf(task)}] `;
  const query = new URLSearchParams({ format: 'ndjson', follow: follow ? '1' : '0' });
  let body: ReadableStream<Uint8Array>;
  try {
    body = await client.stream(`/api/v1/tasks/${encodeURIComponent(task.id)}/logs?${query}`);
  } catch (err) {
    line({ at: undefined, stream: 'stderr', text: `${prefix}${(err as Error).message}\n` });
    return;
  }
  const pending = { stdout: { text: '', at: undefined as number | undefined }, stderr: { text: '', at: undefined as number | undefined } };
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const part of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(part, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const json = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!json) continue;
      const chunk = JSON.parse(json) as { stream?: 'stdout' | 'stderr'; text?: string; base64?: string; at?: string; end?: boolean };
      if (chunk.end || !chunk.stream) continue;
      const at = chunk.at !== undefined ? Date.parse(chunk.at) : undefined;
      const held = pending[chunk.stream];
      const lines = (held.text + (chunk.text ?? Buffer.from(chunk.base64 ?? '', 'base64').toString('utf8'))).split('\n');
      let lineAt = held.text ? held.at : at; // a line carries the time it began
      for (const text of lines.slice(0, -1)) {
        line({ at: lineAt, stream: chunk.stream, text: `${prefix}${text}\n` });
        lineAt = at;
      }
      held.text = lines.at(-1)!;
      held.at = held.text ? lineAt : undefined;
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (pending[stream].text) line({ at: pending[stream].at, stream, text: `${prefix}${pending[stream].text}\n` });
  }
}

/**
 * `apps deploy --blue-green`: starts the switch, then prints each move (the green's share) until it
 * succeeds (exit 0), goes back (exit 1 with the reason), or only starts with --no-follow.
 */
async function deployBlueGreen(client: ApiClient, app: Record<string, unknown>, flags: { follow: boolean; steps?: string; pause?: string; rollbackWindow?: string }): Promise<void> {
  const started = await client.post<{ deploymentId: string; switch: SwitchRecord | null }>('/api/v1/blue-green', {
    app,
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
    ...(flags.pause !== undefined ? { pause: flags.pause } : {}),
    ...(flags.rollbackWindow !== undefined ? { rollbackWindow: flags.rollbackWindow } : {}),
  });
  if (!started.switch) {
    process.stdout.write(`Created ${String(app.id)} (no live version to switch from), deployment ${started.deploymentId}\n`);
    return;
  }
  const { id, group, blue, green, settings } = started.switch;
  process.stdout.write(`Blue-green ${group}: ${green} starts beside ${blue}; traffic steps ${settings.steps.join('%, ')}%\n`);
  if (!flags.follow) return;
  let said = '';
  for (;;) {
    const { active, recent } = await client.get<{ active: SwitchRecord[]; recent: SwitchRecord[] }>('/api/v1/blue-green');
    const now = active.find((r) => r.id === id) ?? recent.find((r) => r.id === id);
    if (!now) throw new CliError(`the switch ${id} is gone`);
    const line =
      now.phase === 'starting' ? `${green}: starting, waiting for all its instances to be healthy`
      : now.phase === 'shifting' ? `${green}: ${now.settings.steps[now.step]}% of requests${now.settings.pauseMs === null ? ' (gantry apps promote to go on)' : ''}`
      : now.phase === 'window' ? `${green}: 100% of requests; ${blue} kept for the rollback window (gantry apps abort to go back)`
      : now.phase === 'succeeded' ? `Switched: ${green} serves ${group}; ${blue} is removed`
      : `Went back to ${blue}: ${now.reason ?? now.phase}`;
    if (line !== said) process.stdout.write(`${line}\n`);
    said = line;
    if (now.phase === 'succeeded') return;
    if (now.phase === 'aborted' || now.phase === 'failed') throw new CliError(`blue-green switch of ${group} ${now.phase}: ${now.reason ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
