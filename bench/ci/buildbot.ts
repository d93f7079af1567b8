// The peer: Buildbot 3.7 from Debian's `buildbot` and `buildbot-worker` packages, a master and one worker
// on loopback ports in a fresh temporary directory (SQLite, as Gantry), its GitHub change hook at
// POST /change_hook/github with the same secret, `strict` (a delivery without a valid signature is
// refused). Buildbot 3.7 checks X-Hub-Signature (HMAC-SHA1), which GitHub sends beside
// X-Hub-Signature-256; every delivery of the benchmark carries both.
//
// Its builders do what Gantry's pipelines do: a Git step that clones the repository afresh at the
// pushed commit (mode full, method clobber: a new checkout every build, as Gantry's workspace), then
// the steps as ShellCommands run by /bin/sh. Schedulers react at once (treeStableTimer None) to their
// branch: `latency` → first-step, `marks` → marks-N; the burst's `burst/N` branches match none.
//
// Debian's buildbot comes without `buildbot-www` (the web UI's static files, a separate Python package
// not in Debian), and the master's www service, which serves the change hook and the REST API, refuses
// to start without it. master.cfg hands that service an empty stand-in for the UI's files; the change
// hook, the REST API and the scheduling are Buildbot's own code.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../shared/ports.ts';

const TOOLS = ['buildbot', 'buildbot-worker', 'twistd3'];

/** Why the peer cannot run here (with the apt-get line), or null when it can. */
export function buildbotUnavailable(): string | null {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return null;
  return `missing ${missing.join(', ')}: install Buildbot with: sudo apt-get install -y buildbot buildbot-worker   (Debian/Ubuntu)`;
}

export function buildbotVersion(): string {
  const out = spawnSync('buildbot', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /Buildbot version: (\S+)/.exec(out)?.[1] ?? 'unknown';
}

export interface BuildbotPeer {
  url: string;
  masterPid: number;
  workerPid: number;
  output(): string;
  stop(): Promise<void>;
}

const py = (text: string): string => JSON.stringify(text);

function masterConfig(o: { repoUrl: string; marksDir: string; steps: number; secret: string; pbPort: number; wwwPort: number; staticDir: string }): string {
  return `# Written by bench/ci/buildbot.ts: the peer of Gantry's CI in the CI benchmark.
from buildbot.plugins import worker, schedulers, util, steps
from buildbot.www import service as www_service
from twisted.web import static as tw_static

# Debian ships no buildbot-www (the UI's static files): an empty stand-in, so the www service (change
# hook, REST API) starts.
class _StandInUi:
    ui = False
    static_dir = ${py(o.staticDir)}
    def __init__(self):
        self.resource = tw_static.File(${py(o.staticDir)})
    def setMaster(self, master): pass
    def setConfiguration(self, config): pass

class _Apps:
    def __init__(self, real):
        self.real = real
        self.base = _StandInUi()
    def __contains__(self, key):
        return key == 'base' or key in self.real
    def get(self, key):
        return self.base if key == 'base' else self.real.get(key)
    @property
    def names(self):
        return list(self.real.names) + ['base']

_setup_site = www_service.WWWService.setupSite
def _with_stand_in(self, new_config):
    if not isinstance(self.apps, _Apps):
        self.apps = _Apps(self.apps)
    return _setup_site(self, new_config)
www_service.WWWService.setupSite = _with_stand_in

REPO = ${py(o.repoUrl)}
MARKS = ${py(o.marksDir)}

c = BuildmasterConfig = {}
c['title'] = 'bench-ci'
c['buildbotURL'] = 'http://127.0.0.1:${o.wwwPort}/'
c['buildbotNetUsageData'] = None
c['db'] = {'db_url': 'sqlite:///state.sqlite'}
c['workers'] = [worker.Worker('w1', 'bench-worker-password', max_builds=4)]
c['protocols'] = {'pb': {'port': 'tcp:${o.pbPort}:interface=127.0.0.1'}}
c['change_source'] = []
c['schedulers'] = [
    schedulers.AnyBranchScheduler(name='first-step', treeStableTimer=None, change_filter=util.ChangeFilter(branch='latency'), builderNames=['first-step']),
    schedulers.AnyBranchScheduler(name='marks', treeStableTimer=None, change_filter=util.ChangeFilter(branch='marks'), builderNames=['marks-${o.steps}']),
]

def clone():
    return steps.Git(repourl=REPO, mode='full', method='clobber', name='clone')

first = util.BuildFactory()
first.addStep(clone())
first.addStep(steps.ShellCommand(name='first', command=util.Interpolate('date +%%s%%N > ' + MARKS + '/bb-%(prop:revision)s')))

marks = util.BuildFactory()
marks.addStep(clone())
for i in range(${o.steps}):
    marks.addStep(steps.ShellCommand(name='s%02d' % (i + 1), command=util.Interpolate('date +%%s%%N >> ' + MARKS + '/bb-steps-%(prop:revision)s')))

c['builders'] = [
    util.BuilderConfig(name='first-step', workernames=['w1'], factory=first),
    util.BuilderConfig(name='marks-${o.steps}', workernames=['w1'], factory=marks),
]
c['www'] = dict(port='tcp:${o.wwwPort}:interface=127.0.0.1', plugins={}, change_hook_dialects={'github': {'secret': ${py(o.secret)}, 'strict': True}})
`;
}

function run(cmd: string, args: string[], cwd: string): void {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
}

export async function startBuildbot(dir: string, o: { repoUrl: string; marksDir: string; steps: number; secret: string }): Promise<BuildbotPeer> {
  const [pbPort, wwwPort] = [await freePort(), await freePort()];
  const masterDir = path.join(dir, 'master');
  const workerDir = path.join(dir, 'worker');
  const staticDir = path.join(dir, 'ui-stand-in');
  await mkdir(staticDir, { recursive: true });
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>bench</title>\n');
  run('buildbot', ['create-master', '-q', masterDir], dir);
  await writeFile(path.join(masterDir, 'master.cfg'), masterConfig({ ...o, pbPort, wwwPort, staticDir }));
  run('buildbot-worker', ['create-worker', '-q', workerDir, `127.0.0.1:${pbPort}`, 'w1', 'bench-worker-password'], dir);
  let out = '';
  const start = (cwd: string): ChildProcess => {
    const child = spawn('twistd3', ['--nodaemon', '--no_save', '--pidfile', '', '-y', 'buildbot.tac'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return child;
  };
  const master = start(masterDir);
  const url = `http://127.0.0.1:${wwwPort}`;
  const stopper = (child: ChildProcess) => (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 60_000;
  const waitUntil = async (what: string, probe: () => Promise<boolean>) => {
    for (;;) {
      if (master.exitCode !== null) throw new Error(`buildbot master exited (${master.exitCode}):\n${out.slice(-3000)}`);
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`buildbot: timed out waiting for ${what}:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await waitUntil('the master', async () => (await fetch(`${url}/api/v2/builders`)).status === 200);
  const worker = start(workerDir);
  await waitUntil('the worker', async () => {
    const body = (await (await fetch(`${url}/api/v2/workers`)).json()) as { workers: Array<{ connected_to: unknown[] }> };
    return body.workers.some((w) => w.connected_to.length > 0);
  });
  const stopMaster = stopper(master);
  const stopWorker = stopper(worker);
  return { url, masterPid: master.pid ?? 0, workerPid: worker.pid ?? 0, output: () => out, stop: async () => (await stopWorker(), await stopMaster()) };
}

interface BuildRecord {
  buildid: number;
  number: number;
  complete: boolean;
  results: number | null;
  state_string: string;
  properties?: Record<string, [unknown, string]>;
}

/** Waits for the build of `revision` on `builder` to complete; returns it (results 0 = success). */
export async function finishedBuildOf(url: string, builder: string, revision: string, timeoutMs: number, everyMs = 100): Promise<BuildRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/api/v2/builders/${builder}/builds?order=-number&limit=5&property=revision`);
    const body = (await response.json()) as { builds: BuildRecord[] };
    const build = body.builds.find((b) => b.properties?.revision?.[0] === revision);
    if (build?.complete) return build;
    if (Date.now() > deadline) throw new Error(`buildbot: the build of ${revision} on ${builder} did not complete in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The highest change id recorded: how many changes the change hook has added so far. */
export async function lastChangeId(url: string): Promise<number> {
  const body = (await (await fetch(`${url}/api/v2/changes?order=-changeid&limit=1`)).json()) as { changes: Array<{ changeid: number }> };
  return body.changes[0]?.changeid ?? 0;
}
