// Marathon's defaults, so that an app posted here behaves as it did there. Sources (mesosphere/marathon):
// docs/docs/rest-api/public/api/v2/types/app.raml (cpus 1, mem 128, disk 0, gpus 0, instances 1,
// backoffSeconds 1, backoffFactor 1.15, maxLaunchDelaySeconds 300, requirePorts false, killSelection),
// healthCheck.raml and core/health/HealthCheck.scala (300 s grace, 60 s interval, 20 s timeout, 3
// failures, 15 s delay), readinessCheck.raml and core/readiness/ReadinessCheck.scala ([200]),
// state/UpgradeStrategy.scala (UpgradeStrategy.empty: 1 and 1), state/UnreachableStrategy.scala
// (UnreachableEnabled.default: 0 s and 0 s), raml/Apps.scala (the host network, one port named
// "default"). maxLaunchDelaySeconds was 3600 before Marathon 1.5 (older docs); 300 is today's.
import type { HealthCheck, PortDefinition, PortMapping, ReadinessCheck } from './types.ts';

export const APP_DEFAULTS = {
  instances: 1,
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  requirePorts: false,
  killSelection: 'YOUNGEST_FIRST',
  upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
  unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
  network: 'host',
  containerType: 'DOCKER',
} as const;

/** An app with host networking and no `portDefinitions` gets one port, any free one (Apps.DefaultPortDefinitions). */
export const DEFAULT_PORT_DEFINITION: Readonly<PortDefinition> = { port: 0, protocol: 'tcp', name: 'default', labels: {} };

/** An app on container/bridge without `portMappings` gets one mapping (Apps.DefaultPortMappings). */
export const DEFAULT_PORT_MAPPING: Readonly<PortMapping> = { containerPort: 0, hostPort: 0, servicePort: 0, protocol: 'tcp', name: 'default', labels: {} };

export const HEALTH_CHECK_DEFAULTS = {
  protocol: 'HTTP',
  gracePeriodSeconds: 300,
  intervalSeconds: 60,
  timeoutSeconds: 20,
  maxConsecutiveFailures: 3,
  delaySeconds: 15,
  ignoreHttp1xx: false,
} as const satisfies Partial<HealthCheck>;

export const READINESS_CHECK_DEFAULTS = {
  name: 'readinessCheck',
  protocol: 'HTTP',
  path: '/',
  portName: 'http-api',
  intervalSeconds: 30,
  timeoutSeconds: 10,
  httpStatusCodesForReady: [200],
  preserveLastResponse: false,
} as const satisfies Partial<ReadinessCheck> & { httpStatusCodesForReady: readonly number[] };
