// An app's network and ports in Marathon's canonical form: one network (host, container/bridge, or a
// container network by name), the container, and either portDefinitions (host) or
// container.portMappings (the others), deprecated spellings moved to their successors and defaults
// filled in, as Marathon's AppNormalization does
// (api/v2/AppNormalization.scala: NetworkTranslation, migrateDockerPortMappings, applyDefaultPortDefinitions,
// applyDefaultPortMappings, NetworkedContainer; rules from api/v2/validation/AppValidation.scala).
import { APP_DEFAULTS, DEFAULT_PORT_DEFINITION, DEFAULT_PORT_MAPPING } from './defaults.ts';
import type { AppFields } from './app-schema.ts';
import { finding, type Finding } from './problems.ts';
import { REFUSED } from './refusals.ts';
import type { AppContainer, AppDefinition, AppNetwork, AppPort, NetworkMode, PortDefinition, PortMapping } from './types.ts';

export interface AppNetworking {
  container: AppContainer | null;
  networks: [AppNetwork];
  portDefinitions: PortDefinition[];
  requirePorts: boolean;
}

type WrittenMapping = NonNullable<NonNullable<AppFields['container']>['portMappings']>[number];

/** `networksFailed`: `networks` was written with problems of its own: no mode to judge the ports by. */
export function networkingOf(fields: AppFields, findings: Finding[], networksFailed = false): AppNetworking {
  const network = networkOf(fields, findings);
  const { mode } = network;
  const container = containerOf(fields, network, findings, networksFailed);
  const portDefinitions = mode === 'host' ? portDefinitionsOf(fields, findings) : bridgedPortDefinitions(fields, container, findings);
  return {
    container,
    networks: [network],
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

function networkOf(fields: AppFields, findings: Finding[]): AppNetwork {
  const dockerNetwork = fields.container?.docker?.network;
  const networks = fields.networks ?? [];
  if (dockerNetwork !== undefined && networks.length > 0) {
    findings.push(finding(['container', 'docker', 'network'], 'must not specify both container.docker.network and networks'));
  }
  if (networks.length > 1) findings.push(finding(['networks'], `an app has one network, host, container/bridge or a container network (got ${networks.length})`));
  const written = networks[0];
  if (written !== undefined) {
    // Marathon's default mode is "container"; the schema made sure such a network has a name.
    if (written.mode === 'host' || written.mode === 'container/bridge') return { mode: written.mode };
    if (written.name !== undefined) return { mode: 'container', name: written.name };
  }
  if (dockerNetwork === 'BRIDGE') return { mode: 'container/bridge' };
  if (dockerNetwork === 'NONE') findings.push(finding(['container', 'docker', 'network'], REFUSED.dockerNetworkNone));
  if (dockerNetwork === 'USER') findings.push(finding(['container', 'docker', 'network'], REFUSED.dockerNetworkUser));
  return { mode: APP_DEFAULTS.network };
}

function containerOf(fields: AppFields, network: AppNetwork, findings: Finding[], networksFailed: boolean): AppContainer | null {
  const c = fields.container;
  // Marathon gives a bridged app without a container an empty MESOS one (NetworkedContainer.maybeDefaultContainer).
  if (c === undefined && network.mode === 'host') return null;
  const type = c?.type ?? (c === undefined ? 'MESOS' : APP_DEFAULTS.containerType);
  if (type === 'DOCKER' && c?.docker === undefined) findings.push(finding(['container', 'docker'], 'a DOCKER container needs "docker": {"image": ...}'));
  const docker = c?.docker ? { image: c.docker.image, forcePullImage: c.docker.forcePullImage ?? false } : null;
  return { type, docker, portMappings: portMappingsOf(fields, network, findings, networksFailed) };
}

function portMappingsOf(fields: AppFields, network: AppNetwork, findings: Finding[], networksFailed: boolean): PortMapping[] {
  const { mode } = network;
  const canonical = fields.container?.portMappings;
  const deprecated = fields.container?.docker?.portMappings;
  if ((canonical ?? []).length > 0 && (deprecated ?? []).length > 0) {
    findings.push(finding(['container', 'docker', 'portMappings'], 'cannot specify both portMappings and docker.portMappings'));
  }
  const written = (canonical ?? []).length > 0 ? canonical! : (deprecated ?? canonical);
  const at: Array<string | number> = written === deprecated && deprecated !== undefined ? ['container', 'docker', 'portMappings'] : ['container', 'portMappings'];
  if (mode === 'host') {
    if ((written ?? []).length > 0 && !networksFailed) findings.push(finding(at, 'portMappings are not allowed with host networking: use portDefinitions'));
    return [];
  }
  const mappings = written === undefined ? [{ ...DEFAULT_PORT_MAPPING, hostPort: mode === 'container' ? null : 0 }] : written.map((m) => mappingFrom(m, mode));
  checkUnique(mappings.map((m) => m.name), at, 'name', 'Port names must be unique.', findings);
  checkUnique(mappings.map((m) => (m.hostPort === 0 ? null : m.hostPort)), at, 'hostPort', 'the same host port is asked for twice', findings);
  (written ?? []).forEach((m, i) => {
    const others = (m.networkNames ?? []).filter((name) => network.mode !== 'container' || name !== network.name);
    if (others.length > 0) findings.push(finding([...at, i, 'networkNames'], `${REFUSED.networkNames} (${network.mode === 'container' ? `"${network.name}"` : `mode "${mode}" names none`})`));
  });
  return mappings;
}

function mappingFrom(m: WrittenMapping, mode: NetworkMode): PortMapping {
  return {
    containerPort: m.containerPort ?? 0,
    // "In BRIDGE mode it defaults to 0 if left unspecified. In USER mode an unspecified hostPort does not
    // allocate a port" (appContainer.raml): null, published on the agent's loopback only (PortMapping).
    hostPort: m.hostPort ?? (mode === 'container' ? null : 0),
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
