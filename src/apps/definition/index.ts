// App and group definitions (Marathon's JSON, or YAML): pure code, no store, no HTTP.
export { MAX_APP_ID_LENGTH, ROOT_ID, absoluteId, isWithin, parentId, resolveAppId } from './app-id.ts';
export { MARATHON_OUTPUT_FIELDS } from './app-schema.ts';
export { APP_DEFAULTS, HEALTH_CHECK_DEFAULTS, READINESS_CHECK_DEFAULTS } from './defaults.ts';
export { checkAppDefinition, parseAppDefinition, type ParseOptions } from './definition.ts';
export { checkAppDependencies } from './dependency-check.ts';
export { dependencyCycles, startOrder, stopOrder, type DependencyNode } from './dependency-order.ts';
export { groupDependencyNodes, groupStartOrder, groupStopOrder, parseGroupDefinition, type GroupDefinition, type GroupParseOptions } from './group.ts';
export { appPorts } from './ports.ts';
export { AppDefinitionInvalid, marathonPath, problemsOf, type AppProblem, type FieldPath, type Finding } from './problems.ts';
export { REFUSED } from './refusals.ts';
export { parseAppYaml, parseDeployFile, parseGroupYaml, type YamlOptions } from './yaml-definition.ts';
export type {
  AppContainer,
  AppDefinition,
  AppNetwork,
  AppPort,
  AppSource,
  HealthCheck,
  HealthCheckProtocol,
  KillSelection,
  NetworkMode,
  PortDefinition,
  PortMapping,
  PortProtocol,
  ReadinessCheck,
  TaskConstraint,
  UnreachableStrategy,
  UpgradeStrategy,
} from './types.ts';
