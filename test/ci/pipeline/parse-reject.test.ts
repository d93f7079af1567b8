// Every kind of problem, reported as `file:line: field: message`, all of them at once.
import assert from 'node:assert/strict';
import { lines, ONE_STEP, problemsOf } from './helpers.ts';

const FILE = '.gantry.yml';
type Row = [problem: string, yaml: string, expected: string[]];

const rows: Row[] = [
  ['invalid YAML, on its own line', lines('steps:', '  - name: a', '    commands: [x', '  - name: b'), [`${FILE}:4: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`]],
  ['a duplicate key', lines('name: a', 'name: b', ...ONE_STEP), [`${FILE}:2: invalid YAML: the same key appears twice in this mapping`]],
  ['two documents in one file', lines(...ONE_STEP, '---', ...ONE_STEP), [`${FILE}:4: invalid YAML: the file holds more than one YAML document (---); one file is one pipeline, put the next one in its own file`]],
  ['tabs', lines('steps:', '\t- name: a'), [`${FILE}:2: invalid YAML: tabs are not allowed as indentation in YAML; indent with spaces`]],
  ['an empty file', '', [`${FILE}:1: the file is empty; a pipeline needs at least "steps"`]],
  ['a step that is not a mapping', lines('steps:', '  - build'), [`${FILE}:2: steps[0]: expected a mapping, got "build"`]],
  ['a list at the top', lines('- name: a'), [`${FILE}:1: expected a mapping of fields (name, on, env, steps, ...), got a list`]],
  ['no steps', lines('name: web'), [`${FILE}:1: steps: required field is missing`]],
  ['empty steps', lines('steps: []'), [`${FILE}:1: steps: must not be empty`]],
  ['steps as a mapping (old Woodpecker style)', lines('steps:', '  build:', '    commands: [x]'), [`${FILE}:2: steps: steps is a list: write each step as "- name: ..."`]],
  ['an unknown field with a did-you-mean', lines(...ONE_STEP, '    depens_on: []'), [`${FILE}:4: steps[0].depens_on: unknown field "depens_on" (did you mean "depends_on"?)`]],
  ['an unknown field without one', lines('colour: red', ...ONE_STEP), [`${FILE}:1: colour: unknown field "colour"`]],
  ['another CI system\'s word', lines(...ONE_STEP, '    environment: {A: b}'), [`${FILE}:4: steps[0].environment: unknown field "environment" (Gantry calls it "env")`]],
  ['top-level when', lines('when:', '  branch: main', ...ONE_STEP), [`${FILE}:1: when: unknown field "when" (pipeline filters are written under on.push (branches, tags, paths))`]],
  ['a wrong type', lines(...ONE_STEP, '    retry: many'), [`${FILE}:4: steps[0].retry: expected a number, got "many"`]],
  ['a fraction where a whole number goes', lines(...ONE_STEP, '    retry: 1.5'), [`${FILE}:4: steps[0].retry: expected a whole number, got 1.5`]],
  ['too many retries', lines(...ONE_STEP, '    retry: 11'), [`${FILE}:4: steps[0].retry: must be at most 10 (got 11)`]],
  ['an empty value', lines(...ONE_STEP, '    image:'), [`${FILE}:4: steps[0].image: expected a string, got nothing`]],
  ['a step without commands', lines('steps:', '  - name: a', '    image: node'), [`${FILE}:2: steps[0]: a step needs "commands" (to run), "build" (an image to build and push) or "deploy" (an image to roll out to an app)`]],
  ['a step with commands and a build', lines('steps:', '  - name: a', '    commands: [x]', '    build: {image: team/web}'), [`${FILE}:4: steps[0].build: a step does one of "commands", "build" or "deploy", not "commands" and "build": make a step of each`]],
  ['a build step with a step image', lines('steps:', '  - name: a', '    image: docker:27', '    build: {image: team/web}'), [`${FILE}:3: steps[0].image: a build step runs in no image: the Docker engine builds from the Dockerfile; leave out "image"`]],
  ['a build from a base with a Dockerfile', lines('steps:', '  - name: a', '    build: {image: team/web, from: team/base:1, files: [{src: dist, dest: /app}], dockerfile: Dockerfile}'), [`${FILE}:3: steps[0].build.dockerfile: a build "from" a base image puts files onto it without a Dockerfile: leave out "dockerfile"`]],
  ['a build from a base without files', lines('steps:', '  - name: a', '    build: {image: team/web, from: team/base:1}'), [`${FILE}:3: steps[0].build: a build "from" a base image needs "files": [{src: dist/, dest: /app}]`]],
  ['files without a base', lines('steps:', '  - name: a', '    build: {image: team/web, files: [{src: dist, dest: /app}]}'), [`${FILE}:3: steps[0].build.files: "files" go with "from" (files onto a base image, no Dockerfile); a Dockerfile says them itself`]],
  ['a deploy of a moving tag', lines('steps:', '  - name: a', '    deploy: {app: /prod/web, image: "team/web:latest"}'), [`${FILE}:3: steps[0].deploy.image: "team/web:latest" can move under a deploy: write \${steps.NAME.image} (what a build step pushed) or an image pinned by digest (repo@sha256:...)`]],
  ['a deploy of an unknown step\'s image', lines('steps:', '  - name: image', '    build: {image: team/web}', '  - name: ship', '    deploy: {app: /prod/web, image: "${steps.imag.image}"}'), [`${FILE}:5: steps[1].deploy.image: no step "imag" (did you mean "image"?)`]],
  ['a deploy of a step that builds nothing', lines('steps:', '  - name: test', '    commands: [make]', '  - name: ship', '    deploy: {app: /prod/web, image: "${steps.test.digest}"}'), [`${FILE}:5: steps[1].deploy.image: step "test" builds no image: \${steps.test.digest} names a step with "build"`]],
  ['a deploy that may start before its build', lines('steps:', '  - name: image', '    build: {image: team/web}', '  - name: ship', '    depends_on: []', '    deploy: {app: /prod/web, image: "${steps.image.image}"}'), [`${FILE}:6: steps[1].deploy.image: step "image" may not have built its image when this step starts: add it to depends_on`]],
  ['a deploy with a step image', lines('steps:', '  - name: ship', '    image: alpine', '    deploy: {app: /prod/web, image: "r/w@sha256:' + '0'.repeat(64) + '"}'), [`${FILE}:3: steps[0].image: a deploy step runs in no image: the server rolls the image out to the app; leave out "image"`]],
  ['a deploy to no app id', lines('steps:', '  - name: ship', '    deploy: {app: "Prod Web", image: "r/w@sha256:' + '0'.repeat(64) + '"}'), [`${FILE}:3: steps[0].deploy.app: an app id is a path of lowercase names, e.g. /prod/web`]],
  ['a build image with a registry host', lines('steps:', '  - name: a', '    build: {image: "registry.example.com/team/web"}'), [`${FILE}:3: steps[0].build.image: "registry.example.com/team/web" names a registry or a tag: builds push to the bundled registry; write the repository alone (team/web) and tags under "tags"`]],
  ['a build image with a tag', lines('steps:', '  - name: a', '    build: {image: "team/web:1"}'), [`${FILE}:3: steps[0].build.image: "team/web:1" names a registry or a tag: builds push to the bundled registry; write the repository alone (team/web) and tags under "tags"`]],
  ['a build context leaving the workspace', lines('steps:', '  - name: a', '    build: {image: team/web, context: ../other}'), [`${FILE}:3: steps[0].build.context: "../other" leaves the workspace; write a path inside it, without ".."`]],
  ['an unknown tag placeholder', lines('steps:', '  - name: a', '    build: {image: team/web, tags: ["${comit}"]}'), [`${FILE}:3: steps[0].build.tags[0]: unknown placeholder "\${comit}" (did you mean "commit"?); use \${commit}, \${short_commit}, \${branch}, \${tag}, \${run}`]],
  ['a tag with a space', lines('steps:', '  - name: a', '    build: {image: team/web, tags: ["v 1"]}'), [`${FILE}:3: steps[0].build.tags[0]: "v 1" is not a tag: letters, digits, _ . - and placeholders, not starting with . or -`]],
  ['Compose\'s word for the Dockerfile', lines('steps:', '  - name: a', '    build: {image: team/web, file: Dockerfile.prod}'), [`${FILE}:3: steps[0].build.file: unknown field "file" (Gantry calls it "dockerfile")`]],
  ['empty commands', lines('steps:', '  - name: a', '    commands: []'), [`${FILE}:3: steps[0].commands: must not be empty`]],
  ['a command YAML read as a mapping', lines('steps:', '  - name: a', '    commands:', '      - echo a: b'), [`${FILE}:4: steps[0].commands[0]: YAML read this command as a mapping because it contains ": "; put the whole command in quotes`]],
  ['a step name with a colon', lines('steps:', '  - name: "a:b"', '    commands: [x]'), [`${FILE}:2: steps[0].name: names use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 100 characters`]],
  ['duplicate step names', lines(...ONE_STEP, '  - name: build', '    commands: [y]'), [`${FILE}:4: steps[1].name: duplicate step name "build" (also steps[0])`]],
  ['depends_on an unknown step', lines('steps:', '  - name: test', '    commands: [x]', '  - name: deploy', '    commands: [x]', '    depends_on: [tset]'), [`${FILE}:6: steps[1].depends_on: unknown step "tset" (did you mean "test"?)`]],
  ['depends_on itself', lines('steps:', '  - name: a', '    commands: [x]', '    depends_on: [a]'), [`${FILE}:4: steps[0].depends_on: a step cannot depend on itself ("a")`]],
  ['a cycle through the implicit previous step', lines('steps:', '  - name: a', '    depends_on: [b]', '    commands: [x]', '  - name: b', '    commands: [x]'), [`${FILE}:3: steps[0].depends_on: dependency cycle: a → b → a`]],
  ['a three-step cycle', lines('steps:', '  - name: a', '    commands: [x]', '    depends_on: [c]', '  - name: b', '    commands: [x]', '    depends_on: [a]', '  - name: c', '    commands: [x]', '    depends_on: [b]'), [`${FILE}:4: steps[0].depends_on: dependency cycle: a → c → b → a`]],
  ['a duration without a unit', lines('timeout: 10', ...ONE_STEP), [`${FILE}:1: timeout: 10 has no unit; write e.g. "10m" or "10s"`]],
  ['a duration that is not one', lines(...ONE_STEP, '    timeout: ten minutes'), [`${FILE}:4: steps[0].timeout: "ten minutes" is not a duration; write e.g. "90s", "10m" or "1h30m"`]],
  ['a zero duration', lines(...ONE_STEP, '    timeout: 0s'), [`${FILE}:4: steps[0].timeout: must be longer than 0`]],
  ['a glob that does not close', lines('on:', '  push:', '    branches: ["release/[0-9"]', ...ONE_STEP), [`${FILE}:3: on.push.branches[0]: "release/[0-9" is not a valid glob: Missing closing: "]" - use "\\\\]" to match literal characters`]],
  ['a negated glob', lines('on:', '  push:', '    paths: ["!docs/**"]', ...ONE_STEP), [`${FILE}:3: on.push.paths[0]: "!docs/**": negated globs are not supported; list it under exclude instead`]],
  ['an absolute path glob', lines('on:', '  push:', '    paths:', '      include: /src/**', ...ONE_STEP), [`${FILE}:4: on.push.paths.include: "/src/**": paths are relative to the repository root; write "src/**"`]],
  ['a branch written as a ref', lines('on:', '  push:', '    branches: refs/heads/main', ...ONE_STEP), [`${FILE}:3: on.push.branches: "refs/heads/main": write the branch name without "refs/heads/" (e.g. "main")`]],
  ['an unknown filter key', lines('on:', '  push:', '    branches:', '      only: [main]', ...ONE_STEP), [`${FILE}:4: on.push.branches.only: unknown field "only"`]],
  ['an unknown event', lines(...ONE_STEP, '    when:', '      event: merge_request'), [`${FILE}:5: steps[0].when.event: must be one of push, tag, pull_request, manual (got "merge_request")`]],
  ['a misspelled status', lines(...ONE_STEP, '    when: {status: [failur]}'), [`${FILE}:4: steps[0].when.status[0]: must be one of success, failure (got "failur") (did you mean "failure"?)`]],
  ['failure other than ignore or fail', lines(...ONE_STEP, '    failure: continue'), [`${FILE}:4: steps[0].failure: must be one of fail, ignore (got "continue")`]],
  ['resources out of range', lines(...ONE_STEP, '    resources:', '      cpus: 0', '      mem: 2G'), [`${FILE}:5: steps[0].resources.cpus: must be more than 0 (got 0)`, `${FILE}:6: steps[0].resources.mem: expected a number of MiB (e.g. 2048), got "2G"`]],
  ['a malformed constraint', lines(...ONE_STEP, '    constraints: [hostname, [rack]]'), [
    `${FILE}:4: steps[0].constraints[0]: "hostname" is not a constraint; write field:OPERATOR[:value], e.g. "hostname:UNIQUE"`,
    `${FILE}:4: steps[0].constraints[1]: a constraint list is [field, OPERATOR] or [field, OPERATOR, value] (got 1 items)`,
  ]],
  ['a bad environment variable name', lines('env:', '  1ST: x', ...ONE_STEP), [`${FILE}:2: env["1ST"]: "1ST" is not a valid environment variable name (letters, digits and _, not starting with a digit)`]],
  ['an env value that is a list', lines('env:', '  A: [x]', ...ONE_STEP), [`${FILE}:2: env.A: expected a string or {from_secret: NAME}, got a list`]],
  ['from_secret misspelled', lines('secrets:', '  TOKEN: {from_secrets: tok}', ...ONE_STEP), [`${FILE}:2: secrets.TOKEN.from_secret: required field is missing`, `${FILE}:2: secrets.TOKEN.from_secrets: unknown field "from_secrets" (did you mean "from_secret"?)`]],
  ['a variable both in env and secrets', lines('env:', '  TOKEN: x', 'secrets:', '  TOKEN: {from_secret: tok}', ...ONE_STEP), [`${FILE}:4: secrets.TOKEN: "TOKEN" is also set in env; give each variable one source`]],
  ['an unknown group placeholder', lines('concurrency:', '  group: ci-${brnch}', ...ONE_STEP), [`${FILE}:2: concurrency.group: unknown placeholder "\${brnch}" (did you mean "branch"?); use \${branch}, \${pipeline} or \${repository}`]],
  ['a zero concurrency limit', lines('concurrency:', '  limit: 0', ...ONE_STEP), [`${FILE}:2: concurrency.limit: must be at least 1 (got 0)`]],
  ['repository in a .gantry.yml', lines('repository: acme/web', ...ONE_STEP), [`${FILE}:1: repository: only server pipelines name a repository; this file belongs to the repository that holds it`]],
  ['user in a .gantry.yml', lines('user: root', ...ONE_STEP), [`${FILE}:1: user: only server pipelines name a user to run as; a .gantry.yml runs as the agents' default user`]],
];

describe('ci pipeline: rejected files', () => {
  for (const [problem, yaml, expected] of rows) {
    it(problem, () => assert.deepEqual(problemsOf(yaml), expected));
  }

  it('server pipelines must name their repository, as owner/name', () => {
    assert.deepEqual(problemsOf(lines(...ONE_STEP), 'pipelines/web.yml', { requireRepository: true }), [
      'pipelines/web.yml:1: repository: required in server pipelines: the repository this pipeline builds, as owner/name',
    ]);
    assert.deepEqual(problemsOf(lines('repository: web', ...ONE_STEP), 'pipelines/web.yml', { requireRepository: true }), [
      'pipelines/web.yml:1: repository: write the repository as owner/name, e.g. gantry/gantry',
    ]);
    assert.deepEqual(problemsOf(lines('repository: acme/web', 'user: not ok', ...ONE_STEP), 'pipelines/web.yml', { requireRepository: true }), [
      'pipelines/web.yml:2: user: a user name is letters, digits, . _ - (at most 32), starting with a letter or _',
    ]);
  });

  it('a file name that is no pipeline name asks for name:', () => {
    assert.deepEqual(problemsOf(lines(...ONE_STEP), 'my pipeline.yml'), [
      'my pipeline.yml:1: the file name "my pipeline" is not a valid pipeline name; set "name:" (letters, digits, ".", "_", "-")',
    ]);
  });

  it('reports every problem at once, in line order', () => {
    const yaml = lines(
      'name: web', //                      1
      'repository: acme/web', //           2
      'on:', //                            3
      '  push:', //                        4
      '    branchs: [main]', //            5
      'steps:', //                         6
      '  - name: build', //                7
      '    commands: [make]', //           8
      '    timeout: 5', //                 9
      '  - name: test', //                 10
      '    commands: [make test]', //      11
      '    depends_on: [biuld]', //        12
      '  - name: test', //                 13
      '    commands: [x]', //              14
    );
    assert.deepEqual(problemsOf(yaml, 'pipelines/web.yml', { requireRepository: true }), [
      'pipelines/web.yml:5: on.push.branchs: unknown field "branchs" (did you mean "branches"?)',
      'pipelines/web.yml:9: steps[0].timeout: 5 has no unit; write e.g. "5m" or "5s"',
      'pipelines/web.yml:12: steps[1].depends_on: unknown step "biuld" (did you mean "build"?)',
      'pipelines/web.yml:13: steps[2].name: duplicate step name "test" (also steps[1])',
    ]);
  });

  it('refuses a file whose aliases expand without bound ("billion laughs")', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 9; level++) {
      const [name, previous] = [String.fromCharCode(97 + level), String.fromCharCode(96 + level)];
      rows.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    assert.deepEqual(problemsOf(lines(...rows)), [`${FILE}:1: invalid YAML: Excessive alias count indicates a resource exhaustion attack`]);
  });

  it('finds the line of a field that comes from a merge key', () => {
    const yaml = lines('x-base: &base', '  retry: lots', 'steps:', '  - name: a', '    <<: *base', '    commands: [x]');
    assert.deepEqual(problemsOf(yaml), [`${FILE}:2: steps[0].retry: expected a number, got "lots"`]);
  });
});
