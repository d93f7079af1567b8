// GitHub deliveries against a real `gantry server`: the real example payloads of
// @octokit/webhooks-examples, signed as GitHub signs them, for commits pushed to a local bare
// repository cloned over file://. What a user sees: the HTTP answer, /api/v1/ci/deliveries (with why a
// delivery started nothing) and /api/v1/runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { CiServer, GitRepo, PING_EXAMPLE, ZERO_SHA, deliver, pushPayload, sign, stepStates } from '../helpers/ci.ts';
import { ADMIN_TOKEN, killAll, runCli, tempDir, waitFor } from '../helpers/processes.ts';
import { GitMirror } from '../../src/ci/workspace/git-mirror.ts';

/** A server pipeline bound to acme/app: main and release branches, but not for documentation alone. */
const APP_PIPELINE = `name: app
repository: acme/app
on:
  push:
    branches: [main, 'release/**']
    paths:
      exclude: ['docs/**']
steps:
  - name: build
    commands:
      - echo "building $CI_COMMIT_BRANCH"
`;

const HELLO = `steps:
  - name: hello
    commands:
      - echo "hello from $CI_COMMIT_REF at $CI_COMMIT_SHA"
`;

describe('CI: GitHub webhook deliveries start runs', function () {
  this.timeout(60_000);
  let server: CiServer;
  let repo: GitRepo;

  before(async () => {
    server = await CiServer.start('ci-webhooks', { 'app.yml': APP_PIPELINE });
    repo = new GitRepo(tempDir('ci-webhooks-git'));
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('lists the server pipeline', async () => {
    const listing = (await server.client.get('/api/v1/pipelines')).body;
    assert.deepEqual(listing.errors, []);
    assert.deepEqual(listing.pipelines.map((p: { name: string; repository: string; steps: string[] }) => [p.name, p.repository, p.steps]), [['app', 'acme/app', ['build']]]);
  });

  it('starts one run per delivery id: a redelivery answers 2xx and starts nothing', async () => {
    repo.branch('redeliver').commit({ '.gantry.yml': HELLO }, 'add a pipeline');
    repo.push('redeliver');
    const payload = pushPayload({ ref: 'refs/heads/redeliver', after: repo.head(), before: repo.head('main'), cloneUrl: repo.cloneUrl, fullName: 'acme/redeliver' });

    const first = await deliver(server.url, 'push', payload);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const run = await server.runOf(first.id);
    assert.deepEqual([run.pipeline, run.event, run.ref, run.branch, run.commit], ['gantry', 'push', 'refs/heads/redeliver', 'redeliver', repo.head()]);

    // GitHub's "Redeliver" sends the same delivery id and body; so may two at once (a retry racing).
    const again = await Promise.all([deliver(server.url, 'push', payload, { id: first.id }), deliver(server.url, 'push', payload, { id: first.id })]);
    for (const answer of again) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.duplicate, true);
    }
    const ended = await server.finished(run.id);
    assert.equal(ended.state, 'success', ended.reason ?? '');
    assert.deepEqual(stepStates(ended), { clone: 'success', hello: 'success' });
    assert.match(await server.stepLog(ended, 'hello'), new RegExp(`hello from refs/heads/redeliver at ${repo.head()}`));
    assert.match(await server.stepLog(ended, 'clone'), new RegExp(`${repo.head()} add a pipeline`), 'the clone step checked out the pushed commit');
    assert.equal((await server.runs()).filter((r) => r.deliveryId === first.id).length, 1);
    assert.equal((await server.deliveries()).filter((d) => d.deliveryId === first.id).length, 1);

    // The same push under a new delivery id is a new event: it builds again.
    const other = await deliver(server.url, 'push', payload);
    assert.equal(other.status, 202);
    const second = await server.runOf(other.id);
    assert.equal(second.number, run.number + 1);
    assert.equal((await server.finished(second.id)).state, 'success');
  });

  it('refuses a bad or missing signature with 401 and records nothing', async () => {
    repo.branch('unsigned').commit({ '.gantry.yml': HELLO }, 'unsigned push');
    repo.push('unsigned');
    const payload = pushPayload({ ref: 'refs/heads/unsigned', after: repo.head(), cloneUrl: repo.cloneUrl, fullName: 'acme/unsigned' });
    const runsBefore = (await server.runs()).length;
    const body = JSON.stringify(payload);
    const tampered = (signature: string, id: string) =>
      fetch(`${server.url}/hooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': signature },
        body: body.replace('refs/heads/unsigned', 'refs/heads/main'),
      });
    const answers = [
      await deliver(server.url, 'push', payload, { secret: 'not the webhook secret' }),
      await deliver(server.url, 'push', payload, { secret: null }),
    ];
    // Signed correctly, then changed in transit (the signature covers the raw bytes); and garbage.
    for (const [id, signature] of [['tampered-1', sign(body)], ['forged-1', `sha256=${'0'.repeat(64)}`], ['forged-2', 'sha1=abc']] as const) {
      const answer = await tampered(signature, id);
      assert.equal(answer.status, 401, id);
    }
    for (const answer of answers) {
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.error, 'unauthorized');
    }
    const ids = new Set([...answers.map((a) => a.id), 'tampered-1', 'forged-1', 'forged-2']);
    assert.deepEqual((await server.deliveries()).filter((d) => ids.has(d.deliveryId)), []);
    const runs = await server.runs();
    assert.equal(runs.length, runsBefore);
    assert.deepEqual(runs.filter((r) => r.repository === 'acme/unsigned'), []);
  });

  it('answers malformed deliveries with 400 and 415, and records nothing', async () => {
    const payload = pushPayload({ ref: 'refs/heads/main', after: repo.head('main'), cloneUrl: repo.cloneUrl, fullName: 'acme/malformed' });
    const noEvent = await fetch(`${server.url}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-delivery': 'no-event' }, body: JSON.stringify(payload) });
    assert.equal(noEvent.status, 400);
    // Signed, but not a JSON object.
    const notJson = await deliver(server.url, 'push', payload, { body: 'payload=not-json' });
    assert.equal(notJson.status, 400, JSON.stringify(notJson.body));
    // GitHub's other content type (a form post), correctly signed.
    const form = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const formPost = await fetch(`${server.url}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'push', 'x-github-delivery': 'form-1', 'x-hub-signature-256': sign(form) },
      body: form,
    });
    assert.equal(formPost.status, 415);
    const ids = new Set(['no-event', notJson.id, 'form-1']);
    assert.deepEqual((await server.deliveries()).filter((d) => ids.has(d.deliveryId)), []);
    assert.deepEqual((await server.runs()).filter((r) => r.repository === 'acme/malformed'), []);
  });

  it('refuses a body over GitHub\'s 25 MB with 413 before reading it; other methods get the API\'s JSON 401, or 404 with the admin token', async () => {
    // Declared too large: answered at once, without waiting for (or reading) the body.
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = http.request(`${server.url}/hooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(26 * 1024 * 1024), 'x-github-event': 'push', 'x-github-delivery': 'huge-1' },
      }, (response) => {
        let body = '';
        response.on('data', (c: Buffer) => (body += c.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: body }));
      });
      request.on('error', reject);
      request.write('{"ref":');
    });
    assert.equal(status, 413);
    assert.equal(JSON.parse(text).error, 'too_large');
    // Sent too large without saying so (chunked): cut off once it passes the limit.
    let chunks = 0;
    const sent = await fetch(`${server.url}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'huge-2' },
      body: new ReadableStream({
        pull(controller) {
          if (++chunks > 40) controller.close();
          else controller.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
        },
      }),
      duplex: 'half',
    } as RequestInit).catch((err: Error) => err);
    if (!(sent instanceof Error)) assert.equal(sent.status, 413); // or the connection was closed mid-upload
    assert.ok(chunks < 40, `the server read all ${chunks} MiB`);
    assert.deepEqual((await server.deliveries()).filter((d) => d.deliveryId.startsWith('huge-')), []);

    // Other methods go on to the API, where no route answers them: 401 without the admin token, then 404.
    const get = await fetch(`${server.url}/hooks/github`);
    assert.equal(get.status, 401);
    assert.equal(((await get.json()) as { error: string }).error, 'unauthorized');
    const asAdmin = await fetch(`${server.url}/hooks/github`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(asAdmin.status, 404);
    assert.equal(((await asAdmin.json()) as { error: string }).error, 'not_found');
    // A query string does not hide the route.
    const withQuery = await fetch(`${server.url}/hooks/github?source=test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(withQuery.status, 400, 'missing headers: the webhook route answered');
  });

  it('answers a ping with 200 and starts nothing', async () => {
    const ping = await deliver(server.url, 'ping', PING_EXAMPLE);
    assert.equal(ping.status, 200, JSON.stringify(ping.body));
    const recorded = (await server.deliveries()).find((d) => d.deliveryId === ping.id);
    assert.equal(recorded?.outcome, 'ignored');
    assert.match(recorded?.detail ?? '', /pong/);
    assert.deepEqual((await server.runs()).filter((r) => r.deliveryId === ping.id), []);
  });

  it('starts nothing for a deleted ref, and drops it from the server\'s git mirror', async () => {
    const mirror = await new GitMirror(path.join(server.dataDir, 'ci', 'mirrors'), path.join(server.dataDir, 'secrets', 'ci-mirror.key')).directoryOf(repo.cloneUrl);
    const mirrorHolds = (ref: string) => execFileSync('git', ['-C', mirror, 'for-each-ref', '--format=%(refname)', ref], { encoding: 'utf8' }).trim() === ref;
    for (const branch of ['kept', 'doomed']) {
      repo.branch(branch).commit({ '.gantry.yml': HELLO }, `${branch}: a pipeline`);
      repo.push(branch);
      const pushed = await deliver(server.url, 'push', pushPayload({ ref: `refs/heads/${branch}`, after: repo.head(), before: repo.head('main'), cloneUrl: repo.cloneUrl, fullName: 'acme/app' }));
      assert.equal(pushed.status, 202, JSON.stringify(pushed.body));
      await server.runOf(pushed.id);
      assert.equal(mirrorHolds(`refs/heads/${branch}`), true, 'the push was fetched into the mirror');
    }
    const gone = repo.head();

    const deleted = await deliver(server.url, 'push', pushPayload({ ref: 'refs/heads/doomed', before: gone, after: ZERO_SHA, cloneUrl: repo.cloneUrl, fullName: 'acme/app', deleted: true }));
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    const recorded = (await server.deliveries()).find((d) => d.deliveryId === deleted.id);
    assert.equal(recorded?.outcome, 'ignored');
    assert.match(recorded?.detail ?? '', /refs\/heads\/doomed was deleted/);
    assert.deepEqual((await server.runs()).filter((r) => r.deliveryId === deleted.id), []);
    // A mirror that kept every branch ever pushed would make each fetch walk them all.
    await waitFor('the deleted branch gone from the mirror', async () => !mirrorHolds('refs/heads/doomed'));
    assert.equal(mirrorHolds('refs/heads/kept'), true, 'the other branches stay');
  });

  it('builds a tag push as a tag event (a branch-only server pipeline skips it, saying why)', async () => {
    repo.branch('tagged').commit({ '.gantry.yml': `steps:\n  - name: release\n    commands:\n      - echo "event=$CI_EVENT tag=$CI_COMMIT_TAG branch=[$CI_COMMIT_BRANCH]"\n` }, 'release 1.0');
    const commit = repo.tag('v1.0.0');
    const pushed = await deliver(server.url, 'push', pushPayload({ ref: 'refs/tags/v1.0.0', after: commit, cloneUrl: repo.cloneUrl, fullName: 'acme/app' }));
    assert.equal(pushed.status, 202);
    const run = await server.runOf(pushed.id);
    assert.deepEqual([run.pipeline, run.event, run.tag, run.branch, run.commit], ['gantry', 'tag', 'v1.0.0', null, commit]);
    const detail = (await server.settledDelivery(pushed.id)).detail ?? '';
    assert.match(detail, /app: tag "v1\.0\.0": on\.push filters branches only/);
    const ended = await server.finished(run.id);
    assert.equal(ended.state, 'success', ended.reason ?? '');
    assert.match(await server.stepLog(ended, 'release'), /event=tag tag=v1\.0\.0 branch=\[\]/);
  });

  it("applies a server pipeline's branch and path filters, and says why a push started nothing", async () => {
    // A release branch with a source change: the pipeline runs.
    const base = repo.head('main');
    repo.branch('release/1.0').commit({ 'src/app.txt': 'v1\n' }, 'source change');
    repo.push('release/1.0');
    const release = await server.push(repo, 'acme/app', 'refs/heads/release/1.0', base);
    const run = await server.runOf(release.id);
    assert.equal(run.pipeline, 'app');
    const ended = await server.finished(run.id);
    assert.equal(ended.state, 'success', ended.reason ?? '');
    assert.match(await server.stepLog(ended, 'build'), /building release\/1\.0/);

    // A branch the filter does not name.
    repo.branch('feature/x').commit({ 'src/app.txt': 'v2\n' }, 'feature');
    repo.push('feature/x');
    const feature = await server.push(repo, 'acme/app', 'refs/heads/feature/x', base);
    assert.deepEqual(await server.runsOf(feature.id), []);
    assert.match((await server.settledDelivery(feature.id)).detail ?? '', /no pipeline started; app: branch "feature\/x" does not match on\.push\.branches/);

    // Only documentation changed on the release branch: skipped.
    const previous = repo.branch('release/1.0').head();
    repo.commit({ 'docs/guide.md': '# guide\n' }, 'docs only');
    repo.push('release/1.0');
    const docs = await server.push(repo, 'acme/app', 'refs/heads/release/1.0', previous);
    assert.deepEqual(await server.runsOf(docs.id), []);
    assert.match((await server.settledDelivery(docs.id)).detail ?? '', /app: branch "release\/1\.0": the changed path "docs\/guide\.md" does not match on\.push\.paths \(.*docs\/\*\*/);

    // Documentation and source: it runs again.
    const docsOnly = repo.head();
    repo.commit({ 'docs/guide.md': '# guide 2\n', 'src/app.txt': 'v3\n' }, 'docs and source');
    repo.push('release/1.0');
    const both = await server.push(repo, 'acme/app', 'refs/heads/release/1.0', docsOnly);
    const again = await server.runOf(both.id);
    assert.equal(again.number, run.number + 1);
    assert.equal((await server.finished(again.id)).state, 'success');

    // `gantry ci deliveries`: each delivery with what it started, or why nothing.
    const listed = await runCli(['ci', 'deliveries', '--limit', '4'], server.cliEnv);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    assert.match(lines[0]!, /^DELIVERY\s+EVENT\s+REPOSITORY\s+REF\s+OUTCOME\s+AGE\s+DETAIL$/);
    const line = (id: string): string => lines.find((l) => l.startsWith(id)) ?? `no line for ${id}: ${listed.stdout}`;
    assert.match(line(both.id), new RegExp(`^${both.id}\\s+push\\s+acme/app\\s+release/1\\.0\\s+processed\\s+\\S+\\s+started app #${again.number}`));
    assert.match(line(feature.id), /\s+processed\s+\S+\s+no pipeline started; app: branch "feature\/x" does not match on\.push\.branches/);
  });

  it('records an invalid .gantry.yml as a failed run with the parse error, and runs nothing', async () => {
    const broken = `steps:\n  - name: build\n    commands: [echo one\n  - name: test\n    commands: [echo two]\n`;
    repo.branch('broken', 'main').commit({ '.gantry.yml': broken }, 'broken YAML');
    repo.push('broken');
    const pushed = await server.push(repo, 'acme/broken', 'refs/heads/broken');
    const run = await server.run((await server.runOf(pushed.id)).id);
    assert.equal(run.state, 'failure');
    assert.match(run.reason ?? '', /^\.gantry\.yml:4: invalid YAML: /, run.reason ?? '');
    assert.deepEqual(run.steps, [], 'no step was planned');
    assert.ok(run.finishedAt, 'the run is over');
    const tasks = (await server.client.get(`/api/v1/tasks?owner=${encodeURIComponent(`ci:${run.id}:0`)}`)).body.tasks;
    assert.deepEqual(tasks, [], 'not even the clone step ran');

    // Valid YAML, wrong schema: the message names the file, the line and the field.
    repo.commit({ '.gantry.yml': `steps:\n  - name: build\n    comands: [make]\n` }, 'typo');
    repo.push('broken');
    const typo = await server.push(repo, 'acme/broken', 'refs/heads/broken');
    const failed = await server.runOf(typo.id);
    assert.equal(failed.state, 'failure');
    assert.match(failed.reason ?? '', /\.gantry\.yml:3: steps\[0\]\.comands: unknown field "comands" \(did you mean "commands"\?\)/);
  });
});
