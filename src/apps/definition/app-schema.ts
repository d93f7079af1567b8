// The shape of a Marathon app definition, field by field: every field of Marathon's App type
// (mesosphere/marathon docs/docs/rest-api/public/api/v2/types/app.raml and the types it uses:
// appContainer, network, healthCheck, readinessCheck, unreachableStrategy, killSelection), the
// deprecated ones Marathon still reads (`ports`, `container.docker.network`, `container.docker.portMappings`),
// and the ones refused (refusals.ts). Only types and ranges live here; rules between fields and the
// defaults are in ports.ts, checks.ts and field-rules.ts. Nested objects name an unknown field (with
// the field probably meant) through ci/pipeline's `fields`, shared with pipeline files.
import { z } from 'zod';
import { mapConstraint, networkNameProblem, type TaskConstraint } from '../../cluster/index.ts';
import { byShape, checkedBy, fields, isPlainObject } from '../../shared/validation/schema-kit.ts';
import { REFUSED, refusedField, refusedWhen, volumeRefusal } from './refusals.ts';
import { HEALTH_CHECK_PROTOCOLS, KILL_SELECTIONS, PORT_PROTOCOLS } from './types.ts';

/**
 * What Marathon writes into an app it returns (AppInfo in app.raml, plus `version` and `versionInfo`,
 * which it sets itself): accepted and dropped, so that an app exported by GET posts back unchanged.
 */
export const MARATHON_OUTPUT_FIELDS: ReadonlySet<string> = new Set([
  'version',
  'versionInfo',
  'tasks',
  'tasksStaged',
  'tasksRunning',
  'tasksHealthy',
  'tasksUnhealthy',
  'deployments',
  'readinessCheckResults',
  'lastTaskFailure',
  'tasksStats',
  'taskStats',
]);

const port = z.number().int().min(0).max(65535);
const seconds = z.number().int().min(0);
/** At least one second: Marathon takes 0, which would probe without pause. */
const period = z.number().int().min(1);
const labels = z.record(z.string(), z.string());
/** Port names: strings.LegacyName in Marathon's stringTypes.raml. */
const portName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a port name is lowercase letters, digits and "-", starting and ending with a letter or digit');
const protocol = z.enum(PORT_PROTOCOLS);
/** Environment variable names the pool takes (cluster/task-spec.ts): a shell could not read others. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const portDefinition = fields({ port: port.optional(), protocol: protocol.optional(), name: portName.optional(), labels: labels.optional() });

const portMapping = fields({
  containerPort: port.optional(),
  hostPort: port.optional(),
  servicePort: port.optional(),
  protocol: protocol.optional(),
  name: portName.optional(),
  labels: labels.optional(),
  /** The container networks the mapping is on: with one network, only its name (ports.ts). */
  networkNames: z.array(z.string()).optional(),
});

const docker = fields({
  image: z.string().min(1),
  forcePullImage: z.boolean().optional(),
  privileged: refusedWhen(z.boolean(), (privileged) => privileged, REFUSED.privileged).optional(),
  parameters: refusedWhen(z.array(fields({ key: z.string(), value: z.string() })), (list) => list.length > 0, REFUSED.parameters).optional(),
  /** Deprecated in Marathon 1.5 for `networks`; read as it reads it (AppNormalization.NetworkTranslation). */
  network: z.enum(['BRIDGE', 'HOST', 'NONE', 'USER']).optional(),
  /** Deprecated in Marathon 1.5 for `container.portMappings`. */
  portMappings: z.array(portMapping).optional(),
  credential: refusedField(REFUSED.credential).optional(),
  pullConfig: refusedField(REFUSED.pullConfig).optional(),
});

const container = fields({
  type: z.enum(['DOCKER', 'MESOS']).optional(),
  docker: docker.optional(),
  portMappings: z.array(portMapping).optional(),
  volumes: z.array(z.unknown().superRefine(checkedBy(volumeRefusal))).optional(),
  linuxInfo: refusedField(REFUSED.linuxInfo).optional(),
});

/** A container network's name is one Docker takes (the pool's rule, cluster/container-network.ts). */
const networkName = z.string().superRefine((name, ctx) => {
  const problem = networkNameProblem(name);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const network = fields({
  // Marathon's default mode is "container" (network.raml): a network without a mode is a container network.
  mode: z.enum(['host', 'container/bridge', 'container']).optional(),
  name: networkName.optional(),
  // Passed by Marathon to the network's CNI plugin: a Docker bridge takes none; accepted, ignored.
  labels: labels.optional(),
}).superRefine((n, ctx) => {
  const container = n.mode === undefined || n.mode === 'container';
  if (container && n.name === undefined) {
    ctx.addIssue({ code: 'custom', path: ['name'], message: 'a container network (mode "container", the default when a network has no mode) needs its "name"' });
  }
  if (!container && n.name !== undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: `only a container network has a name (mode "${n.mode}" has none)` });
});

const healthCheck = fields({
  protocol: z.enum(HEALTH_CHECK_PROTOCOLS).optional(),
  path: z.string().optional(),
  portIndex: z.number().int().min(0).optional(),
  port: port.optional(),
  command: fields({ value: z.string().min(1) }).optional(),
  gracePeriodSeconds: seconds.optional(),
  intervalSeconds: period.optional(),
  timeoutSeconds: period.optional(),
  maxConsecutiveFailures: seconds.optional(),
  delaySeconds: seconds.optional(),
  ignoreHttp1xx: z.boolean().optional(),
  ipProtocol: refusedWhen(z.enum(['IPv4', 'IPv6']), (ip) => ip === 'IPv6', REFUSED.ipv6).optional(),
});

const readinessCheck = fields({
  name: z.string().min(1).optional(),
  protocol: z.enum(['HTTP', 'HTTPS']).optional(),
  path: z.string().min(1).optional(),
  portName: z.string().optional(),
  intervalSeconds: period.optional(),
  timeoutSeconds: period.optional(),
  httpStatusCodesForReady: z.array(z.number().int().min(100).max(999)).min(1).optional(),
  preserveLastResponse: z.boolean().optional(),
});

const unitShare = z.number().min(0).max(1);

/** Marathon constraints `[field, OPERATOR, value?]` in the pool's form (cluster/resources/marathon-constraints.ts maps them). */
const constraints = z.array(z.array(z.string())).transform((list, ctx): TaskConstraint[] =>
  list.flatMap((parts, i) => {
    const mapped = mapConstraint(parts);
    if (!('problem' in mapped)) return [mapped];
    ctx.addIssue({ code: 'custom', path: [i], message: mapped.problem });
    return [];
  }),
);

const env = z
  .record(
    z.string(),
    byShape(
      { string: z.string(), object: z.unknown().superRefine(checkedBy((v) => (isPlainObject(v) && 'secret' in v ? REFUSED.envSecret : 'expected a string'))) },
      'a string',
    ),
  )
  .superRefine((vars, ctx) => {
    for (const name of Object.keys(vars)) {
      if (!ENV_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a variable name (letters, digits and _, not starting with a digit)` });
    }
  });

const emptyList = (reason: string) => refusedWhen(z.array(z.unknown()), (list) => list.length > 0, reason);

/** Every top-level field, each parsed on its own (definition.ts), so one bad field hides no other's problems. */
export const APP_FIELDS = {
  id: z.string().min(1),
  cmd: z.string().min(1),
  args: z.array(z.string()),
  user: z.string().min(1),
  env: env as z.ZodType<Record<string, string>>,
  instances: z.number().int().min(0),
  cpus: z.number().min(0.001).max(4096),
  mem: z.number().positive(),
  disk: z.number().min(0),
  gpus: z.number().int().min(0),
  container,
  networks: z.array(network),
  portDefinitions: z.array(portDefinition),
  /** Deprecated in Marathon 1.5 for `portDefinitions`: the port numbers alone. */
  ports: z.array(port),
  requirePorts: z.boolean(),
  healthChecks: z.array(healthCheck),
  readinessChecks: z.array(readinessCheck),
  constraints,
  labels,
  dependencies: z.array(z.string()),
  upgradeStrategy: fields({ minimumHealthCapacity: unitShare.optional(), maximumOverCapacity: unitShare.optional() }),
  backoffSeconds: seconds,
  backoffFactor: z.number().min(1),
  maxLaunchDelaySeconds: seconds,
  killSelection: z.enum(KILL_SELECTIONS),
  /** At most an hour: the pool's limit on a kill's grace period (cluster/task-spec.ts). */
  taskKillGracePeriodSeconds: seconds.max(3600),
  unreachableStrategy: byShape(
    {
      string: z.literal('disabled'),
      object: fields({ inactiveAfterSeconds: seconds.optional(), expungeAfterSeconds: seconds.optional() }),
    },
    '"disabled" or {"inactiveAfterSeconds": N, "expungeAfterSeconds": N}',
  ),
  /** The Mesos role the app's resources are booked under (Marathon 1.9+): the pool has no roles; accepted, ignored. */
  role: z.string(),
  executor: refusedWhen(z.string(), (e) => e !== '' && e !== '//cmd', REFUSED.executor),
  acceptedResourceRoles: refusedWhen(z.array(z.string()), (roles) => roles.some((r) => r !== '*'), REFUSED.acceptedResourceRoles),
  fetch: emptyList(REFUSED.fetch),
  uris: emptyList(REFUSED.fetch),
  secrets: refusedWhen(z.record(z.string(), z.unknown()), (s) => Object.keys(s).length > 0, REFUSED.secrets),
  tty: refusedWhen(z.boolean(), (tty) => tty, REFUSED.tty),
  ipAddress: refusedField(REFUSED.ipAddress),
  residency: refusedField(REFUSED.residency),
  resourceLimits: refusedField(REFUSED.resourceLimits),
  check: refusedField(REFUSED.check),
  executorResources: refusedField(REFUSED.executorResources),
};

export type AppFieldName = keyof typeof APP_FIELDS;

/** The fields that passed their own checks, typed. */
export type AppFields = { [K in AppFieldName]?: z.output<(typeof APP_FIELDS)[K]> };

/** A group (`/v2/groups`; group.raml GroupUpdate): its apps and groups are read by group.ts, each on its own. */
export const GROUP_FIELDS = {
  id: z.string(),
  apps: z.array(z.unknown()),
  groups: z.array(z.unknown()),
  dependencies: z.array(z.string()),
  /** Whether the group's apps must use its role (Marathon 1.9+): the pool has no roles; accepted, ignored. */
  enforceRole: z.boolean(),
  pods: emptyList(REFUSED.pods),
  scaleBy: refusedField(REFUSED.scaleBy),
};

export type GroupFields = { [K in keyof typeof GROUP_FIELDS]?: z.output<(typeof GROUP_FIELDS)[K]> };

/** What Marathon writes into a group it returns (GroupInfo): dropped. */
export const MARATHON_GROUP_OUTPUT_FIELDS: ReadonlySet<string> = new Set(['version']);
