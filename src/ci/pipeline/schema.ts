// The shape of a pipeline file, field by field, with the words each problem is reported in. Rules that
// look across fields (unique step names, depends_on, cycles) live in cross-checks.ts.
import { z } from 'zod';
import { USER_NAME, USER_NAME_RULE } from '../../cluster/index.ts';
import { didYouMean } from '../../shared/validation/did-you-mean.ts';
import { durationProblem } from './durations.ts';
import { globProblem } from './globs.ts';
import { byShape, checkedBy, describeValue, fields, oneOrMany } from '../../shared/validation/schema-kit.ts';
import { STEP_EVENTS, STEP_STATUSES } from './types.ts';

/** Step and pipeline names end up in task owners (`ci:RUN:STEP`) and CLI arguments: no `:` nor spaces. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const NAME_RULE = 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 100';
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const GROUP_PLACEHOLDERS = ['branch', 'pipeline', 'repository'] as const;

const name = z.string().regex(NAME, `names use ${NAME_RULE} characters`);
const duration = byShape({ string: z.string().superRefine(checkedBy(durationProblem)) }, (value) =>
  typeof value === 'number' ? `${value} has no unit; write e.g. "${value}m" or "${value}s"` : `expected a duration like "10m", got ${describeValue(value)}`,
);

function globFilter(kind: 'branch' | 'tag' | 'path') {
  const glob = z.string().superRefine(checkedBy((text: string) => globProblem(text, kind)));
  const globs = oneOrMany(glob, 'a glob or a list of globs');
  return byShape(
    { string: glob, array: z.array(glob), object: fields({ include: globs.optional(), exclude: globs.optional() }) },
    'a glob, a list of globs or {include: [...], exclude: [...]}',
  );
}

/** mem and disk are numbers of MiB, as in the task API; `2G` gets a pointed hint. */
function mebibytes(amount: z.ZodNumber) {
  return byShape({ number: amount }, (value) => `expected a number of MiB (e.g. 2048), got ${describeValue(value)}`);
}

const fromSecret = fields({ from_secret: z.string().regex(SECRET_NAME, 'secret names use letters, digits, ".", "_" and "-"') });

function keysMatch(pattern: RegExp, rule: string) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx<Record<string, unknown>>): void => {
    for (const key of Object.keys(value)) {
      if (!pattern.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not a valid ${rule}`, params: { atKey: true } });
    }
  };
}

const ENV_KEY_RULE = 'environment variable name (letters, digits and _, not starting with a digit)';
const envValue = byShape(
  { string: z.string(), number: z.number(), boolean: z.boolean(), object: fromSecret },
  'a string or {from_secret: NAME}',
);
const env = z.record(z.string(), envValue).superRefine(keysMatch(ENV_NAME, ENV_KEY_RULE));
const secrets = z.record(z.string(), fromSecret).superRefine(keysMatch(ENV_NAME, ENV_KEY_RULE));

const command = byShape({ string: z.string().min(1), number: z.number(), boolean: z.boolean() }, (value) =>
  describeValue(value) === 'a mapping'
    ? 'YAML read this command as a mapping because it contains ": "; put the whole command in quotes'
    : `expected a command (a string), got ${describeValue(value)}`,
);

const condition = fields({
  branch: globFilter('branch').optional(),
  event: oneOrMany(z.enum(STEP_EVENTS), `${STEP_EVENTS.join(', ')} or a list of them`).optional(),
  path: globFilter('path').optional(),
  status: oneOrMany(z.enum(STEP_STATUSES), 'success, failure or a list of them').optional(),
}, { ref: 'not supported; use branch, event, path or status', evaluate: 'not supported; use branch, event, path or status' });

const constraintText = z.string().superRefine(
  checkedBy((text: string) => (/^[^:\s]+:[A-Za-z_]+(:.*)?$/.test(text) ? null : `"${text}" is not a constraint; write field:OPERATOR[:value], e.g. "hostname:UNIQUE"`)),
);
const constraintArray = z.array(z.string()).superRefine(
  checkedBy((parts: string[]) => (parts.length === 2 || parts.length === 3 ? null : `a constraint list is [field, OPERATOR] or [field, OPERATOR, value] (got ${parts.length} items)`)),
);
const constraint = byShape(
  { string: constraintText, array: constraintArray },
  'a constraint: "field:OPERATOR[:value]" or [field, OPERATOR, value]',
);

/** `${...}` words a build's tags may use (filled in per run: see step-tasks.ts buildTags). */
export const TAG_PLACEHOLDERS = ['commit', 'short_commit', 'branch', 'tag', 'run'] as const;

const tagTemplate = z.string().min(1).max(128).superRefine(
  checkedBy((tag: string) => {
    for (const [, word] of tag.matchAll(/\$\{([^}]*)\}/g)) {
      if (!(TAG_PLACEHOLDERS as readonly string[]).includes(word!)) return `unknown placeholder "\${${word}}"${didYouMean(word!, TAG_PLACEHOLDERS)}; use ${TAG_PLACEHOLDERS.map((w) => `\${${w}}`).join(', ')}`;
    }
    const literal = tag.replace(/\$\{[^}]*\}/g, 'x');
    return /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(literal) ? null : `"${tag}" is not a tag: letters, digits, _ . - and placeholders, not starting with . or -`;
  }),
);

const workspacePath = z.string().min(1).superRefine(
  checkedBy((text: string) => (text.startsWith('/') || text.split('/').includes('..') ? `"${text}" leaves the workspace; write a path inside it, without ".."` : null)),
);

const imageBuild = fields(
  {
    context: workspacePath.optional(),
    dockerfile: workspacePath.optional(),
    image: z.string().superRefine(
      checkedBy((text: string) => {
        // Docker reads a first component with a "." or ":" (or localhost) as a registry's host.
        const first = text.split('/')[0]!;
        if (text.includes(':') || (text.includes('/') && (first.includes('.') || first === 'localhost'))) {
          return `"${text}" names a registry or a tag: builds push to the bundled registry; write the repository alone (team/web) and tags under "tags"`;
        }
        return /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(text) ? null : `"${text}" is not a repository name: lowercase path components such as team/web`;
      }),
    ),
    tags: oneOrMany(tagTemplate, 'a tag or a list of tags').optional(),
    args: z.record(z.string(), byShape({ string: z.string(), number: z.number(), boolean: z.boolean() }, 'a string')).superRefine(keysMatch(ENV_NAME, 'build argument name')).optional(),
    target: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a stage name is letters, digits, _ . -').optional(),
    // Without a Docker engine (the daemonless builder): files onto a base image of the bundled registry.
    from: z.string().min(1).regex(/^[^\s]+$/, 'an image reference has no whitespace').optional(),
    files: z.array(fields({ src: workspacePath, dest: z.string().regex(/^\//, 'a path in the image is absolute, e.g. /app') })).min(1).optional(),
    entrypoint: z.array(z.string()).optional(),
    cmd: z.array(z.string()).optional(),
    env: z.record(z.string(), byShape({ string: z.string(), number: z.number(), boolean: z.boolean() }, 'a string')).superRefine(keysMatch(ENV_NAME, ENV_KEY_RULE)).optional(),
    workdir: z.string().regex(/^\//, 'the working directory is absolute, e.g. /app').optional(),
  },
  { file: 'Gantry calls it "dockerfile"', tag: 'Gantry calls it "tags"', build_args: 'Gantry calls it "args"', repository: 'Gantry calls it "image"' },
);

/** What a deploy step's image may say: a build step's pushed image (or its digest), or an image pinned by digest. */
export const STEP_IMAGE_PLACEHOLDER = /^\$\{steps\.([A-Za-z0-9][A-Za-z0-9_.-]*)\.(image|digest)\}$/;

const imageDeploy = fields(
  {
    app: z.string().regex(/^\/?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?)*$/, 'an app id is a path of lowercase names, e.g. /prod/web'),
    image: z.string().superRefine(
      checkedBy((text: string) =>
        STEP_IMAGE_PLACEHOLDER.test(text) || /@sha256:[0-9a-f]{64}$/.test(text)
          ? null
          : `"${text}" can move under a deploy: write \${steps.NAME.image} (what a build step pushed) or an image pinned by digest (repo@sha256:...)`,
      ),
    ),
  },
  { tag: 'a deploy rolls out an image pinned by digest: write image: ${steps.NAME.image}' },
);

const step = fields(
  {
    name,
    commands: byShape({ string: z.string().min(1), array: z.array(command).min(1) }, 'a list of commands').optional(),
    build: imageBuild.optional(),
    deploy: imageDeploy.optional(),
    approval: z.boolean().optional(),
    image: z.string().min(1).optional(),
    env: env.optional(),
    when: byShape({ object: condition, array: z.array(condition) }, 'a mapping (branch, event, path, status) or a list of them').optional(),
    depends_on: byShape({ string: z.string(), array: z.array(z.string()) }, 'a list of step names').optional(),
    timeout: duration.optional(),
    retry: z.number().int().min(0).max(10).optional(),
    failure: z.enum(['fail', 'ignore']).optional(),
    resources: fields({ cpus: z.number().positive().max(4096).optional(), mem: mebibytes(z.number().positive()).optional(), disk: mebibytes(z.number().min(0)).optional() }).optional(),
    constraints: z.array(constraint).optional(),
  },
  {
    environment: 'Gantry calls it "env"',
    script: 'Gantry calls it "commands"',
    secrets: 'in a step, write env: {NAME: {from_secret: SECRET}}',
    needs: 'Gantry calls it "depends_on"',
  },
);

const groupPlaceholders = checkedBy((group: string) => {
  for (const [, word] of group.matchAll(/\$\{([^}]*)\}/g)) {
    if (!(GROUP_PLACEHOLDERS as readonly string[]).includes(word!)) {
      return `unknown placeholder "\${${word}}"${didYouMean(word!, GROUP_PLACEHOLDERS)}; use \${branch}, \${pipeline} or \${repository}`;
    }
  }
  return null;
});

export const pipelineSchema = fields(
  {
    name: name.optional(),
    repository: z.string().regex(REPOSITORY, 'write the repository as owner/name, e.g. gantry/gantry').optional(),
    on: fields({
      // `push:` with nothing under it is every push, as in GitHub Actions.
      push: fields({ branches: globFilter('branch').optional(), tags: globFilter('tag').optional(), paths: globFilter('path').optional() }).nullable().optional(),
      // `pull_request:` with nothing under it is every pull request, as in GitHub Actions.
      pull_request: fields({ branches: globFilter('branch').optional(), paths: globFilter('path').optional() }, { tags: 'a pull request has no tag; filter its base branches' }).nullable().optional(),
    }).optional(),
    env: env.optional(),
    secrets: secrets.optional(),
    steps: byShape({ array: z.array(step).min(1) }, (value) =>
      describeValue(value) === 'a mapping' ? 'steps is a list: write each step as "- name: ..."' : `expected a list of steps, got ${describeValue(value)}`,
    ),
    concurrency: fields({
      group: z.string().min(1).superRefine(groupPlaceholders).optional(),
      limit: z.number().int().min(1).optional(),
      cancel_previous: z.boolean().optional(),
    }).optional(),
    timeout: duration.optional(),
    // The host user every task of a run runs as (server pipelines only: parse-pipeline.ts).
    user: z.string().regex(USER_NAME, USER_NAME_RULE).optional(),
  },
  {
    when: 'pipeline filters are written under on.push (branches, tags, paths)',
    trigger: 'pipeline filters are written under on.push (branches, tags, paths)',
    environment: 'Gantry calls it "env"',
    pipeline: 'Gantry calls it "steps"',
  },
);

export type PipelineFile = z.output<typeof pipelineSchema>;
export type StepFile = z.output<typeof step>;
export type ConditionFile = z.output<typeof condition>;
