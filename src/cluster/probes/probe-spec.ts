// Health and readiness probes as a task asks for them (TaskSpec.health, TaskSpec.readiness), after
// Marathon's healthChecks/readinessChecks and Kubernetes' probes: what to try (an HTTP GET on one of
// the task's ports, a TCP connection, a command), how often, how long to wait, and how many failures
// in a row count. Validated at submission with errors that name the field; the agent runs them.
import { z } from 'zod';

export const PROBE_KINDS = ['http', 'https', 'tcp', 'command'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export interface ProbeSpec {
  /**
   * http: GET http://HOST:PORT{path} answers 2xx or 3xx (or one of `statuses`); https: the same over TLS,
   * the certificate not checked (a task's own, often self-signed: Marathon does not check it either);
   * tcp: a connection opens; command: `sh -c` exits 0.
   */
  kind: ProbeKind;
  /** http, https, tcp: which of the task's ports (its index in TaskSpec.ports: PORT0, PORT1, ...). */
  portIndex?: number;
  /** http, https: the path asked for, from `/`. */
  path?: string;
  /** http, https: the statuses that pass (Marathon's httpStatusCodesForReady); absent: 200-399. */
  statuses?: number[];
  /** command: a shell command line, run beside the task (its working directory, its environment). */
  command?: string;
  /** After the task starts, failures do not count for this long (health; readiness has none). */
  gracePeriodMs: number;
  /** Time from one try's start to the next's. */
  intervalMs: number;
  /** A try that takes longer fails. At most intervalMs. */
  timeoutMs: number;
  /** Failures in a row that make the task unhealthy (health) or not ready (readiness). */
  consecutiveFailures: number;
}

export const PROBE_DEFAULTS = {
  health: { gracePeriodMs: 30_000, intervalMs: 10_000, timeoutMs: 5_000, consecutiveFailures: 3 },
  readiness: { gracePeriodMs: 0, intervalMs: 5_000, timeoutMs: 5_000, consecutiveFailures: 1 },
} as const;

const HOUR_MS = 3_600_000;

export const probeInputSchema = z
  .object({
    kind: z.enum(PROBE_KINDS),
    portIndex: z.number().int().min(0).max(99).optional(),
    path: z.string().startsWith('/', 'an HTTP probe\'s path starts with /').max(2048).optional(),
    statuses: z.array(z.number().int().min(100).max(599)).min(1).max(100).optional(),
    command: z.string().min(1).max(4096).optional(),
    gracePeriodMs: z.number().int().min(0).max(HOUR_MS).optional(),
    intervalMs: z.number().int().min(100, 'at least 100 ms').max(HOUR_MS).optional(),
    timeoutMs: z.number().int().min(50, 'at least 50 ms').max(HOUR_MS).optional(),
    consecutiveFailures: z.number().int().min(1).max(100).optional(),
  })
  .strict();

export type ProbeInput = z.infer<typeof probeInputSchema>;

/**
 * A probe with its defaults filled in, or the problems with it, each naming the field (`health.portIndex:
 * the task has 1 port (PORT0)`). `ports`: how many ports the task asks for.
 */
export function probeSpec(which: 'health' | 'readiness', input: ProbeInput, ports: number): ProbeSpec | string[] {
  const problems: string[] = [];
  const defaults = PROBE_DEFAULTS[which];
  const spec: ProbeSpec = {
    kind: input.kind,
    gracePeriodMs: input.gracePeriodMs ?? defaults.gracePeriodMs,
    intervalMs: input.intervalMs ?? defaults.intervalMs,
    timeoutMs: input.timeoutMs ?? Math.min(defaults.timeoutMs, input.intervalMs ?? defaults.intervalMs),
    consecutiveFailures: input.consecutiveFailures ?? defaults.consecutiveFailures,
  };
  if (spec.timeoutMs > spec.intervalMs) problems.push(`${which}.timeoutMs: ${spec.timeoutMs} is longer than intervalMs (${spec.intervalMs}): one try at a time`);
  if (input.kind === 'command') {
    if (input.command === undefined) problems.push(`${which}.command: a command probe needs the command to run`);
    else spec.command = input.command;
    for (const field of ['portIndex', 'path', 'statuses'] as const) if (input[field] !== undefined) problems.push(`${which}.${field}: a command probe has no ${field}`);
    return problems.length > 0 ? problems : spec;
  }
  if (input.command !== undefined) problems.push(`${which}.command: only a command probe runs a command`);
  if (input.kind === 'tcp' && input.path !== undefined) problems.push(`${which}.path: a tcp probe has no path`);
  if (input.kind === 'tcp' && input.statuses !== undefined) problems.push(`${which}.statuses: a tcp probe has no status`);
  const portIndex = input.portIndex ?? 0;
  if (portIndex >= ports) {
    const have = ports === 0 ? 'the task asks for no port (add one to "ports")' : `the task has ${ports} ${ports === 1 ? 'port (PORT0)' : `ports (PORT0..PORT${ports - 1})`}`;
    problems.push(`${which}.portIndex: ${portIndex} is not one of its ports: ${have}`);
  }
  spec.portIndex = portIndex;
  if (input.kind === 'http' || input.kind === 'https') {
    spec.path = input.path ?? '/';
    if (input.statuses !== undefined) spec.statuses = [...new Set(input.statuses)];
  }
  return problems.length > 0 ? problems : spec;
}
