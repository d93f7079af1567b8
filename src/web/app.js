// The registry's web frontend: plain JavaScript modules, no build. Hash routes:
//   #/                          repositories (search, sort, pages)
//   #/repo/NAME                 a repository's tags (sort by push time, size or name; pages), retention dry run
//   #/artifact/REFERENCE/NAME   one tag or manifest: digest, size, times, who pushed, layers, config, history
// Sign in with the admin token, or as a registry user (name and password: the registry's ACL decides
// what is listed and what may be deleted). The registry views (/api/v1/registry/browse/...) take either;
// the storage gauges and the retention dry run are the admin's (admin API). Credentials live in session
// storage. Everything shown is set as text, never as HTML.

const main = document.getElementById('main');
const gauges = document.getElementById('gauges');
const signout = document.getElementById('signout');
const PAGE = 50;

const token = () => sessionStorage.getItem('gantryToken');
const user = () => sessionStorage.getItem('gantryUser') || '';
const isAdmin = () => sessionStorage.getItem('gantryAdmin') === 'yes';
const authorization = () => (user() ? `Basic ${btoa(`${user()}:${token()}`)}` : `Bearer ${token()}`);

function forget() {
  for (const key of ['gantryToken', 'gantryUser', 'gantryAdmin']) sessionStorage.removeItem(key);
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { authorization: authorization(), ...(options.body ? { 'content-type': 'application/json' } : {}) } });
  if (response.status === 401) {
    forget();
    render();
    throw new Error('signed out');
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.message || body.errors?.[0]?.message || `${response.status} ${response.statusText}`);
  }
  return response.status === 204 ? null : response.json();
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

const bytes = (n) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Math.round(value * 10) / 10} ${units[unit]}`;
};
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const repoLink = (name) => `#/repo/${name}`;
const artifactLink = (name, reference) => `#/artifact/${encodeURIComponent(reference)}/${name}`;

function showError(err) {
  if (err.message === 'signed out') return;
  main.replaceChildren(el('p', { class: 'error', role: 'alert' }, err.message));
}

// ---- sign in, gauges ---------------------------------------------------------------------------

function renderSignIn(message) {
  gauges.replaceChildren();
  signout.hidden = true;
  const name = el('input', { type: 'text', id: 'user', placeholder: 'registry user (empty: admin)', autocomplete: 'username', size: 30 });
  const input = el('input', { type: 'password', id: 'token', placeholder: 'admin token or password', autocomplete: 'current-password', size: 40 });
  const form = el('form', { class: 'signin card' }, el('h1', {}, 'Sign in'), el('p', { class: 'muted' }, 'The admin token the server printed at its first start, or a registry user\'s name and password.'), el('p', {}, name), el('p', {}, input), el('button', { class: 'primary', type: 'submit' }, 'Sign in'), message ? el('p', { class: 'error' }, message) : null);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    sessionStorage.setItem('gantryToken', input.value);
    sessionStorage.setItem('gantryUser', name.value.trim());
    const who = await fetch('/api/v1/registry/browse/whoami', { headers: { authorization: authorization() } }).then((r) => (r.ok ? r.json() : null), () => null);
    if (!who) {
      forget();
      return renderSignIn(name.value.trim() ? 'Wrong user name or password.' : 'That token is not valid.');
    }
    sessionStorage.setItem('gantryAdmin', who.kind === 'admin' ? 'yes' : 'no');
    render();
  });
  main.replaceChildren(form);
  input.focus();
}

async function renderGauges() {
  if (!isAdmin()) return gauges.replaceChildren(el('span', { class: 'muted', id: 'signed-in' }, `Signed in as ${user()}`));
  const usage = await api('/api/v1/registry/usage');
  const gauge = (label, used, free, format) => {
    const share = used + free > 0 ? used / (used + free) : 0;
    const fill = el('div');
    fill.style.width = `${Math.max(1, Math.round(share * 100))}%`;
    return el('div', { class: 'gauge', 'data-gauge': label }, el('div', { class: 'label' }, `${label}: ${format(used)} used, ${format(free)} free`), el('div', { class: 'bar' }, fill));
  };
  gauges.replaceChildren(gauge('Storage', usage.bytesUsed, usage.freeBytes, bytes), gauge('Inodes', usage.inodesUsed, usage.freeInodes, (n) => n.toLocaleString()));
}

// ---- pages -------------------------------------------------------------------------------------

function pager(total, offset, go) {
  const last = Math.min(total, offset + PAGE);
  return el(
    'div',
    { class: 'pager' },
    el('button', { disabled: offset === 0, onclick: () => go(Math.max(0, offset - PAGE)) }, 'Previous'),
    el('span', { class: 'muted', 'data-range': true }, total === 0 ? 'none' : `${offset + 1}–${last} of ${total.toLocaleString()}`),
    el('button', { disabled: last >= total, onclick: () => go(offset + PAGE) }, 'Next'),
  );
}

async function renderRepositories(state = { q: '', sort: 'name', order: 'asc', offset: 0 }) {
  const query = new URLSearchParams({ sort: state.sort, order: state.order, offset: String(state.offset), limit: String(PAGE), ...(state.q ? { q: state.q } : {}) });
  const page = await api(`/api/v1/registry/browse/repositories?${query}`);
  const search = el('input', { type: 'search', id: 'search', placeholder: 'Search repositories', value: state.q });
  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => renderRepositories({ ...state, q: search.value, offset: 0 }).catch(showError), 250);
  });
  const sort = el('select', { id: 'sort', onchange: (e) => renderRepositories({ ...state, sort: e.target.value, order: e.target.value === 'name' ? 'asc' : 'desc', offset: 0 }).catch(showError) },
    ...[['name', 'Name'], ['size', 'Size'], ['tags', 'Tags'], ['pushed', 'Last push']].map(([value, label]) => el('option', { value, selected: value === state.sort }, label)));
  const quota = (r) => (r.quotaBytes === null ? '—' : `${Math.round((100 * r.bytes) / Math.max(1, r.quotaBytes))}% of ${bytes(r.quotaBytes)}`);
  const rows = page.items.map((r) => el('tr', {}, el('td', {}, el('a', { href: repoLink(r.repository) }, r.repository)), el('td', { class: 'num' }, r.tags), el('td', { class: 'num' }, bytes(r.bytes)), el('td', { class: 'num', 'data-quota': r.repository }, quota(r)), el('td', {}, when(r.lastPushedAt))));
  main.replaceChildren(
    el('h1', {}, 'Repositories'),
    el('div', { class: 'toolbar' }, search, el('label', {}, 'Sort by ', sort)),
    el('table', { id: 'repositories' }, el('thead', {}, el('tr', {}, el('th', {}, 'Repository'), el('th', { class: 'num' }, 'Tags'), el('th', { class: 'num' }, 'Size'), el('th', { class: 'num' }, 'Quota'), el('th', {}, 'Last push'))), el('tbody', {}, rows)),
    pager(page.total, state.offset, (offset) => renderRepositories({ ...state, offset }).catch(showError)),
  );
  if (state.q) {
    search.focus();
    search.setSelectionRange(state.q.length, state.q.length);
  }
}

async function renderRepository(name, state = { sort: 'pushed', order: 'desc', offset: 0 }) {
  const query = new URLSearchParams({ repository: name, sort: state.sort, order: state.order, offset: String(state.offset), limit: String(PAGE) });
  const page = await api(`/api/v1/registry/browse/tags?${query}`);
  const header = (key, label, numeric) => {
    const arrow = state.sort === key ? (state.order === 'asc' ? ' ▲' : ' ▼') : '';
    const order = state.sort === key ? (state.order === 'asc' ? 'desc' : 'asc') : key === 'name' ? 'asc' : 'desc';
    return el('th', { class: numeric ? 'num' : null }, el('button', { 'data-sort': key, onclick: () => renderRepository(name, { sort: key, order, offset: 0 }).catch(showError) }, label + arrow));
  };
  const remove = (tag) =>
    el('button', { class: 'danger', 'data-delete-tag': tag, onclick: async () => {
      if (!confirm(`Delete tag ${tag} of ${name}? Its space is freed at the next garbage collection.`)) return;
      try {
        await api(`/api/v1/registry/browse/tag?${new URLSearchParams({ repository: name, tag })}`, { method: 'DELETE' });
      } catch (err) {
        return showError(err);
      }
      renderRepository(name, state).catch(showError);
      renderGauges().catch(() => undefined);
    } }, 'Delete');
  const rows = page.items.map((t) => el('tr', { 'data-tag': t.name }, el('td', {}, el('a', { href: artifactLink(name, t.name) }, t.name)), el('td', { class: 'mono' }, t.digest.slice(0, 19)), el('td', { class: 'num' }, bytes(t.size)), el('td', {}, when(t.pushedAt)), el('td', {}, t.pushedBy ?? '—'), el('td', {}, when(t.lastPulledAt)), el('td', {}, remove(t.name))));
  main.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← Repositories')),
    el('h1', {}, name),
    el('table', { id: 'tags' }, el('thead', {}, el('tr', {}, header('name', 'Tag'), el('th', {}, 'Digest'), header('size', 'Size', true), header('pushed', 'Pushed'), el('th', {}, 'By'), el('th', {}, 'Last pulled'), el('th', {}, ''))), el('tbody', {}, rows)),
    pager(page.total, state.offset, (offset) => renderRepository(name, { ...state, offset }).catch(showError)),
    isAdmin() ? retentionForm(name) : null,
  );
}

function retentionForm(name) {
  const keepLast = el('input', { type: 'number', id: 'keep-last', min: 0, value: 10, size: 4 });
  const pattern = el('input', { type: 'text', id: 'tag-pattern', placeholder: 'tag pattern, e.g. v.*' });
  const result = el('div', { id: 'dry-run-result' });
  const form = el('form', { class: 'card', id: 'retention' }, el('h2', {}, 'Retention dry run'), el('div', { class: 'toolbar' }, el('label', {}, 'Keep the last ', keepLast, ' pushed tags'), pattern, el('button', { class: 'primary', type: 'submit' }, 'Dry run')), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    result.replaceChildren(el('p', { class: 'muted' }, 'Running…'));
    try {
      const run = await api('/api/v1/registry/prune', { method: 'POST', body: JSON.stringify({ repo: name, keepLast: Number(keepLast.value), ...(pattern.value ? { tag: pattern.value } : {}), dryRun: true }) });
      const tags = run.deleted.flatMap((d) => d.tags);
      result.replaceChildren(
        el('p', {}, `Would delete ${tags.length} tag(s) (${run.deleted.length} image(s)) and free ${bytes(run.bytesFreed)}, ${run.inodesFreed} inode(s). Nothing was deleted.`),
        el('ul', {}, tags.map((t) => el('li', { class: 'mono' }, t))),
      );
    } catch (err) {
      result.replaceChildren(el('p', { class: 'error' }, err.message));
    }
  });
  return form;
}

async function renderArtifact(name, reference) {
  const a = await api(`/api/v1/registry/browse/artifact?${new URLSearchParams({ repository: name, reference })}`);
  const copy = el('button', { onclick: () => navigator.clipboard?.writeText(a.pullCommand) }, 'Copy');
  const config = a.config ?? {};
  const inner = config.config ?? {};
  main.replaceChildren(
    el('p', {}, el('a', { href: repoLink(name) }, `← ${name}`)),
    el('h1', {}, `${name}${reference.includes(':') ? '@' : ':'}${reference}`),
    el('dl', { id: 'artifact' },
      el('dt', {}, 'Digest'), el('dd', { class: 'mono', 'data-field': 'digest' }, a.digest),
      el('dt', {}, 'Media type'), el('dd', { class: 'mono' }, a.mediaType),
      el('dt', {}, 'Size'), el('dd', { 'data-field': 'size' }, `${bytes(a.size)} (${a.size.toLocaleString()} bytes)`),
      el('dt', {}, 'Tags'), el('dd', {}, a.tags.join(', ') || '—'),
      el('dt', {}, 'Created'), el('dd', {}, when(config.created)),
      el('dt', {}, 'Pushed'), el('dd', {}, `${when(a.pushedAt)} by ${a.pushedBy ?? 'unknown'}`),
      el('dt', {}, 'Last pulled'), el('dd', {}, when(a.lastPulledAt)),
      el('dt', {}, 'Platform'), el('dd', {}, config.os ? `${config.os}/${config.architecture ?? '?'}` : '—'),
      el('dt', {}, 'Command'), el('dd', { class: 'mono' }, [...(inner.Entrypoint ?? []), ...(inner.Cmd ?? [])].join(' ') || '—'),
      el('dt', {}, 'Pull'), el('dd', {}, el('code', { 'data-field': 'pull' }, a.pullCommand), ' ', copy),
    ),
    el('h2', {}, `Layers (${a.layers.length})`),
    el('table', { id: 'layers' }, el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'Digest'), el('th', { class: 'num' }, 'Size'))), el('tbody', {}, a.layers.map((l, i) => el('tr', {}, el('td', {}, i + 1), el('td', { class: 'mono' }, l.digest), el('td', { class: 'num' }, bytes(l.size)))))),
    el('h2', {}, 'History'),
    el('ol', { id: 'history' }, a.history.map((h) => el('li', { class: 'mono' }, `${h.created_by ?? ''}${h.empty_layer ? ' (no layer)' : ''}`))),
    el('h2', {}, 'Config'),
    el('pre', { class: 'card mono', id: 'config' }, JSON.stringify(a.config, null, 2)),
    el('p', {}, el('button', { class: 'danger', id: 'delete-manifest', onclick: async () => {
      if (!confirm(`Delete ${a.digest} and its tags (${a.tags.join(', ') || 'none'})?`)) return;
      await api(`/api/v1/registry/browse/manifest?${new URLSearchParams({ repository: name, digest: a.digest })}`, { method: 'DELETE' }).catch(showError);
      location.hash = repoLink(name);
    } }, 'Delete this manifest and its tags')),
  );
}

// ---- routing -----------------------------------------------------------------------------------

function render() {
  if (!token()) return renderSignIn();
  signout.hidden = false;
  renderGauges().catch(() => undefined);
  const hash = decodeURIComponent(location.hash.slice(1) || '/');
  const artifact = /^\/artifact\/([^/]+)\/(.+)$/.exec(hash);
  const repository = /^\/repo\/(.+)$/.exec(hash);
  const page = artifact ? renderArtifact(artifact[2], artifact[1]) : repository ? renderRepository(repository[1]) : renderRepositories();
  page.catch(showError);
}

signout.addEventListener('click', () => {
  forget();
  location.hash = '#/';
  render();
});
window.addEventListener('hashchange', render);
render();
