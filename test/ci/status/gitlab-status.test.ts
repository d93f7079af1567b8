// Commit statuses against a local HTTP server standing in for a GitLab instance (GitLab itself cannot
// run here): POST /api/v4/projects/:id/statuses/:sha as GitLab's API documents it, once per state
// change, for runs GitLab's deliveries started and no others.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { GitHubStatusReporter } from '../../../src/ci/status/github-status.ts';
import { GitLabStatusReporter } from '../../../src/ci/status/gitlab-status.ts';
import type { CiRun } from '../../../src/ci/store/runs.ts';

const SHA = 'b'.repeat(40);
const run = (state: CiRun['state'], extra: Partial<CiRun> = {}): CiRun => ({
  id: 'cr-9', pipeline: 'web', repository: 'acme/platform/web', number: 3, event: 'push', ref: 'refs/heads/main', branch: 'main', tag: null,
  commit: SHA, before: null, cloneUrl: 'https://gitlab.example.com/acme/platform/web.git', deliveryId: 'gitlab:4c4e1bd8-1f7a-4a2e-9d7c-2b6c1f0e9a11',
  state, reason: null, concurrencyGroup: null, definition: null, changedPaths: null, workspaceHost: null, createdAt: '', startedAt: null, finishedAt: null,
  pullRequest: null, ...extra,
});

describe('GitLab commit statuses', () => {
  let server: http.Server;
  let url = '';
  const received: Array<{ method: string; path: string; token: string | undefined; body: Record<string, unknown> }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', path: req.url ?? '', token: req.headers['private-token'] as string | undefined, body: JSON.parse(text || '{}') as Record<string, unknown> });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => void (received.length = 0));

  const logger = pino({ level: 'silent' });

  it('posts running once, then the outcome, on the project named by its encoded path, with a link to the run', async () => {
    const reporter = new GitLabStatusReporter({ url: `${url}/`, token: 'glpat-test', publicUrl: 'https://ci.example.com', logger });
    await reporter.report(run('queued'));
    await reporter.report(run('running'));
    await reporter.report(run('running'));
    await reporter.report(run('failure', { reason: 'step "test" failed: exited with code 2' }));
    assert.deepEqual(received.map((r) => [r.method, r.path, r.token, r.body.state]), [
      ['POST', `/api/v4/projects/acme%2Fplatform%2Fweb/statuses/${SHA}`, 'glpat-test', 'pending'],
      ['POST', `/api/v4/projects/acme%2Fplatform%2Fweb/statuses/${SHA}`, 'glpat-test', 'running'],
      ['POST', `/api/v4/projects/acme%2Fplatform%2Fweb/statuses/${SHA}`, 'glpat-test', 'failed'],
    ]);
    assert.deepEqual(received[2]!.body, {
      state: 'failed', name: 'gantry/web', ref: 'main', description: '#3 failure: step "test" failed: exited with code 2', target_url: 'https://ci.example.com/api/v1/runs/cr-9',
    });
  });

  it('names a merge request\'s source branch, and reports cancel as canceled', async () => {
    const reporter = new GitLabStatusReporter({ url, token: 't', logger });
    const pull = { number: 5, baseBranch: 'main', headBranch: 'feature', headRepository: 'acme/platform/web', fork: false };
    await reporter.report(run('canceled', { id: 'cr-10', event: 'pull_request', pullRequest: pull, reason: 'canceled by user' }));
    assert.deepEqual([received[0]!.body.state, received[0]!.body.ref], ['canceled', 'feature']);
  });

  it('reports only GitLab\'s runs, and GitHub\'s reporter leaves them alone', async () => {
    await new GitLabStatusReporter({ url, token: 't', logger }).report(run('success', { id: 'cr-11', deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' }));
    await new GitLabStatusReporter({ url, token: 't', logger }).report(run('success', { id: 'cr-12', deliveryId: null, event: 'manual' }));
    await new GitHubStatusReporter({ apiUrl: url, token: 't', logger }).report(run('success', { id: 'cr-13', repository: 'acme/web' }));
    assert.deepEqual(received, []);
  });
});
