// The pipelines shipped in pipelines/ parse, and loadPipelineDirectory reports broken files without
// stopping at them.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadPipelineDirectory, matchesPush, parsePipeline, secretNames, stepOrder } from '../../../src/ci/pipeline/index.ts';
import { REPO } from '../../helpers/processes.ts';

const EXAMPLES = path.join(REPO, 'pipelines');

describe('ci pipeline: shipped examples', () => {
  for (const file of readdirSync(EXAMPLES).filter((f) => /\.ya?ml$/.test(f))) {
    it(`pipelines/${file} parses`, () => {
      const pipeline = parsePipeline(readFileSync(path.join(EXAMPLES, file), 'utf8'), `pipelines/${file}`, { requireRepository: true });
      assert.ok(pipeline.steps.length > 0);
    });
  }

  it('gantry.yml builds Gantry: install, then typecheck and test side by side, docs-only pushes skipped', () => {
    const { pipelines, errors } = loadPipelineDirectory(EXAMPLES);
    assert.deepEqual(errors, []);
    const gantry = pipelines.find((p) => p.name === 'gantry')!;
    assert.equal(gantry.repository, 'gantry/gantry');
    assert.deepEqual(gantry.steps.map((s) => [s.name, s.commands, s.dependsOn]), [
      ['install', ['node --version', 'npm ci'], []],
      ['typecheck', ['npx tsc --noEmit -p .'], ['install']],
      ['test', ['npm test'], ['install']],
    ]);
    assert.ok(gantry.steps.every((s) => s.resources.cpus !== undefined && s.resources.mem !== undefined));
    assert.equal(matchesPush(gantry, { kind: 'branch', name: 'main', changedPaths: ['docs/guide.md', 'README.md'] }).run, false);
    assert.equal(matchesPush(gantry, { kind: 'branch', name: 'main', changedPaths: ['README.md', 'src/main.ts'] }).run, true);
    assert.equal(matchesPush(gantry, { kind: 'tag', name: 'v1.0.0', changedPaths: null }).run, true);
  });

  it('fan-out.yml runs three steps in parallel and notifies on failure', () => {
    const fanOut = loadPipelineDirectory(EXAMPLES).pipelines.find((p) => p.name === 'fan-out')!;
    assert.deepEqual(stepOrder(fanOut), ['prepare', 'lint', 'unit', 'docs', 'summary', 'notify']);
    assert.deepEqual(fanOut.steps.find((s) => s.name === 'notify')!.when.map((c) => c.status), [['failure']]);
  });

  it('release.yml needs its secrets', () => {
    const release = loadPipelineDirectory(EXAMPLES).pipelines.find((p) => p.name === 'release')!;
    assert.deepEqual(secretNames(release), ['npm_token', 'release_webhook']);
  });
});

describe('ci pipeline: loading a directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gantry-pipelines-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  const good = (name: string) => `name: ${name}\nrepository: acme/${name}\nsteps:\n  - name: a\n    commands: [x]\n`;

  it('loads *.yml and *.yaml in name order and reports broken files', () => {
    write('b.yaml', good('b'));
    write('a.yml', good('a'));
    write('notes.txt', 'not a pipeline');
    write('c.yml', 'steps:\n  - name: a\n    commands: [x]\n');
    write('d.yml', 'steps: [\n');
    const { pipelines, errors } = loadPipelineDirectory(dir);
    assert.deepEqual(pipelines.map((p) => [p.name, p.file]), [['a', path.join(dir, 'a.yml')], ['b', path.join(dir, 'b.yaml')]]);
    assert.deepEqual(errors.map((e) => e.file), [path.join(dir, 'c.yml'), path.join(dir, 'd.yml')]);
    assert.equal(errors[0]!.message, `${path.join(dir, 'c.yml')}:1: repository: required in server pipelines: the repository this pipeline builds, as owner/name`);
    assert.match(errors[1]!.message, /d\.yml:2: invalid YAML: /);
  });

  it('refuses a second file with a pipeline name already taken', () => {
    write('a.yml', good('web'));
    write('b.yml', `repository: acme/other\nname: web\nsteps:\n  - name: a\n    commands: [x]\n`);
    const { pipelines, errors } = loadPipelineDirectory(dir);
    assert.deepEqual(pipelines.map((p) => p.file), [path.join(dir, 'a.yml')]);
    assert.deepEqual(errors, [{ file: path.join(dir, 'b.yml'), message: `${path.join(dir, 'b.yml')}:2: name: pipeline "web" is already defined in ${path.join(dir, 'a.yml')}` }]);
  });

  it('a missing directory holds no pipelines', () => {
    assert.deepEqual(loadPipelineDirectory(path.join(dir, 'nope')), { pipelines: [], errors: [] });
  });
});

describe('ci pipeline: the README', () => {
  it('its YAML examples parse', () => {
    const readme = readFileSync(path.join(REPO, 'src/ci/pipeline/README.md'), 'utf8');
    const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(examples.length >= 2);
    for (const yaml of examples) parsePipeline(yaml, 'README.md', { requireRepository: yaml.includes('repository:') });
  });
});
