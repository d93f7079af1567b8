// Defaults of a job definition: Chronos's where Chronos has the field, so an existing job behaves as it did.
import type { JobDefinition } from './definition.ts';

/** Chronos's defaults (mesos/chronos SchedulerConfiguration, JobDeserializer) and Gantry's for its fields. */
export const JOB_DEFAULTS = {
  shell: true,
  /** `--task_epsilon` 60 s */
  epsilonMs: 60_000,
  retries: 2,
  /** `--mesos_task_cpu`, `--mesos_task_mem`, `--mesos_task_disk` */
  cpus: 0.1,
  mem: 128,
  disk: 256,
  /** Chronos retries after a fixed `--failure_retry` of 60 s; we start there and back off. */
  retryBackoff: { initialMs: 60_000, factor: 2, maxMs: 3_600_000 },
  triggerRule: 'all_success',
  history: { successful: 100, failed: 100 },
} as const satisfies Partial<JobDefinition>;
