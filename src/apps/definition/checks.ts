// Health and readiness checks with Marathon's defaults and its rules between a check and the app's
// ports: a port check needs a port of the app (portIndex in range, or `port`); a readiness check names
// one of the app's ports. Sources: api/v2/AppNormalization.scala (normalizeHealthChecks: portIndex 0
// when none is given), api/v2/validation/AppValidation.scala (portIndexIsValid, haveAtMostOneMesosHealthCheck,
// readinessCheckValidator, complyWithReadinessCheckRules).
import type { AppFields } from './app-schema.ts';
import { HEALTH_CHECK_DEFAULTS, READINESS_CHECK_DEFAULTS } from './defaults.ts';
import { finding, type Finding } from './problems.ts';
import type { AppPort, HealthCheck, HealthCheckProtocol, ReadinessCheck } from './types.ts';

type WrittenHealthCheck = NonNullable<AppFields['healthChecks']>[number];
type WrittenReadinessCheck = NonNullable<AppFields['readinessChecks']>[number];

const HTTP_KINDS: ReadonlySet<HealthCheckProtocol> = new Set(['HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS']);
const MESOS_PORT_KINDS: ReadonlySet<HealthCheckProtocol> = new Set(['MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP']);

/** `ports`: the app's ports, or null when they have problems of their own (then no check's port is judged). */
export function healthChecksOf(written: readonly WrittenHealthCheck[], ports: readonly AppPort[] | null, findings: Finding[]): HealthCheck[] {
  const checks = written.map((check, i) => healthCheckFrom(check, ['healthChecks', i], ports, findings));
  if (checks.filter((c) => MESOS_PORT_KINDS.has(c.protocol)).length > 1) {
    findings.push(finding(['healthChecks'], 'AppDefinition can contain at most one Mesos health check (MESOS_HTTP, MESOS_HTTPS, MESOS_TCP)'));
  }
  return checks;
}

function healthCheckFrom(check: WrittenHealthCheck, at: Array<string | number>, ports: readonly AppPort[] | null, findings: Finding[]): HealthCheck {
  const d = HEALTH_CHECK_DEFAULTS;
  const protocol = check.protocol ?? d.protocol;
  const isCommand = protocol === 'COMMAND';
  if (isCommand && check.command === undefined) findings.push(finding([...at, 'command'], 'a COMMAND health check needs "command": {"value": "..."}'));
  if (!isCommand && check.command !== undefined) findings.push(finding([...at, 'command'], `only a COMMAND health check runs a command (this one is ${protocol})`));
  const written = check.path ?? '/';
  return {
    protocol,
    path: HTTP_KINDS.has(protocol) ? (written.startsWith('/') ? written : `/${written}`) : null,
    ...(isCommand ? { portIndex: null, port: null } : portOf(check, at, ports, findings)),
    command: isCommand ? (check.command?.value ?? null) : null,
    gracePeriodSeconds: check.gracePeriodSeconds ?? d.gracePeriodSeconds,
    intervalSeconds: check.intervalSeconds ?? d.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds ?? d.timeoutSeconds,
    maxConsecutiveFailures: check.maxConsecutiveFailures ?? d.maxConsecutiveFailures,
    delaySeconds: check.delaySeconds ?? d.delaySeconds,
    ignoreHttp1xx: check.ignoreHttp1xx ?? d.ignoreHttp1xx,
  };
}

/** `port` wins over `portIndex` (health-checks.md); neither is portIndex 0 when the app has a port. */
function portOf(check: WrittenHealthCheck, at: Array<string | number>, ports: readonly AppPort[] | null, findings: Finding[]): Pick<HealthCheck, 'portIndex' | 'port'> {
  if (check.port !== undefined) return { port: check.port, portIndex: check.portIndex ?? null };
  const portIndex = check.portIndex ?? 0;
  if (ports !== null && portIndex >= ports.length) {
    const has = ports.length === 0 ? 'the app has no ports' : `the app has ${ports.length} (${ports.length === 1 ? 'index 0' : `indexes 0..${ports.length - 1}`})`;
    const where = check.portIndex === undefined ? at : [...at, 'portIndex'];
    findings.push(finding(where, `Health check port indices must address an element of the ports array or container port mappings: ${check.portIndex === undefined ? 'no portIndex nor port given and' : `portIndex ${portIndex}:`} ${has}`));
  }
  return { portIndex, port: null };
}

export function readinessChecksOf(written: readonly WrittenReadinessCheck[], ports: readonly AppPort[] | null, findings: Finding[]): ReadinessCheck[] {
  if (written.length > 1) findings.push(finding(['readinessChecks'], `an app has at most one readiness check, as in Marathon (got ${written.length})`));
  const names = ports?.flatMap((p) => (p.name === null ? [] : [p.name])) ?? null;
  return written.map((check, i) => {
    const d = READINESS_CHECK_DEFAULTS;
    const at = ['readinessChecks', i];
    const ready: ReadinessCheck = {
      name: check.name ?? d.name,
      protocol: check.protocol ?? d.protocol,
      path: check.path ?? d.path,
      portName: check.portName ?? d.portName,
      intervalSeconds: check.intervalSeconds ?? d.intervalSeconds,
      timeoutSeconds: check.timeoutSeconds ?? d.timeoutSeconds,
      httpStatusCodesForReady: check.httpStatusCodesForReady ?? [...d.httpStatusCodesForReady],
      preserveLastResponse: check.preserveLastResponse ?? d.preserveLastResponse,
    };
    if (names !== null && !names.includes(ready.portName)) {
      const named = names.length === 0 ? 'the app\'s ports have no names' : `the app's ports are named ${names.map((n) => `"${n}"`).join(', ')}`;
      findings.push(finding([...at, 'portName'], `No port definition reference for portName ${ready.portName} (${named})`));
    }
    if (ready.timeoutSeconds >= ready.intervalSeconds) {
      findings.push(finding([...at, 'timeoutSeconds'], `must be less than intervalSeconds (${ready.timeoutSeconds} >= ${ready.intervalSeconds})`));
    }
    return ready;
  });
}
