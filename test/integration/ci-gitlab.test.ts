// GitLab on a real server: GitLab's documented example payloads (test/fixtures/gitlab, from
// doc/user/project/integrations/webhook_events.md) pointed at a local bare repository, sent to
// /hooks/gitlab with the headers GitLab sends. A push runs the repository's pipeline once per event
// (a retry with the same Idempotency-Key starts nothing); a wrong token is refused and nothing is
// recorded; a merge request runs the pipeline's on.pull_request from refs/merge-requests/IID/head.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CiServer, GITLAB_TOKEN, GitRepo, step } from '../helpers/ci.ts';
import { REPO, killAll, tempDir } from '../helpers/processes.ts';

const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(path.join(REPO, 'test', 'fixtures', 'gitlab', `${name}.json`), 'utf8')) as Record<string, any>;

const PIPELINE = `on:
  push: {branches: [master]}
  pull_request: {branches: [master]}
steps:
  - name: hello
    commands: ['echo "event=$CI_EVENT repo=$CI_REPO branch=$CI_COMMIT_BRANCH mr=$CI_PULL_REQUEST"']
`;

describe('CI: GitLab webhooks', function () {
  this.timeout(60_000);
  let server: CiServer;
  let repo: GitRepo;

  before(async () => {
    server = await CiServer.start('ci-gitlab');
    repo = new GitRepo(tempDir('ci-gitlab-repo'));
    repo.branch('master', 'main').commit({ '.gantry.yml': PIPELINE }, 'pipeline');
    repo.push('master');
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  async function send(event: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${server.url}/hooks/gitlab`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-token': GITLAB_TOKEN, 'x-gitlab-event-uuid': randomUUID(), 'x-gitlab-instance': 'https://gitlab.example.com', ...headers },
      body: JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** GitLab's push example, for our repository's master at its head. */
  function pushPayload(): Record<string, any> {
    const payload = fixture('push');
    Object.assign(payload, { ref: 'refs/heads/master', before: repo.head('main'), after: repo.head('master'), checkout_sha: repo.head('master') });
    Object.assign(payload.project, { path_with_namespace: 'acme/gitlab-web', git_http_url: repo.cloneUrl });
    return payload;
  }

  it('runs a push once per event, a retry with the same Idempotency-Key starting nothing', async () => {
    const key = randomUUID();
    const first = await send('Push Hook', pushPayload(), { 'idempotency-key': key });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const retry = await send('Push Hook', pushPayload(), { 'idempotency-key': key });
    assert.deepEqual([retry.status, retry.body.duplicate], [200, true]);
    const run = await server.finished((await server.runOf(`gitlab:${key}`)).id);
    assert.deepEqual([run.repository, run.event, run.branch, run.state], ['acme/gitlab-web', 'push', 'master', 'success']);
    assert.match(await server.stepLog(run, 'hello'), /^event=push repo=acme\/gitlab-web branch=master mr=$/m);
    assert.equal((await server.runs()).filter((r) => r.repository === 'acme/gitlab-web').length, 1);
  });

  it('refuses a wrong token with 401 and records nothing', async () => {
    const uuid = randomUUID();
    const refused = await send('Push Hook', pushPayload(), { 'x-gitlab-token': 'not-the-token', 'x-gitlab-event-uuid': uuid });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'unauthorized');
    assert.equal((await server.deliveries()).some((d) => d.deliveryId === `gitlab:${uuid}`), false);
  });

  it('runs a merge request from the head GitLab keeps at refs/merge-requests/IID/head', async () => {
    repo.branch('feature', 'master').commit({ 'feature.txt': 'new\n' }, 'feature');
    repo.publishPull(1, 'feature', 'merge-requests');
    const payload = fixture('merge_request');
    const attributes = payload.object_attributes;
    Object.assign(attributes, { iid: 1, action: 'open', target_branch: 'master', source_branch: 'feature', source_project_id: 1, target_project_id: 1 });
    attributes.last_commit.id = repo.head('feature');
    for (const side of [attributes.source, attributes.target, payload.project]) Object.assign(side, { path_with_namespace: 'acme/gitlab-web', git_http_url: repo.cloneUrl });
    const uuid = randomUUID();
    const sent = await send('Merge Request Hook', payload, { 'x-gitlab-event-uuid': uuid });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const run = await server.finished((await server.runOf(`gitlab:${uuid}`)).id);
    assert.deepEqual([run.event, run.ref, run.branch, run.commit, run.state], ['pull_request', 'refs/merge-requests/1/head', 'master', repo.head('feature'), 'success']);
    assert.match(await server.stepLog(run, 'hello'), /^event=pull_request repo=acme\/gitlab-web branch=master mr=1$/m);
    assert.equal(step(run, 'hello').state, 'success');
  });
});
