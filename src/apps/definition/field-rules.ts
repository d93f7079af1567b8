// Rules of an app definition that involve more than one field: what it runs, its resources given its
// container, its strategies. Each reads the fields that passed their own checks (field-parser.ts) and
// skips what is missing, so that one answer lists every problem. Sources: Marathon's
// api/v2/validation/AppValidation.scala and SchedulingValidation.scala, state/UnreachableStrategy.scala.
import { resolveAppId, resolveReference } from './app-id.ts';
import type { AppFields } from './app-schema.ts';
import { APP_DEFAULTS } from './defaults.ts';
import { finding, type Finding } from './problems.ts';
import type { AppContainer, UnreachableStrategy, UpgradeStrategy } from './types.ts';

/** Marathon's label for an app that must never run twice (Apps.LabelSingleInstanceApp). */
const SINGLE_INSTANCE_LABEL = 'MARATHON_SINGLE_INSTANCE_APP';

/** The app's absolute id, or undefined (and a finding) when it has none or a bad one. */
export function idOf(written: string | undefined, base: string, findings: Finding[]): string | undefined {
  if (written === undefined) {
    findings.push(finding(['id'], 'required field is missing'));
    return undefined;
  }
  const resolved = resolveAppId(written, base);
  if ('problem' in resolved) findings.push(finding(['id'], resolved.problem));
  return 'id' in resolved ? resolved.id : undefined;
}

/**
 * cmd or args, not both; neither only when an image brings its own command (containsCmdArgsOrContainer).
 * `imageGiven`: the container names an image, or was written and has problems of its own.
 */
export function commandOf(fields: AppFields, imageGiven: boolean, findings: Finding[]): { cmd: string | null; args: string[] | null } {
  const cmd = fields.cmd ?? null;
  // Marathon reads an empty list as no args (`app.args.nonEmpty`).
  const args = fields.args !== undefined && fields.args.length > 0 ? fields.args : null;
  if (cmd !== null && args !== null) findings.push(finding(['args'], 'give "cmd" (a shell command line) or "args" (an argv), not both'));
  if (cmd === null && args === null && !imageGiven) {
    findings.push(finding(['cmd'], 'an app needs "cmd" (a shell command line), "args" (an argv) or a container image with its own command'));
  }
  return { cmd, args };
}

/** Marathon: "GPU resources only work with the Mesos containerizer" (complyWithGpuRules). */
export function checkGpus(fields: AppFields, container: AppContainer | null, findings: Finding[]): void {
  if ((fields.gpus ?? 0) > 0 && container?.type === 'DOCKER') {
    findings.push(finding(['gpus'], 'GPU resources only work with the Mesos containerizer ("container": {"type": "MESOS"}) or without a container'));
  }
}

export function upgradeStrategyOf(fields: AppFields): UpgradeStrategy {
  const d = APP_DEFAULTS.upgradeStrategy;
  return {
    minimumHealthCapacity: fields.upgradeStrategy?.minimumHealthCapacity ?? d.minimumHealthCapacity,
    maximumOverCapacity: fields.upgradeStrategy?.maximumOverCapacity ?? d.maximumOverCapacity,
  };
}

/** An app labelled single-instance never runs two instances, not even during a deployment (SchedulingValidation). */
export function checkSingleInstance(fields: AppFields, upgrade: UpgradeStrategy, findings: Finding[]): void {
  if (fields.labels?.[SINGLE_INSTANCE_LABEL] !== 'true') return;
  if ((fields.instances ?? APP_DEFAULTS.instances) > 1) findings.push(finding(['instances'], 'Single instance app may only have one instance'));
  if (upgrade.minimumHealthCapacity !== 0 || upgrade.maximumOverCapacity !== 0) {
    findings.push(finding(['upgradeStrategy'], 'a single instance app needs minimumHealthCapacity 0 and maximumOverCapacity 0'));
  }
}

export function unreachableStrategyOf(fields: AppFields, findings: Finding[]): UnreachableStrategy {
  const written = fields.unreachableStrategy;
  if (written === 'disabled') return 'disabled';
  const d = APP_DEFAULTS.unreachableStrategy;
  const strategy = {
    inactiveAfterSeconds: written?.inactiveAfterSeconds ?? d.inactiveAfterSeconds,
    expungeAfterSeconds: written?.expungeAfterSeconds ?? d.expungeAfterSeconds,
  };
  if (strategy.inactiveAfterSeconds > strategy.expungeAfterSeconds) {
    findings.push(
      finding(
        ['unreachableStrategy', 'inactiveAfterSeconds'],
        `inactiveAfterSeconds (${strategy.inactiveAfterSeconds}) must be less or equal to expungeAfterSeconds, which is ${strategy.expungeAfterSeconds}`,
      ),
    );
  }
  return strategy;
}

/** Dependencies as absolute ids, read against `base` as Marathon does (withCanonizedIds); never the app itself. */
export function dependenciesOf(written: readonly string[], base: string, id: string | undefined, findings: Finding[]): string[] {
  const resolved: string[] = [];
  written.forEach((dependency, i) => {
    const ref = resolveReference(dependency, base);
    if ('problem' in ref) findings.push(finding(['dependencies', i], ref.problem));
    else if (ref.id === id) findings.push(finding(['dependencies', i], `an app cannot depend on itself ("${dependency}" is ${id})`));
    else if (!resolved.includes(ref.id)) resolved.push(ref.id);
  });
  return resolved;
}
