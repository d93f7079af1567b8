// Commit statuses against a local HTTP server standing in for api.github.com (GitHub itself cannot
// run here): the requests GitHub's API documents, once per state change.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { GitHubStatusReporter } from '../../../src/ci/status/github-status.ts';
import type { CiRun } from '../../../src/ci/store/runs.ts';

const run = (state: CiRun['state'], extra: Partial<CiRun> = {}): CiRun => ({
  id: 'cr-1', pipeline: 'web', repository: 'acme/web', number: 7, event: 'push', ref: 'refs/heads/main', branch: 'main', tag: null,
  commit: 'a'.repeat(40), before: null, cloneUrl: 'file:///x', deliveryId: 'd', state, reason: null, concurrencyGroup: null, definition: null,
  changedPaths: null, workspaceHost: null, createdAt: '', startedAt: null, finishedAt: null, pullRequest: null, ...extra,
});

describe('GitHub commit statuses', () => {
  let server: http.Server;
  let apiUrl = '';
  const received: Array<{ path: string; auth: string | undefined; body: Record<string, unknown> }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(text) as Record<string, unknown> });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
  });
  after(() => server.close());
  beforeEach(() => void (received.length = 0));

  it('posts pending once, then the outcome, with a link to the run', async () => {
    const reporter = new GitHubStatusReporter({ apiUrl, token: 'ghp_test', publicUrl: 'https://ci.example.com/', logger: pino({ level: 'silent' }) });
    await reporter.report(run('queued'));
    await reporter.report(run('running'));
    await reporter.report(run('running'));
    await reporter.report(run('failure', { reason: 'step "test" failed' }));
    assert.deepEqual(received.map((r) => [r.path, r.body.state]), [
      [`/api/v3/repos/acme/web/statuses/${'a'.repeat(40)}`, 'pending'],
      [`/api/v3/repos/acme/web/statuses/${'a'.repeat(40)}`, 'failure'],
    ]);
    assert.equal(received[0]!.auth, 'Bearer ghp_test');
    assert.deepEqual(received[1]!.body, { state: 'failure', context: 'gantry/web', description: '#7 failure: step "test" failed', target_url: 'https://ci.example.com/api/v1/runs/cr-1' });
  });

  it('reports canceled and timed-out runs as error, and nothing for manual runs', async () => {
    const reporter = new GitHubStatusReporter({ apiUrl, token: 't', logger: pino({ level: 'silent' }) });
    await reporter.report(run('canceled', { id: 'cr-2' }));
    await reporter.report(run('success', { id: 'cr-3', event: 'manual' }));
    assert.deepEqual(received.map((r) => r.body.state), ['error']);
    assert.equal(received[0]!.body.target_url, undefined);
  });

  it('puts a pull request\'s status on its head commit, told apart from the push\'s as GitHub Actions does', async () => {
    const reporter = new GitHubStatusReporter({ apiUrl, token: 't', logger: pino({ level: 'silent' }) });
    const head = 'c'.repeat(40);
    await reporter.report(run('success', { id: 'cr-4', event: 'pull_request', commit: head, pullRequest: { number: 9, baseBranch: 'main', headBranch: 'topic', headRepository: 'mallory/web', fork: true } }));
    assert.deepEqual([received[0]!.path, received[0]!.body.context], [`/api/v3/repos/acme/web/statuses/${head}`, 'gantry/web (pull_request)']);
  });

  it('never fails the run when GitHub cannot be reached: the report resolves, a warning names the run, and the outcome goes out once GitHub answers again', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    let reachable = false;
    // GitHub down: the same request goes to a port nothing listens on any more (a refused connection;
    // not port 1, which fetch refuses by itself as a "bad port" before it connects).
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const downUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/api/v3`;
    await new Promise((resolve) => closed.close(resolve));
    const reporter = new GitHubStatusReporter({
      apiUrl,
      token: 't',
      logger,
      fetch: (url, init) => fetch(reachable ? url : String(url).replace(apiUrl, downUrl), init),
    });
    await reporter.report(run('running', { id: 'cr-4' }));
    assert.equal(received.length, 0, 'nothing reached GitHub');
    assert.deepEqual(warnings.map((w) => [w.run, w.msg]), [['cr-4', 'could not report the commit status to GitHub']]);
    assert.match(String(warnings[0]!.err), /fetch failed/);

    reachable = true;
    await reporter.report(run('success', { id: 'cr-4' }));
    assert.deepEqual(received.map((r) => [r.path, r.body.state, r.body.description]), [[`/api/v3/repos/acme/web/statuses/${'a'.repeat(40)}`, 'success', '#7 passed']]);
    assert.equal(warnings.length, 1);
  });

  it('logs a status GitHub refuses, with its HTTP status, and goes on', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    const refusing = http.createServer((_req, res) => res.writeHead(422, { 'content-type': 'application/json' }).end('{"message":"No commit found for SHA"}'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const reporter = new GitHubStatusReporter({ apiUrl: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`, token: 't', logger });
      await reporter.report(run('failure', { id: 'cr-5' }));
      assert.deepEqual(warnings.map((w) => [w.run, w.status, w.msg]), [['cr-5', 422, 'GitHub refused the commit status']]);
    } finally {
      refusing.close();
    }
  });
});
