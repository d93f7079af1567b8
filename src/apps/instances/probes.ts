// An app's health and readiness checks as the pool's probes (TaskSpec.health, TaskSpec.readiness; run by
// the agent beside the task: cluster/probes/probe-spec.ts). What a check asks that the pool's probes
// cannot do is a gap, named at the check's field; it is refused rather than run as something else.
//
// Kept as Marathon means them: Mesos-level checks (MESOS_*, COMMAND) wait `delaySeconds` before they
// count, so the probe's grace is the longer of the two; Marathon-level ones ignore delaySeconds, as
// Marathon does (health-checks.md). maxConsecutiveFailures 0 ("never kill" for Marathon-level checks) is
// a probe that turns unhealthy at the first failure: whether that kills is the app's decision, read from
// the definition. A try cannot outlast the next (the pool's rule), so a timeout over the interval is cut
// to it. ignoreHttp1xx needs nothing: Node's HTTP client never gives a 1xx answer as final. A COMMAND check
// of a Docker app runs inside its container (docker exec), as Marathon runs it.
import type { TaskSubmission } from '../../cluster/index.ts';
import type { AppDefinition, AppPort, Finding, HealthCheck } from '../definition/index.ts';

export type ProbeInput = NonNullable<TaskSubmission['health']>;

/** The pool's bound on a probe's grace period and interval (cluster/probes/probe-spec.ts). */
const PROBE_MAX_SECONDS = 3600;

const KINDS: Record<HealthCheck['protocol'], ProbeInput['kind']> = {
  HTTP: 'http',
  MESOS_HTTP: 'http',
  TCP: 'tcp',
  MESOS_TCP: 'tcp',
  COMMAND: 'command',
  HTTPS: 'https',
  MESOS_HTTPS: 'https',
};

const MESOS_LEVEL: ReadonlySet<HealthCheck['protocol']> = new Set(['MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP', 'COMMAND']);

/** The health probe, or undefined (none, or a gap reported in `gaps`). */
export function healthProbeOf(app: AppDefinition, ports: readonly AppPort[], gaps: Finding[], notes: string[]): ProbeInput | undefined {
  const [check, ...more] = app.healthChecks;
  if (check === undefined) return undefined;
  if (more.length > 0) {
    gaps.push({ path: ['healthChecks'], message: `the pool runs one health probe per task: keep one of the ${app.healthChecks.length} health checks` });
    return undefined;
  }
  const at = ['healthChecks', 0];
  const kind = KINDS[check.protocol];
  const graceSeconds = MESOS_LEVEL.has(check.protocol) ? Math.max(check.gracePeriodSeconds, check.delaySeconds) : check.gracePeriodSeconds;
  if (!withinProbeBounds(at, graceSeconds, check.intervalSeconds, gaps)) return undefined;
  if (check.timeoutSeconds > check.intervalSeconds) {
    notes.push(`healthChecks[0].timeoutSeconds ${check.timeoutSeconds}: cut to intervalSeconds (${check.intervalSeconds}), one try at a time`);
  }
  const probe: ProbeInput = {
    kind,
    gracePeriodMs: graceSeconds * 1000,
    intervalMs: check.intervalSeconds * 1000,
    timeoutMs: Math.min(check.timeoutSeconds, check.intervalSeconds) * 1000,
    consecutiveFailures: Math.max(1, check.maxConsecutiveFailures),
  };
  if (kind === 'command') return { ...probe, command: check.command! };
  const portIndex = check.port !== null ? ports.findIndex((p) => p.hostPort === check.port) : check.portIndex!;
  if (portIndex < 0) {
    gaps.push({ path: [...at, 'port'], message: `the pool probes one of the task's own ports by index; ${check.port} is not a fixed host port of the app: give "portIndex"` });
    return undefined;
  }
  return { ...probe, portIndex, ...(kind === 'http' || kind === 'https' ? { path: check.path ?? '/' } : {}) };
}

/** The readiness probe, or undefined (none, or a gap reported in `gaps`). */
export function readinessProbeOf(app: AppDefinition, ports: readonly AppPort[], gaps: Finding[], notes: string[]): ProbeInput | undefined {
  const check = app.readinessChecks[0];
  if (check === undefined) return undefined;
  const at = ['readinessChecks', 0];
  if (!withinProbeBounds(at, 0, check.intervalSeconds, gaps)) return undefined;
  if (check.preserveLastResponse) notes.push('readinessChecks[0].preserveLastResponse: the pool keeps no probe answers');
  return {
    kind: check.protocol === 'HTTPS' ? 'https' : 'http',
    portIndex: ports.findIndex((p) => p.name === check.portName),
    path: check.path.startsWith('/') ? check.path : `/${check.path}`,
    statuses: check.httpStatusCodesForReady,
    gracePeriodMs: 0,
    intervalMs: check.intervalSeconds * 1000,
    timeoutMs: Math.min(check.timeoutSeconds, check.intervalSeconds) * 1000,
    consecutiveFailures: 1,
  };
}

function withinProbeBounds(at: Array<string | number>, graceSeconds: number, intervalSeconds: number, gaps: Finding[]): boolean {
  const over = [
    ...(graceSeconds > PROBE_MAX_SECONDS ? [['gracePeriodSeconds', graceSeconds] as const] : []),
    ...(intervalSeconds > PROBE_MAX_SECONDS ? [['intervalSeconds', intervalSeconds] as const] : []),
  ];
  for (const [field, value] of over) gaps.push({ path: [...at, field], message: `${value}: the pool's probes allow at most ${PROBE_MAX_SECONDS} seconds` });
  return over.length === 0;
}
