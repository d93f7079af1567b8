// The registry's web frontend (issue 7) in a real headless Chromium (Debian's chromium, driven by
// playwright-core) against a real server: sign in with the admin token, the storage and inode gauges,
// repositories searched and paged, tags sorted by push time, size and name on the server and paged
// (60 tags), a tag's details (digest, size, who pushed, layers, history, pull command), deleting a tag,
// a retention dry run, and a screenshot-level check that the main pages render (the screenshot, decoded
// by the browser itself, has content: many colours and a good share of non-background pixels).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_TOKEN, killAll, tempDir } from '../helpers/processes.ts';
import { OCI_MANIFEST, ociClient, startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';

const CHROMIUM = '/usr/bin/chromium';

describe('registry frontend in Chromium', function () {
  this.timeout(120_000);
  const dir = tempDir('registry-frontend');
  let started: RegistryServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let ui = '';
  let registry = '';
  let basic = { authorization: '' };
  const digests = new Map<string, string>();

  /** An image whose layer is `layerBytes` long, with a config that has a history. */
  const pushImage = async (repo: string, tag: string, layerBytes: number) => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2026-11-20T10:00:00Z', config: { Cmd: ['/bin/serve', '--port', '8080'] }, history: [{ created_by: 'ADD rootfs.tar /' }, { created_by: `RUN make ${tag}` }], tag }));
    digests.set(`${repo}:${tag}`, await ociClient(registry, basic).pushImage(repo, [tag], { config, layers: [randomBytes(layerBytes)] }));
  };

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.GANTRY_REQUIRE_CHROMIUM === '1') throw new Error(`GANTRY_REQUIRE_CHROMIUM=1 but ${CHROMIUM} is missing: apt-get install chromium`);
      this.skip();
    }
    started = await startRegistryServer(dir);
    ({ registry, basic } = started);
    ui = `${started.apiUrl}/ui/`;
    // 60 tags in alpha/api, pushed one after the other, with sizes that do not follow the push order.
    for (let i = 0; i < 60; i++) await pushImage('alpha/api', `v${i}`, 1000 + ((i * 37) % 60) * 100);
    await pushImage('alpha/web', 'latest', 5000);
    await pushImage('beta/worker', 'latest', 9000);
    const quota = await fetch(`${started.apiUrl}/api/v1/registry/quotas`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repository: 'beta/**', maxBytes: 1024 * 1024 }),
    });
    assert.equal(quota.status, 200);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (dialog) => void dialog.accept());
  });
  after(async () => {
    await browser?.close();
    await started?.server.stop();
    killAll();
  });

  /** Polls `check` (through locators: nothing evaluated in the page) until it holds. */
  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${await page.locator('main').innerText()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The page's screenshot, decoded by the browser: how many colours, and the share of non-background pixels. */
  async function screenshotContent(name: string): Promise<{ colours: number; inked: number }> {
    const png = await page.screenshot({ fullPage: false });
    writeFileSync(path.join(dir, `${name}.png`), png);
    // Decoded in a blank page of its own (the UI's CSP rightly forbids evaluating strings); the code is
    // a string because this file is type-checked without the DOM's types.
    const scratch = await browser!.newPage();
    try {
      return await scratch.evaluate(`(async () => {
      const image = new Image();
      image.src = ${JSON.stringify(`data:image/png;base64,${png.toString('base64')}`)};
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      const counts = new Map();
      for (let i = 0; i < data.length; i += 4) {
        const colour = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        counts.set(colour, (counts.get(colour) || 0) + 1);
      }
      const background = Math.max(...counts.values());
      return { colours: counts.size, inked: 1 - background / (data.length / 4) };
    })()`);
    } finally {
      await scratch.close();
    }
  }

  it('signs in with the admin token (a wrong one is refused) and shows the storage and inode gauges', async () => {
    await page.goto(ui);
    await page.fill('#token', 'gat_wrong-token-0123456789abcdef');
    await page.click('button[type=submit]');
    await page.getByText('That token is not valid.').waitFor();
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.locator('#repositories tbody tr').first().waitFor();
    assert.match(await page.locator('[data-gauge="Storage"]').innerText(), /^Storage: [\d.]+ [KMG]?i?B used, [\d.]+ [KMGT]?i?B free/);
    assert.match(await page.locator('[data-gauge="Inodes"]').innerText(), /^Inodes: [\d,]+ used, [\d,]+ free/);
  });

  it('lists repositories, searches them on the server, and the page renders', async () => {
    await page.goto(`${ui}#/`);
    await page.locator('#repositories tbody tr').first().waitFor();
    assert.deepEqual(await page.locator('#repositories tbody tr td:first-child').allInnerTexts(), ['alpha/api', 'alpha/web', 'beta/worker']);
    assert.match(await page.locator('[data-quota="beta/worker"]').innerText(), /^1% of 1 MiB$/, 'the quota and how much of it is used');
    assert.equal(await page.locator('[data-quota="alpha/web"]').innerText(), '—');
    await page.fill('#search', 'alpha');
    await until('2 repositories', async () => (await page.locator('#repositories tbody tr').count()) === 2);
    assert.deepEqual(await page.locator('#repositories tbody tr td:first-child').allInnerTexts(), ['alpha/api', 'alpha/web']);
    await page.selectOption('#sort', 'tags');
    await until('alpha/api first', async () => (await page.locator('#repositories tbody tr td').first().innerText()) === 'alpha/api');
    const shot = await screenshotContent('repositories');
    assert.ok(shot.colours > 20 && shot.inked > 0.02, `the repositories page renders: ${JSON.stringify(shot)}`);
  });

  it('sorts 60 tags by push time, size and name on the server, in pages of 50', async () => {
    await page.goto(`${ui}#/repo/alpha/api`);
    await page.locator('#tags tbody tr').first().waitFor();
    const names = async () => Promise.all((await page.locator('#tags tbody tr').all()).map((row) => row.getAttribute('data-tag')));
    assert.equal((await names())[0], 'v59', 'newest push first');
    assert.equal(await page.locator('[data-range]').innerText(), '1–50 of 60');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.locator('[data-range]', { hasText: '51–60 of 60' }).waitFor();
    assert.deepEqual(await names(), ['v9', 'v8', 'v7', 'v6', 'v5', 'v4', 'v3', 'v2', 'v1', 'v0']);

    await page.click('[data-sort="size"]');
    await page.locator('[data-sort="size"]', { hasText: '▼' }).waitFor();
    const sizes = await page.locator('#tags tbody tr td:nth-child(3)').allInnerTexts();
    const parsed = sizes.map((s) => Number.parseFloat(s) * (s.endsWith('KiB') ? 1024 : 1));
    assert.deepEqual(parsed, [...parsed].sort((a, b) => b - a), 'largest first');
    await page.click('[data-sort="name"]');
    await page.locator('#tags tbody tr[data-tag="v0"]').first().waitFor();
    await until('v0 first', async () => (await page.locator('#tags tbody tr').first().getAttribute('data-tag')) === 'v0');
    assert.deepEqual((await names()).slice(0, 3), ['v0', 'v1', 'v10'], 'by name');
  });

  it('shows a tag\'s digest, size, pusher, layers, history and pull command, and the page renders', async () => {
    await page.goto(`${ui}#/artifact/v3/alpha/api`);
    await until('the tag page', async () => (await page.locator('#artifact').count()) === 1);
    assert.equal(await page.locator('[data-field="digest"]').innerText(), digests.get('alpha/api:v3'));
    assert.equal(await page.locator('[data-field="pull"]').innerText(), `docker pull ${registry.slice('http://'.length)}/alpha/api:v3`);
    assert.match(await page.locator('#artifact').innerText(), /by admin/);
    assert.equal(await page.locator('#layers tbody tr').count(), 1);
    assert.deepEqual(await page.locator('#history li').allInnerTexts(), ['ADD rootfs.tar /', 'RUN make v3']);
    assert.match(await page.locator('#artifact').innerText(), /\/bin\/serve --port 8080/);
    const shot = await screenshotContent('artifact');
    assert.ok(shot.colours > 20 && shot.inked > 0.02, `the tag page renders: ${JSON.stringify(shot)}`);
  });

  it('signs in a registry user, who sees and deletes only what the ACL allows', async () => {
    const platform = ui.slice(0, -'/ui/'.length);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const post = async (route: string, method: string, body: unknown) => {
      const res = await fetch(`${platform}${route}`, { method, headers: admin, body: JSON.stringify(body) });
      assert.ok(res.ok, `${route}: ${res.status} ${await res.text()}`);
    };
    await post('/api/v1/registry/users', 'POST', { kind: 'user', name: 'carol', password: 'carol-password-123', groups: ['team'] });
    await post('/api/v1/registry/acl', 'PUT', { repository: 'beta/**', subject: 'authenticated', actions: [] });
    await post('/api/v1/registry/acl', 'PUT', { repository: 'alpha/web', subject: 'carol', actions: ['pull', 'delete'] });

    const visitor = await browser!.newPage();
    visitor.on('dialog', (dialog) => void dialog.accept());
    try {
      await visitor.goto(ui);
      await visitor.fill('#user', 'carol');
      await visitor.fill('#token', 'wrong');
      await visitor.click('button[type=submit]');
      await visitor.getByText('Wrong user name or password.').waitFor();
      await visitor.fill('#user', 'carol');
      await visitor.fill('#token', 'carol-password-123');
      await visitor.click('button[type=submit]');
      await visitor.locator('#repositories tbody tr').first().waitFor();
      assert.deepEqual(await visitor.locator('#repositories tbody tr td:first-child').allInnerTexts(), ['alpha/api', 'alpha/web'], 'beta/** is closed to her');
      assert.equal(await visitor.locator('#signed-in').innerText(), 'Signed in as carol');

      await visitor.goto(`${ui}#/repo/alpha/api`);
      await visitor.locator('[data-delete-tag="v50"]').click();
      await visitor.getByRole('alert').waitFor();
      assert.match(await visitor.getByRole('alert').innerText(), /carol may not delete in alpha\/api/);
      assert.equal(await visitor.locator('#retention').count(), 0, 'the retention dry run is the admin\'s');

      await visitor.goto(`${ui}#/repo/alpha/web`);
      await visitor.locator('[data-delete-tag="latest"]').click();
      await visitor.locator('[data-range]', { hasText: 'none' }).waitFor();
      const left = (await (await fetch(`${registry}/v2/alpha/web/tags/list`, { headers: basic })).json()) as { tags: string[] | null };
      assert.deepEqual(left.tags ?? [], [], 'her delete went through where the ACL allows it');
    } finally {
      await visitor.close();
    }
    const api = await fetch(`${platform}/api/v1/registry/browse/tags?repository=beta/worker`, { headers: { authorization: `Basic ${Buffer.from('carol:carol-password-123').toString('base64')}` } });
    assert.equal(api.status, 403, 'the API refuses what the page does not show');
  });

  it('deletes a tag and a manifest, and runs a retention dry run that deletes nothing', async () => {
    await page.goto(`${ui}#/repo/alpha/api`);
    await page.locator('[data-delete-tag="v59"]').click();
    await page.locator('[data-range]', { hasText: '1–50 of 59' }).waitFor();
    const tags = (await (await fetch(`${registry}/v2/alpha/api/tags/list?n=100`, { headers: basic })).json()) as { tags: string[] };
    assert.ok(!tags.tags.includes('v59'), 'gone from the registry');

    await page.fill('#keep-last', '5');
    await page.fill('#tag-pattern', 'v.*');
    await page.click('#retention button[type=submit]');
    await page.getByText(/Would delete 54 tag\(s\)/).waitFor();
    assert.equal(await page.locator('#dry-run-result li').count(), 54);
    const after = (await (await fetch(`${registry}/v2/alpha/api/tags/list?n=100`, { headers: basic })).json()) as { tags: string[] };
    assert.equal(after.tags.length, 59, 'a dry run deletes nothing');

    // A manifest, from its page: gone with its tag, by digest too.
    await page.goto(`${ui}#/artifact/v4/alpha/api`);
    await page.locator('#delete-manifest').click();
    await page.locator('[data-range]', { hasText: '1–50 of 58' }).waitFor();
    const gone = await fetch(`${registry}/v2/alpha/api/manifests/${digests.get('alpha/api:v4')}`, { headers: { ...basic, accept: OCI_MANIFEST } });
    assert.equal(gone.status, 404);
  });
});
