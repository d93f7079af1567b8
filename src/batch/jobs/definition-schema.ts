// The shape of a job definition: every field Chronos reads or writes (JobDeserializer/JobSerializer in
// mesos/chronos src/main/scala/org/apache/mesos/chronos/utils/) plus Gantry's native additions. Only
// types and ranges live here; the rules between fields (one of schedule / cron / parents, ...) and the
// defaults are in definition.ts. Objects are strict: a field nobody reads is a typo until proven otherwise.
import { z } from 'zod';
import { lenientBoolean, lenientNumber } from './lenient-values.ts';

export const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'] as const;
export const TRIGGER_RULES = ['all_success', 'all_done', 'one_failed', 'one_success'] as const;
export const CONTAINER_TYPES = ['DOCKER', 'MESOS'] as const;
export const NETWORK_MODES = ['BRIDGE', 'HOST', 'USER', 'NONE'] as const;
export const VOLUME_MODES = ['RW', 'RO'] as const;

/** Chronos upper-cases `type` and volume `mode` before reading them; we accept what it accepts. */
function upperCaseEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(values));
}

const keyValue = z.strictObject({ key: z.string(), value: z.string() });

const volume = z.strictObject({
  containerPath: z.string().min(1),
  hostPath: z.string().min(1).optional(),
  mode: upperCaseEnum(VOLUME_MODES).optional(),
  // Chronos 2.5+ volume sources, accepted so exported jobs load; only plain host paths are mounted.
  persistent: z.strictObject({ size: lenientNumber(z.number().int().positive()) }).optional(),
  external: z
    .strictObject({ name: z.string(), provider: z.string(), options: z.array(keyValue).optional() })
    .optional(),
});

const networkInfo = z.strictObject({
  name: z.string(),
  protocol: z.string().optional(),
  labels: z.array(keyValue).optional(),
  portMappings: z
    .array(
      z.strictObject({
        hostPort: lenientNumber(z.number().int().min(0).max(65535)),
        containerPort: lenientNumber(z.number().int().min(0).max(65535)),
        protocol: z.string().optional(),
      }),
    )
    .optional(),
});

const container = z.strictObject({
  type: upperCaseEnum(CONTAINER_TYPES).optional(),
  image: z.string().min(1, 'a container needs an image'),
  forcePullImage: lenientBoolean().optional(),
  // Chronos reads `network` with NetworkMode.withName, which is case-sensitive: existing jobs say "BRIDGE".
  network: z.enum(NETWORK_MODES).optional(),
  networkName: z.string().optional(),
  networkInfos: z.array(networkInfo).optional(),
  volumes: z.array(volume).optional(),
  parameters: z.array(keyValue).optional(),
});

const fetchItem = z.strictObject({
  uri: z.string().min(1),
  executable: lenientBoolean().optional(),
  cache: lenientBoolean().optional(),
  extract: lenientBoolean().optional(),
  output_file: z.string().optional(),
});

/** A duration: ISO 8601 (`PT30S`, as `epsilon`) or Gantry's short form (`30s`, `5m`). */
const durationText = z.string().min(1);

export const jobDefinitionSchema = z.strictObject({
  // ---- Chronos ---------------------------------------------------------------------------------------
  name: z.string(),
  command: z.string().min(1, 'a job needs a command'),
  shell: lenientBoolean().optional(),
  arguments: z.array(z.string()).optional(),
  environmentVariables: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
  schedule: z.string().optional(),
  scheduleTimeZone: z.string().optional(),
  epsilon: durationText.optional(),
  parents: z.array(z.string().min(1, 'a parent is a job name')).optional(),
  retries: lenientNumber(z.number().int().min(0).max(100)).optional(),
  disabled: lenientBoolean().optional(),
  concurrent: lenientBoolean().optional(),
  softError: lenientBoolean().optional(),
  /** Milliseconds; Chronos reads 0 as "no limit". */
  maxCompletionTime: lenientNumber(z.number().int().min(0)).optional(),
  owner: z.string().optional(),
  ownerName: z.string().optional(),
  description: z.string().optional(),
  /** 0 means "the default", as in Chronos (MesosJobFramework: `if (job.cpus > 0) job.cpus else default`). */
  cpus: lenientNumber(z.number().min(0).max(4096)).optional(),
  mem: lenientNumber(z.number().min(0)).optional(),
  disk: lenientNumber(z.number().min(0)).optional(),
  container: container.optional(),
  constraints: z.array(z.array(z.string())).optional(),
  runAsUser: z.string().optional(),
  // Downloads into the sandbox before the command runs: accepted so Chronos jobs load, not fetched yet.
  uris: z.array(z.string()).optional(),
  fetch: z.array(fetchItem).optional(),
  // Chronos fields accepted and not acted on: a custom Mesos executor only when empty (see definition.ts);
  // `async` (Chronos 3 dropped it: a run ends when its task ends), data-tracking flags, queue priority.
  executor: z.string().optional(),
  executorFlags: z.string().optional(),
  taskInfoData: z.string().optional(),
  async: lenientBoolean().optional(),
  dataProcessingJobType: lenientBoolean().optional(),
  dataJob: lenientBoolean().optional(),
  highPriority: lenientBoolean().optional(),

  // ---- Gantry ----------------------------------------------------------------------------------------
  /** 5 or 6 cron fields, read in `scheduleTimeZone`; an alternative to `schedule`. */
  cron: z.string().optional(),
  concurrencyPolicy: z.enum(CONCURRENCY_POLICIES).optional(),
  retryBackoff: z
    .strictObject({
      initial: durationText.optional(),
      factor: lenientNumber(z.number().min(1).max(100)).optional(),
      max: durationText.optional(),
    })
    .optional(),
  /** When a dependent job runs, given how its parents' runs of one generation ended. */
  triggerRule: z.enum(TRIGGER_RULES).optional(),
  /** How many finished runs to keep, by outcome. */
  history: z
    .strictObject({
      successful: lenientNumber(z.number().int().min(0).max(100_000)).optional(),
      failed: lenientNumber(z.number().int().min(0).max(100_000)).optional(),
    })
    .optional(),
});

export type JobDefinitionInput = z.output<typeof jobDefinitionSchema>;

/**
 * Fields Chronos writes into a job it returns (JobSerializer) that are its statistics, not the job's
 * definition. A job exported from Chronos and posted back carries them; they are dropped, never stored.
 */
export const CHRONOS_OUTPUT_FIELDS: ReadonlySet<string> = new Set([
  'successCount',
  'errorCount',
  'lastSuccess',
  'lastError',
  'errorsSinceLastSuccess',
]);
