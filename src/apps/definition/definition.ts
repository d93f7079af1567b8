// An app's definition: Marathon app JSON accepted unchanged (as POSTed to /v2/apps, or exported by its
// GET and posted back), validated all at once with every field at fault named, and read into Marathon's
// canonical form with its defaults (types.ts). The JSON as given is kept beside it as `source`.
import { ROOT_ID } from './app-id.ts';
import { APP_FIELDS, MARATHON_OUTPUT_FIELDS, type AppFields } from './app-schema.ts';
import { healthChecksOf, readinessChecksOf } from './checks.ts';
import { APP_DEFAULTS } from './defaults.ts';
import { parseFields, readObject } from './field-parser.ts';
import { checkGpus, checkSingleInstance, commandOf, dependenciesOf, idOf, unreachableStrategyOf, upgradeStrategyOf } from './field-rules.ts';
import { appPorts, networkingOf } from './ports.ts';
import { AppDefinitionInvalid, finding, problemsOf, subjectOf, type Finding } from './problems.ts';
import type { AppDefinition } from './types.ts';

export interface ParseOptions {
  /**
   * The group the app is read in: its relative id and dependencies are resolved against it. `/` for an
   * app posted to /v2/apps (Marathon: AppsResource, `withCanonizedIds()`); a group's id for its apps.
   */
  base?: string;
}

/** Validates an app definition (parsed JSON); throws AppDefinitionInvalid naming every field at fault. */
export function parseAppDefinition(json: unknown, options: ParseOptions = {}): AppDefinition {
  const { app, findings } = checkAppDefinition(json, options);
  if (app === undefined) throw new AppDefinitionInvalid(subjectOf('app', json), problemsOf(findings));
  return app;
}

/**
 * The app, or the findings against it with paths from its top (groups prefix them, YAML turns them into
 * lines). Never throws for bad input.
 */
export function checkAppDefinition(json: unknown, options: ParseOptions = {}): { app?: AppDefinition; findings: Finding[] } {
  const read = readObject(json, 'an app definition', MARATHON_OUTPUT_FIELDS);
  if ('problem' in read) return { findings: [finding([], read.problem)] };
  const { source, raw } = read;
  const { data: fields, findings } = parseFields(APP_FIELDS, raw);
  /** A field that was written but has problems of its own: rules that read it are skipped, not misled. */
  const failed = (name: keyof AppFields): boolean => raw[name] !== undefined && fields[name] === undefined;
  const base = options.base ?? ROOT_ID;

  const id = failed('id') ? undefined : idOf(fields.id, base, findings);
  const networking = networkingOf(fields, findings, failed('networks'));
  const portsKnown = !(['container', 'networks', 'portDefinitions', 'ports', 'requirePorts'] as const).some(failed);
  const ports = portsKnown ? appPorts(networking) : null;
  const healthChecks = healthChecksOf(fields.healthChecks ?? [], ports, findings);
  const readinessChecks = readinessChecksOf(fields.readinessChecks ?? [], ports, findings);
  const { cmd, args } = commandOf(fields, networking.container?.docker != null || failed('container'), findings);
  checkGpus(fields, networking.container, findings);
  const upgradeStrategy = upgradeStrategyOf(fields);
  checkSingleInstance(fields, upgradeStrategy, findings);
  const unreachableStrategy = unreachableStrategyOf(fields, findings);
  const dependencies = dependenciesOf(fields.dependencies ?? [], base, id, findings);
  if (findings.length > 0 || id === undefined) return { findings };

  const app: AppDefinition = {
    id,
    source,
    cmd,
    args,
    user: fields.user ?? null,
    env: fields.env ?? {},
    instances: fields.instances ?? APP_DEFAULTS.instances,
    cpus: fields.cpus ?? APP_DEFAULTS.cpus,
    mem: fields.mem ?? APP_DEFAULTS.mem,
    disk: fields.disk ?? APP_DEFAULTS.disk,
    gpus: fields.gpus ?? APP_DEFAULTS.gpus,
    ...networking,
    healthChecks,
    readinessChecks,
    constraints: fields.constraints ?? [],
    labels: fields.labels ?? {},
    dependencies,
    upgradeStrategy,
    backoffSeconds: fields.backoffSeconds ?? APP_DEFAULTS.backoffSeconds,
    backoffFactor: fields.backoffFactor ?? APP_DEFAULTS.backoffFactor,
    maxLaunchDelaySeconds: fields.maxLaunchDelaySeconds ?? APP_DEFAULTS.maxLaunchDelaySeconds,
    killSelection: fields.killSelection ?? APP_DEFAULTS.killSelection,
    taskKillGracePeriodSeconds: fields.taskKillGracePeriodSeconds ?? null,
    unreachableStrategy,
  };
  return { app, findings: [] };
}
