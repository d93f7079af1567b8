// Validates what a client submits into a complete TaskSpec, with defaults, before anything is stored.
import { z } from 'zod';
import { Invalid } from '../shared/errors.ts';
import { parseConstraint, parseConstraintArray } from './resources/parse.ts';
import { RESTART_DEFAULTS } from './restart-policy.ts';
import { probeInputSchema, probeSpec } from './probes/probe-spec.ts';
import { namedNetworkOf, networkNameProblem } from './container-network.ts';
import { CONTAINER_NETWORKS, RANKERS, RESTART_POLICIES, type Constraint, type RestartPolicy, type TaskSpec } from './types.ts';

/** How far ahead a task's startAt may be. */
const MAX_START_AHEAD_MS = 5 * 60_000;

export const TASK_DEFAULTS = { cpus: 0.1, mem: 64, disk: 0, gpus: 0, killGraceMs: 10_000, group: 'default' } as const;

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A user name as TaskSpec.user and `--task-users` take it: what useradd accepts, at most 32 characters. */
export const USER_NAME = /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/;
export const USER_NAME_RULE = 'a user name is letters, digits, . _ - (at most 32), starting with a letter or _';

/**
 * Limits on TaskSpec.redact. The agent holds back up to the longest value − 1 bytes of output per
 * stream and scans every chunk for every value, so both stay small; a 4096-bit PEM key is ~3.2 KiB.
 */
export const REDACT_LIMITS = { values: 100, valueBytes: 16 * 1024, totalBytes: 64 * 1024 } as const;

const redactValue = z
  .string()
  .refine((v) => v.trim().length > 0, 'a value to redact must have a character other than whitespace (it would mask every space)')
  .refine((v) => Buffer.byteLength(v, 'utf8') <= REDACT_LIMITS.valueBytes, `a value to redact is at most ${REDACT_LIMITS.valueBytes} bytes`);

const DAY_MS = 86_400_000;

const restartSchema = z
  .object({
    policy: z.enum(RESTART_POLICIES),
    // At least 100 ms: a task failing at once must not spin the agent (and its store writes).
    backoffMs: z.number().int().min(100).max(DAY_MS).optional(),
    factor: z.number().min(1).max(10).optional(),
    maxBackoffMs: z.number().int().min(100).max(DAY_MS).optional(),
    resetAfterMs: z.number().int().min(0).max(DAY_MS).optional(),
    maxRestarts: z.number().int().min(0).optional(),
  })
  .strict();

/** OCI distribution-spec names and tags (a build pushes to `<registry>/<repository>:<tag>`). */
export const IMAGE_REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

const relativePath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path relative to the workspace, without ".." (it may not leave the workspace)');

const buildSchema = z
  .object({
    context: relativePath.optional(),
    dockerfile: relativePath.optional(),
    repository: z.string().max(255).regex(IMAGE_REPOSITORY, 'a repository is lowercase path components (team/web), as the registry names them'),
    tags: z.array(z.string().regex(IMAGE_TAG, 'a tag is letters, digits, _ . - (at most 128), not starting with . or -')).min(1).max(20),
    args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'build argument names are letters, digits and _'), z.string()).optional(),
    target: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a stage name is letters, digits, _ . -').optional(),
    labels: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'a label key is letters, digits, . _ / -'), z.string().max(1000)).optional(),
  })
  .strict();

const assembleSchema = z
  .object({
    from: z.string().min(1).max(512).regex(/^[^\s]+$/, 'an image reference has no whitespace'),
    files: z.array(z.object({ src: relativePath, dest: z.string().regex(/^\//, 'a path in the image is absolute').max(1024) }).strict()).min(1).max(100),
    entrypoint: z.array(z.string()).max(100).optional(),
    cmd: z.array(z.string()).max(100).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), z.string()).optional(),
    workdir: z.string().regex(/^\//, 'the working directory is absolute').max(1024).optional(),
    repository: buildSchema.shape.repository,
    tags: buildSchema.shape.tags,
    labels: buildSchema.shape.labels,
    sourceDateEpoch: z.number().int().min(0).max(8_589_934_591),
  })
  .strict();

const submitSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    owner: z.string().min(1).max(200).optional(),
    group: z.string().min(1).max(200).optional(),
    cmd: z.string().min(1).optional(),
    args: z.array(z.string()).min(1).optional(),
    env: z
      .record(z.string().regex(envName, 'environment variable names are letters, digits and _'), z.string())
      .optional(),
    cpus: z.number().positive().max(4096).optional(),
    mem: z.number().positive().max(16 * 1024 * 1024).optional(),
    disk: z.number().min(0).optional(),
    gpus: z.number().int().min(0).optional(),
    ports: z.array(z.number().int().min(0).max(65535)).max(100).optional(),
    resources: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/), z.number().positive()).optional(),
    constraints: z.array(z.union([z.string(), z.array(z.string()).min(2).max(3)])).optional(),
    strategy: z.enum(RANKERS).optional(),
    spreadGroup: z.boolean().optional(),
    killGraceMs: z.number().int().min(0).max(3_600_000).optional(),
    shutdownDelayMs: z.number().int().min(0).max(600_000).optional(),
    image: z.string().min(1).max(512).regex(/^[^\s]+$/, 'an image reference has no whitespace').optional(),
    forcePull: z.boolean().optional(),
    build: buildSchema.optional(),
    assemble: assembleSchema.optional(),
    pullOnly: z.boolean().optional(),
    startAt: z.iso.datetime({ offset: true }).optional(),
    // Docker's own networks, or a container network's name (container-network.ts).
    network: z
      .string()
      .superRefine((network, ctx) => {
        const problem = (CONTAINER_NETWORKS as readonly string[]).includes(network) ? null : networkNameProblem(network);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: `${problem}; give ${CONTAINER_NETWORKS.join(', ')} or a container network's name` });
      })
      .optional(),
    containerPorts: z.array(z.number().int().min(0).max(65535)).max(100).optional(),
    loopbackPorts: z.array(z.boolean()).max(100).optional(),
    // '' for a port without a name.
    portNames: z.array(z.string().regex(/^([a-z0-9][a-z0-9-]{0,62})?$/, 'a port name is lowercase letters, digits and -, at most 63, as Marathon\'s')).max(100).optional(),
    workspace: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a workspace name is letters, digits, . _ - (at most 100), not starting with . or -').optional(),
    restart: restartSchema.optional(),
    health: probeInputSchema.optional(),
    readiness: probeInputSchema.optional(),
    user: z.string().regex(USER_NAME, USER_NAME_RULE).optional(),
    redact: z
      .array(redactValue)
      .max(REDACT_LIMITS.values)
      .refine((vs) => vs.reduce((sum, v) => sum + Buffer.byteLength(v, 'utf8'), 0) <= REDACT_LIMITS.totalBytes, `the values to redact are at most ${REDACT_LIMITS.totalBytes} bytes together`)
      .optional(),
  })
  .strict();

export type TaskSubmission = z.input<typeof submitSchema>;

/** Turns a submission into a TaskSpec, or throws Invalid naming every problem. */
export function parseTaskSpec(input: unknown, defaultOwner: string): TaskSpec {
  const parsed = submitSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new Invalid(`invalid task: ${problems.join('; ')}`);
  }
  const s = parsed.data;
  if (s.cmd !== undefined && s.args !== undefined) {
    throw new Invalid('invalid task: give exactly one of "cmd" (a shell command line) or "args" (an argv)');
  }
  for (const kind of ['build', 'assemble'] as const) {
    if (s[kind] === undefined) continue;
    const runs = (['cmd', 'args', 'image', 'ports', 'restart', 'startAt', 'network', 'health', 'readiness', kind === 'build' ? 'assemble' : 'build'] as const).filter((k) => s[k] !== undefined);
    if (runs.length > 0) throw new Invalid(`invalid task: a "${kind}" task makes an image and runs nothing; leave out ${runs.map((k) => `"${k}"`).join(', ')}`);
    if (s.workspace === undefined) throw new Invalid(`invalid task: a "${kind}" task makes its image from a "workspace": name one`);
  }
  if (s.build === undefined && s.assemble === undefined && s.cmd === undefined && s.args === undefined && s.image === undefined) {
    throw new Invalid('invalid task: give exactly one of "cmd" (a shell command line) or "args" (an argv), or an "image" to run its own command');
  }
  if (s.forcePull !== undefined && s.image === undefined) throw new Invalid('invalid task: "forcePull" needs an "image"');
  if (s.network !== undefined && s.image === undefined) throw new Invalid('invalid task: "network" needs an "image"');
  if (s.pullOnly === true) {
    if (s.image === undefined) throw new Invalid('invalid task: "pullOnly" needs an "image"');
    const runs = (['cmd', 'args', 'ports', 'restart', 'startAt', 'network', 'workspace', 'user'] as const).filter((k) => s[k] !== undefined);
    if (runs.length > 0) throw new Invalid(`invalid task: a "pullOnly" task runs nothing; leave out ${runs.map((k) => `"${k}"`).join(', ')}`);
  }
  if (s.startAt !== undefined && Date.parse(s.startAt) > Date.now() + MAX_START_AHEAD_MS) {
    throw new Invalid(`invalid task: "startAt" is at most ${MAX_START_AHEAD_MS / 60_000} minutes ahead (a waiting task holds its resources)`);
  }
  if (s.network === 'none' && (s.ports ?? []).length > 0) throw new Invalid('invalid task: a container with network "none" cannot have ports');
  if (s.containerPorts !== undefined) {
    const mapped = (s.network ?? 'bridge') === 'bridge' || namedNetworkOf(s) !== null;
    if (s.image === undefined || !mapped) throw new Invalid('invalid task: "containerPorts" maps host ports into a container on the bridge network: it needs an "image" and network "bridge" (or a container network\'s name)');
    if (s.containerPorts.length !== (s.ports ?? []).length) {
      throw new Invalid(`invalid task: "containerPorts" has one entry per entry of "ports" (${(s.ports ?? []).length}), got ${s.containerPorts.length}`);
    }
    const inside = s.containerPorts.filter((p) => p !== 0);
    if (new Set(inside).size !== inside.length) throw new Invalid('invalid task: the same container port is mapped twice');
  }
  if (s.loopbackPorts !== undefined) {
    const published = (s.network ?? 'bridge') === 'bridge' || namedNetworkOf(s) !== null;
    if (s.image === undefined || !published) throw new Invalid('invalid task: "loopbackPorts" says where a container\'s host ports are published: it needs an "image" and network "bridge" or a container network\'s name');
    if (s.loopbackPorts.length !== (s.ports ?? []).length) throw new Invalid(`invalid task: "loopbackPorts" has one entry per entry of "ports" (${(s.ports ?? []).length}), got ${s.loopbackPorts.length}`);
  }
  const ports = s.ports ?? [];
  const fixed = ports.filter((p) => p !== 0);
  if (new Set(fixed).size !== fixed.length) throw new Invalid('invalid task: the same port is asked for twice');
  const constraints: Constraint[] = (s.constraints ?? []).map((c) =>
    typeof c === 'string' ? parseConstraint(c) : parseConstraintArray(c),
  );
  // A container needs an agent with a Docker engine (agents say so in their `docker` attribute): the
  // task waits for one, with that reason, instead of failing on an agent without the driver.
  if ((s.image !== undefined || s.build !== undefined) && !constraints.some((c) => c.field === 'docker')) constraints.push(parseConstraintArray(['docker', 'LIKE', '.+']));
  const command = s.cmd ?? s.args?.join(' ') ?? s.image ?? (s.build ? `build ${s.build.repository}` : `assemble ${s.assemble!.repository}`);
  const spec: TaskSpec = {
    name: s.name ?? (command.length > 60 ? `${command.slice(0, 57)}...` : command),
    owner: s.owner ?? defaultOwner,
    group: s.group ?? TASK_DEFAULTS.group,
    env: s.env ?? {},
    cpus: s.cpus ?? TASK_DEFAULTS.cpus,
    mem: s.mem ?? TASK_DEFAULTS.mem,
    disk: s.disk ?? TASK_DEFAULTS.disk,
    gpus: s.gpus ?? TASK_DEFAULTS.gpus,
    ports,
    resources: s.resources ?? {},
    constraints,
    killGraceMs: s.killGraceMs ?? TASK_DEFAULTS.killGraceMs,
  };
  if (s.cmd !== undefined) spec.cmd = s.cmd;
  if (s.args !== undefined) spec.args = s.args;
  if (s.strategy !== undefined) spec.strategy = s.strategy;
  if (s.shutdownDelayMs !== undefined && s.shutdownDelayMs > 0) spec.shutdownDelayMs = s.shutdownDelayMs;
  if (s.spreadGroup === true) spec.spreadGroup = true;
  if (s.image !== undefined) spec.image = s.image;
  if (s.forcePull === true) spec.forcePull = true;
  if (s.build !== undefined) {
    spec.build = { context: s.build.context ?? '.', dockerfile: s.build.dockerfile ?? 'Dockerfile', repository: s.build.repository, tags: [...new Set(s.build.tags)], args: s.build.args ?? {} };
    if (s.build.target !== undefined) spec.build.target = s.build.target;
    if (s.build.labels !== undefined && Object.keys(s.build.labels).length > 0) spec.build.labels = s.build.labels;
  }
  if (s.assemble !== undefined) spec.assemble = { ...s.assemble, tags: [...new Set(s.assemble.tags)] };
  if (s.pullOnly === true) spec.pullOnly = true;
  if (s.startAt !== undefined) spec.startAt = new Date(s.startAt).toISOString();
  if (s.network !== undefined) spec.network = s.network;
  if (s.containerPorts !== undefined && s.containerPorts.some((p) => p !== 0)) spec.containerPorts = s.containerPorts;
  if (s.loopbackPorts !== undefined && s.loopbackPorts.some((loopback) => loopback)) spec.loopbackPorts = s.loopbackPorts;
  if (s.portNames !== undefined) {
    if (s.portNames.length !== ports.length) throw new Invalid(`invalid task: "portNames" has one name per entry of "ports" (${ports.length}), got ${s.portNames.length}`);
    const named = s.portNames.filter((name) => name !== '');
    if (new Set(named).size !== named.length) throw new Invalid('invalid task: the same port name is given twice');
    if (named.length > 0) spec.portNames = s.portNames;
  }
  if (s.workspace !== undefined) spec.workspace = s.workspace;
  if (s.user !== undefined) spec.user = s.user;
  if (s.redact !== undefined && s.redact.length > 0) spec.redact = [...new Set(s.redact)];
  if (s.restart !== undefined) spec.restart = restartPolicy(s.restart);
  const probeProblems: string[] = [];
  for (const which of ['health', 'readiness'] as const) {
    const input = s[which];
    if (input === undefined) continue;
    if (s.pullOnly === true) probeProblems.push(`${which}: a "pullOnly" task runs nothing to probe`);
    const probe = probeSpec(which, input, ports.length);
    if (Array.isArray(probe)) probeProblems.push(...probe);
    else spec[which] = probe;
  }
  if (probeProblems.length > 0) throw new Invalid(`invalid task: ${probeProblems.join('; ')}`);
  return spec;
}

function restartPolicy(r: z.infer<typeof restartSchema>): RestartPolicy {
  const policy: RestartPolicy = {
    policy: r.policy,
    backoffMs: r.backoffMs ?? RESTART_DEFAULTS.backoffMs,
    factor: r.factor ?? RESTART_DEFAULTS.factor,
    maxBackoffMs: r.maxBackoffMs ?? Math.max(RESTART_DEFAULTS.maxBackoffMs, r.backoffMs ?? 0),
    resetAfterMs: r.resetAfterMs ?? RESTART_DEFAULTS.resetAfterMs,
  };
  if (policy.maxBackoffMs < policy.backoffMs) {
    throw new Invalid(`invalid task: restart.maxBackoffMs (${policy.maxBackoffMs}) is less than restart.backoffMs (${policy.backoffMs})`);
  }
  if (r.maxRestarts !== undefined) policy.maxRestarts = r.maxRestarts;
  return policy;
}
