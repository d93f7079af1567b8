// An app's network and ports in Marathon's canonical form: one network (host, or container/bridge), the
// container, and either portDefinitions (host) or container.portMappings (bridge), deprecated spellings
// moved to their successors and defaults filled in, as Marathon's AppNormalization does
// (api/v2/AppNormalization.scala: NetworkTranslation, migrateDockerPortMappings, applyDefaultPortDefinitions,
// applyDefaultPortMappings, NetworkedContainer; rules from api/v2/validation/AppValidation.scala).
import { APP_DEFAULTS, DEFAULT_PORT_DEFINITION, DEFAULT_PORT_MAPPING } from './defaults.ts';
import type { AppFields } from './app-schema.ts';
import { finding, type Finding } from './problems.ts';
import { REFUSED } from './refusals.ts';
import type { AppContainer, AppDefinition, AppPort, NetworkMode, PortDefinition, PortMapping } from './types.ts';

export interface AppNetworking {
  container: AppContainer | null;
  networks: [{ mode: NetworkMode }];
  portDefinitions: PortDefinition[];
  requirePorts: boolean;
}

type WrittenMapping = NonNullable<NonNullable<AppFields['container']>['portMappings']>[number];

export function networkingOf(fields: AppFields, findings: Finding[]): AppNetworking {
  const mode = networkModeOf(fields, findings);
  const container = containerOf(fields, mode, findings);
  const portDefinitions = mode === 'host' ? portDefinitionsOf(fields, findings) : bridgedPortDefinitions(fields, container, findings);
  return {
    container,
    networks: [{ mode }],
    portDefinitions,
    // Marathon: "requirePorts only applies for host-mode networking" (AppNormalization.forPostValidation).
    requirePorts: mode === 'host' ? (fields.requirePorts ?? APP_DEFAULTS.requirePorts) : false,
  };
}

/** The app's ports in order (PORT0, PORT1, ...), whichever way they were declared (AppValidation.portIndices). */
export function appPorts(app: Pick<AppDefinition, 'container' | 'portDefinitions' | 'requirePorts'>): AppPort[] {
  const mappings = app.container?.portMappings ?? [];
  if (mappings.length > 0) {
    return mappings.map((m) => ({ name: m.name, protocol: m.protocol, hostPort: m.hostPort, containerPort: m.containerPort }));
  }
  // Without requirePorts a definition's number is a service port, and the host port any free one.
  return app.portDefinitions.map((d) => ({ name: d.name, protocol: d.protocol, hostPort: app.requirePorts ? d.port : 0, containerPort: null }));
}

function networkModeOf(fields: AppFields, findings: Finding[]): NetworkMode {
  const dockerNetwork = fields.container?.docker?.network;
  const networks = fields.networks ?? [];
  if (dockerNetwork !== undefined && networks.length > 0) {
    findings.push(finding(['container', 'docker', 'network'], 'must not specify both container.docker.network and networks'));
  }
  if (networks.length > 1) findings.push(finding(['networks'], `an app has one network, host or container/bridge (got ${networks.length})`));
  const written = networks[0]?.mode;
  if (written === 'host' || written === 'container/bridge') return written;
  if (dockerNetwork === 'BRIDGE') return 'container/bridge';
  if (dockerNetwork === 'NONE') findings.push(finding(['container', 'docker', 'network'], REFUSED.dockerNetworkNone));
  if (dockerNetwork === 'USER') findings.push(finding(['container', 'docker', 'network'], REFUSED.dockerNetworkUser));
  return APP_DEFAULTS.network;
}

function containerOf(fields: AppFields, mode: NetworkMode, findings: Finding[]): AppContainer | null {
  const c = fields.container;
  // Marathon gives a bridged app without a container an empty MESOS one (NetworkedContainer.maybeDefaultContainer).
  if (c === undefined && mode === 'host') return null;
  const type = c?.type ?? (c === undefined ? 'MESOS' : APP_DEFAULTS.containerType);
  if (type === 'DOCKER' && c?.docker === undefined) findings.push(finding(['container', 'docker'], 'a DOCKER container needs "docker": {"image": ...}'));
  const docker = c?.docker ? { image: c.docker.image, forcePullImage: c.docker.forcePullImage ?? false } : null;
  return { type, docker, portMappings: portMappingsOf(fields, mode, findings) };
}

function portMappingsOf(fields: AppFields, mode: NetworkMode, findings: Finding[]): PortMapping[] {
  const canonical = fields.container?.portMappings;
  const deprecated = fields.container?.docker?.portMappings;
  if ((canonical ?? []).length > 0 && (deprecated ?? []).length > 0) {
    findings.push(finding(['container', 'docker', 'portMappings'], 'cannot specify both portMappings and docker.portMappings'));
  }
  const written = (canonical ?? []).length > 0 ? canonical! : (deprecated ?? canonical);
  const at: Array<string | number> = written === deprecated && deprecated !== undefined ? ['container', 'docker', 'portMappings'] : ['container', 'portMappings'];
  if (mode === 'host') {
    if ((written ?? []).length > 0) findings.push(finding(at, 'portMappings are not allowed with host networking: use portDefinitions'));
    return [];
  }
  const mappings = written === undefined ? [{ ...DEFAULT_PORT_MAPPING }] : written.map(mappingFrom);
  checkUnique(mappings.map((m) => m.name), at, 'name', 'Port names must be unique.', findings);
  checkUnique(mappings.map((m) => (m.hostPort === 0 ? null : m.hostPort)), at, 'hostPort', 'the same host port is asked for twice', findings);
  return mappings;
}

function mappingFrom(m: WrittenMapping): PortMapping {
  return {
    containerPort: m.containerPort ?? 0,
    // "In BRIDGE mode it defaults to 0 if left unspecified" (appContainer.raml).
    hostPort: m.hostPort ?? 0,
    servicePort: m.servicePort ?? 0,
    protocol: m.protocol ?? 'tcp',
    name: m.name ?? null,
    labels: m.labels ?? {},
  };
}

function portDefinitionsOf(fields: AppFields, findings: Finding[]): PortDefinition[] {
  const { portDefinitions: written, ports } = fields;
  if (written !== undefined && ports !== undefined && JSON.stringify(written.map((d) => d.port ?? 0)) !== JSON.stringify(ports)) {
    findings.push(finding(['ports'], 'cannot specify both ports and port definitions'));
  }
  const definitions: PortDefinition[] =
    written?.map((d) => ({ port: d.port ?? 0, protocol: d.protocol ?? 'tcp', name: d.name ?? null, labels: d.labels ?? {} })) ??
    ports?.map((port) => ({ port, protocol: 'tcp', name: null, labels: {} })) ??
    [{ ...DEFAULT_PORT_DEFINITION }];
  const at = written !== undefined ? ['portDefinitions'] : ['ports'];
  checkUnique(definitions.map((d) => d.name), at, 'name', 'Port names must be unique.', findings);
  checkUnique(definitions.map((d) => (d.port === 0 ? null : d.port)), at, 'port', 'Ports must be unique.', findings);
  return definitions;
}

/**
 * With bridge networking ports are portMappings. Marathon's older exports also list their service ports
 * in the deprecated `ports`: that is accepted and dropped, as Marathon drops it; `portDefinitions`
 * are refused, since their numbers would silently mean nothing.
 */
function bridgedPortDefinitions(fields: AppFields, container: AppContainer | null, findings: Finding[]): PortDefinition[] {
  if ((fields.portDefinitions ?? []).length > 0) {
    findings.push(finding(['portDefinitions'], 'portDefinitions are only allowed with host networking: use container.portMappings'));
  }
  const mappings = container?.portMappings.length ?? 0;
  if ((fields.ports ?? []).length > mappings) {
    findings.push(finding(['ports'], `ports (deprecated) lists ${fields.ports!.length} ports but the container maps ${mappings}: give each as a container.portMappings entry`));
  }
  return [];
}

/** Each non-null value at most once; the second one is reported at its own index. */
function checkUnique(values: ReadonlyArray<string | number | null>, at: Array<string | number>, field: string, message: string, findings: Finding[]): void {
  const seen = new Set<string | number>();
  values.forEach((value, i) => {
    if (value === null) return;
    if (seen.has(value)) findings.push(finding([...at, i, field], `${message} ("${value}" again)`));
    seen.add(value);
  });
}
