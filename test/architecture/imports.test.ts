// Keeps the dependency rules of ARCHITECTURE.md true: cluster/ knows nothing of batch, CI or the
// registry; the registry never imports cluster/; batch, CI, the API server and the CLI use only
// cluster/index.ts; the store imports nothing of cluster/; nothing below server/ and cli/ imports them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/processes.ts';

const SRC = path.join(REPO, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1]!);
  return found.map((spec) => path.relative(SRC, path.resolve(path.dirname(file), spec)));
}

const top = (rel: string): string => rel.split(path.sep)[0]!;

const DOMAINS = ['batch', 'ci', 'apps', 'registry', 'discovery'];

describe('architecture: import rules', () => {
  const files = sourceFiles(SRC).map((f) => ({ rel: path.relative(SRC, f), imports: importsOf(f) }));

  it('finds the sources', () => {
    assert.ok(files.length > 20);
  });

  const rules: Array<[string, (from: string) => boolean, (target: string, from: string) => boolean]> = [
    ['cluster/ imports nothing of batch, ci, apps, registry, discovery, server or cli', (f) => top(f) === 'cluster', (t) => ['batch', 'ci', 'apps', 'registry', 'discovery', 'server', 'cli'].includes(top(t))],
    ['registry/ never imports cluster/', (f) => top(f) === 'registry', (t) => top(t) === 'cluster'],
    ['batch/, ci/ and apps/ use only cluster/index.ts', (f) => ['batch', 'ci', 'apps'].includes(top(f)), (t) => top(t) === 'cluster' && t !== path.join('cluster', 'index.ts')],
    // What two domains both need (validation kits, graphs) lives in shared/; a new cross-domain need is an interface wired in main.ts.
    ['batch/, ci/, apps/, registry/ and discovery/ import none of each other', (f) => DOMAINS.includes(top(f)), (t, f) => DOMAINS.includes(top(t)) && top(t) !== top(f)],
    ['store, config and shared import no domain folder', (f) => ['store', 'config', 'shared'].includes(top(f)), (t) => ['batch', 'ci', 'apps', 'registry', 'discovery', 'server', 'cli', 'main.ts', 'agent-main.ts'].includes(top(t))],
    // It learns of instances through apps' endpoints (an interface wired in main.ts), never from the pool.
    ['discovery/ imports nothing of cluster/', (f) => top(f) === 'discovery', (t) => top(t) === 'cluster'],
    ['only cli/ and main.ts import server/', (f) => !['cli', 'server', 'main.ts'].includes(top(f)), (t) => top(t) === 'server'],
    ['store/ imports nothing of cluster/', (f) => top(f) === 'store', (t) => top(t) === 'cluster'],
    // The composition roots (main.ts, agent-main.ts) build the pool's parts; the API and the CLI drive them through its surface.
    ['server/ and cli/ use only cluster/index.ts', (f) => ['server', 'cli'].includes(top(f)), (t) => top(t) === 'cluster' && t !== path.join('cluster', 'index.ts')],
  ];
  for (const [rule, appliesTo, forbidden] of rules) {
    it(rule, () => {
      const violations = files.filter((f) => appliesTo(f.rel)).flatMap((f) => f.imports.filter((t) => forbidden(t, f.rel)).map((t) => `${f.rel} → ${t}`));
      assert.deepEqual(violations, []);
    });
  }
});
