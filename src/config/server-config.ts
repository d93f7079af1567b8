// The server's configuration: defaults < config file < GANTRY_* environment < command-line flags,
// validated once at start with messages that name the setting and where it came from.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { USER_NAME, USER_NAME_RULE } from '../cluster/task-spec.ts';
import { RANKERS } from '../cluster/types.ts';
import { parseBytes } from '../shared/bytes.ts';
import { parseDuration } from '../shared/duration.ts';
import { Invalid } from '../shared/errors.ts';
import { parseListenAddress, type ListenAddress } from './listen-address.ts';

const durationMs = z.number().int().positive();
/** As the docker driver's default (src/cluster/drivers/docker.ts), without importing the cluster here. */
const DEFAULT_KEEP_EXITED_MS = 10 * 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** As the master's suggested defaults (src/cluster/master/task-logs.ts, log-retention.ts): a service keeps its last 10 MiB, a log lives a week after its task. */
const DEFAULT_MAX_BYTES_PER_TASK = 10 * 1024 * 1024;
const DEFAULT_LOG_RETENTION_MS = 7 * DAY_MS;
/** As DNS's default TTL: a client that looked an instance up just before it left still reaches it. */
const DEFAULT_DRAIN_DELAY_MS = 5_000;

const serverConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('./data'),
    listen: z.string().default('127.0.0.1:7070'),
    registryListen: z.string().default('127.0.0.1:5000'),
    databaseUrl: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Run the embedded local agent in the server process. */
    localAgent: z.boolean().default(true),
    /**
     * Stopping the server (SIGTERM, SIGINT) drains the embedded agent: its tasks are killed and
     * reported lost, for their owners to replace. By default a stop leaves them running, as a crash does.
     */
    drainOnStop: z.boolean().default(false),
    agent: z
      .object({
        hostname: z.string().optional(),
        /** Mesos resources string; absent → detected from the machine. */
        resources: z.string().optional(),
        attributes: z.string().default(''),
        /** How long an exited container is kept after its task's end was reported (0: removed at once). */
        containerGcDelayMs: z.number().int().min(0).default(DEFAULT_KEEP_EXITED_MS),
        /** Dangling Docker images older than this are pruned (checked hourly); absent: never. */
        pruneImagesAfterMs: z.number().int().min(0).optional(),
        /** Turn the kernel's cgroup favordynmods on at start (kernel-wide; see cgroup-favordynmods.ts). */
        cgroupFavorDynmods: z.boolean().default(false),
        /**
         * The users its tasks may run as, the default first (src/cluster/agent/task-users.ts). Empty:
         * `gantry-task`, created if missing, when the server runs as root.
         */
        taskUsers: z.array(z.string().regex(USER_NAME, USER_NAME_RULE)).default([]),
        /**
         * The private uids the default user's tasks get one of each, `FIRST-LAST` or `off`
         * (src/cluster/agent/private-uids.ts). Empty: the default range.
         */
        taskUids: z.string().default(''),
        /** How often the running tasks' CPU and memory are sampled and sent to the master. */
        usageIntervalMs: durationMs.default(10_000),
      })
      .strict()
      .default({ attributes: '', containerGcDelayMs: DEFAULT_KEEP_EXITED_MS, cgroupFavorDynmods: false, taskUsers: [], taskUids: '', usageIntervalMs: 10_000 }),
    placement: z
      .object({ strategy: z.enum(RANKERS).default('binpack') })
      .strict()
      .default({ strategy: 'binpack' }),
    registry: z
      .object({
        /** Uploads and manifests are refused (507) when accepting them would leave less than this free. */
        minFreeBytes: z.number().int().min(0).default(256 * 1024 * 1024),
        minFreeInodes: z.number().int().min(0).default(1000),
        /**
         * The registry's URL as clients reach it (behind a proxy or on another host name): the token
         * realm in its 401 challenges. Without it the realm follows each request's Host header.
         */
        externalUrl: z
          .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
          .refine((u) => !/[?#]/.test(u), 'must not carry a query or fragment')
          .optional(),
        /** Online garbage collection every this long (0: never; `gantry registry gc` any time). */
        gcIntervalMs: z.number().int().min(0).default(DAY_MS),
        /** What was pushed or uploaded within this long is never collected. */
        gcGraceMs: z.number().int().min(0).default(HOUR_MS),
      })
      .strict()
      .default({ minFreeBytes: 256 * 1024 * 1024, minFreeInodes: 1000, gcIntervalMs: DAY_MS, gcGraceMs: HOUR_MS }),
    ci: z
      .object({
        /**
         * Secrets GitHub signs webhook deliveries with (X-Hub-Signature-256). Several are accepted at
         * once, so a secret can be rotated without dropping deliveries.
         */
        webhookSecrets: z.array(z.string().min(8, 'a webhook secret needs at least 8 characters')).default([]),
        /**
         * The pipeline definitions the server loads (YAML, one pipeline a file). Default: `pipelines/` in
         * the data directory, not in the working directory: a server started in Gantry's own checkout
         * would otherwise take the examples there for its own pipelines.
         */
        pipelinesDir: z.string().min(1).optional(),
        /** Commit statuses on GitHub (optional): a token that may write statuses, and where. */
        github: z
          .object({
            apiUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
            token: z.string().min(1).optional(),
            /** The Gantry server's public URL, for the statuses' links. */
            publicUrl: z.url({ protocol: /^https?$/ }).optional(),
          })
          .strict()
          .default({ apiUrl: 'https://api.github.com' }),
        /**
         * GitLab (optional): the tokens GitLab sends with its webhooks (X-Gitlab-Token; several at once
         * for rotation), and for commit statuses the instance and a token with the api scope.
         */
        gitlab: z
          .object({
            webhookTokens: z.array(z.string().min(8, 'a webhook token needs at least 8 characters')).default([]),
            url: z.url({ protocol: /^https?$/ }).optional(),
            token: z.string().min(1).optional(),
          })
          .strict()
          .default({ webhookTokens: [] }),
      })
      .strict()
      .default({ webhookSecrets: [], github: { apiUrl: 'https://api.github.com' }, gitlab: { webhookTokens: [] } }),
    /** An agent not heard from for this long is marked unreachable. */
    heartbeatTimeoutMs: durationMs.default(30_000),
    /** Long-running apps (src/apps/). */
    apps: z
      .object({
        /** A deployment that makes no progress for this long is rolled back to the last healthy version. */
        progressDeadlineMs: durationMs.default(600_000),
        /**
         * An instance asked to stop (scale down, upgrade, kill) leaves DNS and the load balancers at once
         * and gets its SIGTERM this much later: clients holding its address from DNS (TTL) still reach it.
         */
        drainDelayMs: z.number().int().min(0).max(600_000).default(DEFAULT_DRAIN_DELAY_MS),
      })
      .strict()
      .default({ progressDeadlineMs: 600_000, drainDelayMs: DEFAULT_DRAIN_DELAY_MS }),
    /** Reaching apps (src/discovery/): the DNS server and the load balancer. */
    discovery: z
      .object({
        /** The DNS zone apps are named in: `web.prod.gantry.` for /prod/web. */
        domain: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'a DNS domain in lower case, no trailing dot').default('gantry'),
        /** Where the DNS server listens (UDP and TCP), `HOST:PORT`; `off`: no DNS server. */
        dnsListen: z.string().default('127.0.0.1:8600'),
        dnsTtlSeconds: z.number().int().min(0).max(3600).default(5),
        /** The load balancer's data plane: `builtin` (embedded), `haproxy` (Debian's haproxy, managed), `off`. */
        lb: z.enum(['builtin', 'haproxy', 'off']).default('builtin'),
        /** The address the load balancer's listeners bind. */
        lbBindHost: z.string().min(1).default('0.0.0.0'),
        /** The shared HTTP port for virtual hosts (HAPROXY_{n}_VHOST), as marathon-lb's 80. */
        lbHttpPort: z.number().int().min(1).max(65535).default(80),
        /** The HAPROXY_GROUPs served (`*`: all); an app without the label is in `external`. */
        lbGroups: z.array(z.string().min(1)).min(1).default(['external']),
        /** The range service ports are taken from, `MIN-MAX` (Marathon's default 10000-20000). */
        servicePorts: z.string().regex(/^\d{1,5}-\d{1,5}$/, 'MIN-MAX').default('10000-20000'),
        haproxyBinary: z.string().min(1).default('haproxy'),
      })
      .strict()
      .default({ domain: 'gantry', dnsListen: '127.0.0.1:8600', dnsTtlSeconds: 5, lb: 'builtin', lbBindHost: '0.0.0.0', lbHttpPort: 80, lbGroups: ['external'], servicePorts: '10000-20000', haproxyBinary: 'haproxy' }),
    /** Task output the master keeps (src/cluster/master/task-logs.ts, log-retention.ts). */
    taskLogs: z
      .object({
        /** The most one task's log holds; the oldest output is cut past it. 0: no cap. */
        maxBytesPerTask: z.number().int().min(0).default(DEFAULT_MAX_BYTES_PER_TASK),
        /** How long a finished task's log is kept. 0: for ever. */
        retentionMs: z.number().int().min(0).default(DEFAULT_LOG_RETENTION_MS),
      })
      .strict()
      .default({ maxBytesPerTask: DEFAULT_MAX_BYTES_PER_TASK, retentionMs: DEFAULT_LOG_RETENTION_MS }),
    /** Given non-interactively instead of generating one at first start. */
    adminToken: z.string().min(16).optional(),
    joinToken: z.string().min(16).optional(),
  })
  .strict();

export type ServerConfigInput = z.input<typeof serverConfigSchema>;

type ParsedConfig = z.output<typeof serverConfigSchema>;

export interface ServerConfig extends Omit<ParsedConfig, 'listen' | 'registryListen' | 'ci' | 'discovery'> {
  listen: ListenAddress;
  registryListen: ListenAddress;
  discovery: Omit<ParsedConfig['discovery'], 'dnsListen' | 'servicePorts'> & { dnsListen: ListenAddress | null; servicePorts: { min: number; max: number } };
  ci: ParsedConfig['ci'] & { pipelinesDir: string };
}

/** Environment variables the server reads, and the setting each one feeds. */
const ENVIRONMENT: ReadonlyArray<readonly [string, (value: string) => Partial<ServerConfigInput>]> = [
  ['GANTRY_DATA_DIR', (v) => ({ dataDir: v })],
  ['GANTRY_LISTEN', (v) => ({ listen: v })],
  ['GANTRY_REGISTRY_LISTEN', (v) => ({ registryListen: v })],
  ['GANTRY_REGISTRY_EXTERNAL_URL', (v) => ({ registry: { externalUrl: v } })],
  ['GANTRY_PIPELINES_DIR', (v) => ({ ci: { pipelinesDir: v } })],
  ['GANTRY_GITHUB_TOKEN', (v) => ({ ci: { github: { token: v } } })],
  ['GANTRY_GITHUB_API_URL', (v) => ({ ci: { github: { apiUrl: v } } })],
  ['GANTRY_PUBLIC_URL', (v) => ({ ci: { github: { publicUrl: v } } })],
  ['GANTRY_GITLAB_URL', (v) => ({ ci: { gitlab: { url: v } } })],
  ['GANTRY_GITLAB_TOKEN', (v) => ({ ci: { gitlab: { token: v } } })],
  ['GANTRY_DATABASE_URL', (v) => ({ databaseUrl: v })],
  ['GANTRY_LOG_LEVEL', (v) => ({ logLevel: v as ServerConfigInput['logLevel'] })],
  ['GANTRY_ADMIN_TOKEN', (v) => ({ adminToken: v })],
  ['GANTRY_JOIN_TOKEN', (v) => ({ joinToken: v })],
  ['GANTRY_TASK_LOG_MAX', (v) => ({ taskLogs: { maxBytesPerTask: parseBytes(v, 'GANTRY_TASK_LOG_MAX') } })],
  ['GANTRY_TASK_LOG_RETENTION', (v) => ({ taskLogs: { retentionMs: parseDuration(v, 'GANTRY_TASK_LOG_RETENTION') } })],
  ['GANTRY_DRAIN_ON_STOP', (v) => ({ drainOnStop: parseSwitch('GANTRY_DRAIN_ON_STOP', v) })],
  ['GANTRY_TASK_USERS', (v) => ({ agent: { taskUsers: parseNameList(v) } })],
  ['GANTRY_TASK_UIDS', (v) => ({ agent: { taskUids: v } })],
  ['GANTRY_APP_DRAIN_DELAY', (v) => ({ apps: { drainDelayMs: parseDuration(v, 'GANTRY_APP_DRAIN_DELAY') } })],
  ['GANTRY_DNS_LISTEN', (v) => ({ discovery: { dnsListen: v } })],
  ['GANTRY_DNS_DOMAIN', (v) => ({ discovery: { domain: v } })],
  ['GANTRY_LB', (v) => ({ discovery: { lb: v as 'builtin' } })],
  ['GANTRY_LB_BIND', (v) => ({ discovery: { lbBindHost: v } })],
  ['GANTRY_LB_HTTP_PORT', (v) => ({ discovery: { lbHttpPort: Number(v) } })],
  ['GANTRY_LB_GROUPS', (v) => ({ discovery: { lbGroups: v.split(',').map((g) => g.trim()).filter((g) => g !== '') } })],
  ['GANTRY_SERVICE_PORTS', (v) => ({ discovery: { servicePorts: v } })],
  ['GANTRY_APP_PROGRESS_DEADLINE', (v) => ({ apps: { progressDeadlineMs: parseDuration(v, 'GANTRY_APP_PROGRESS_DEADLINE') } })],
];

export interface ConfigSources {
  /** Path of a YAML or JSON config file (`--config` or GANTRY_CONFIG). */
  file?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Settings given as flags; undefined entries are ignored. */
  flags: ServerConfigInput;
}

export function loadServerConfig(sources: ConfigSources): ServerConfig {
  const fromFile = readConfigFile(sources.file ?? sources.env.GANTRY_CONFIG);
  let fromEnv: ServerConfigInput = {};
  for (const [name, toSetting] of ENVIRONMENT) {
    const value = sources.env[name];
    // Merged, not assigned: several variables may set parts of one section (ci.github.token, .apiUrl).
    if (value !== undefined && value !== '') fromEnv = mergeDefined(fromEnv, toSetting(value) as ServerConfigInput);
  }
  const merged = mergeDefined(mergeDefined(fromFile, fromEnv), sources.flags);
  const parsed = serverConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Invalid(`invalid configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  // GANTRY_GITHUB_WEBHOOK_SECRET adds to the file's list rather than replacing it (rotation: the old
  // secret stays in the file while the new one is rolled out, or the other way round).
  const envSecret = sources.env.GANTRY_GITHUB_WEBHOOK_SECRET;
  if (envSecret) {
    if (envSecret.length < 8) throw new Invalid('invalid configuration: GANTRY_GITHUB_WEBHOOK_SECRET: a webhook secret needs at least 8 characters');
    if (!config.ci.webhookSecrets.includes(envSecret)) config.ci.webhookSecrets = [envSecret, ...config.ci.webhookSecrets];
  }
  // The same for GitLab's webhook token.
  const envToken = sources.env.GANTRY_GITLAB_WEBHOOK_TOKEN;
  if (envToken) {
    if (envToken.length < 8) throw new Invalid('invalid configuration: GANTRY_GITLAB_WEBHOOK_TOKEN: a webhook token needs at least 8 characters');
    if (!config.ci.gitlab.webhookTokens.includes(envToken)) config.ci.gitlab.webhookTokens = [envToken, ...config.ci.gitlab.webhookTokens];
  }
  return {
    ...config,
    dataDir: path.resolve(config.dataDir),
    ci: { ...config.ci, pipelinesDir: path.resolve(config.ci.pipelinesDir ?? path.join(config.dataDir, 'pipelines')) },
    listen: parseListenAddress(config.listen, 'listen address'),
    registryListen: parseListenAddress(config.registryListen, 'registry listen address'),
    discovery: {
      ...config.discovery,
      dnsListen: config.discovery.dnsListen === 'off' ? null : parseListenAddress(config.discovery.dnsListen, 'DNS listen address (discovery.dnsListen, GANTRY_DNS_LISTEN)'),
      servicePorts: servicePortRange(config.discovery.servicePorts),
    },
  };
}

function servicePortRange(text: string): { min: number; max: number } {
  const [min, max] = text.split('-').map(Number) as [number, number];
  if (min < 1 || max > 65535 || min > max) throw new Invalid(`invalid configuration: discovery.servicePorts: "${text}" is not a range of ports MIN-MAX within 1-65535`);
  return { min, max };
}

function readConfigFile(file: string | undefined): ServerConfigInput {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Invalid(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    const value: unknown = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('the top level must be a mapping');
    return value as ServerConfigInput;
  } catch (err) {
    throw new Invalid(`config file ${file}: ${(err as Error).message}`);
  }
}

/** Overlays `over` on `base`, skipping undefined values and merging nested objects. */
function mergeDefined<T extends object>(base: T, over: T): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] =
      isPlainObject(value) && isPlainObject(current) ? mergeDefined(current, value) : value;
  }
  return out as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `a, b,c` (a flag's or a variable's list) as names; checked by the schema. */
export function parseNameList(text: string): string[] {
  return text.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
}

/** An on/off environment variable: 1, true, yes, on or 0, false, no, off (or empty). */
export function parseSwitch(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Invalid(`invalid configuration: ${name}: "${value}" is not on or off (use 1 or 0)`);
}
