// A group (`/v2/groups`): a tree of apps deployed together. Ids are read against the group that holds
// them, as Marathon's GroupConversion and GroupNormalization do; every app and group sits directly in
// the group that lists it (Group.validGroup: isChildOfParentId, "Group has to be child of groups with
// parent id"); no id is used twice; every dependency names an app or group of the tree or one that
// already exists (Marathon ignores unknown ones; a typo would leave an app waiting for nothing); and the
// dependencies form no cycle (RootGroup.noCyclicDependencies), which is named.
import { parentId, resolveGroupId, resolveReference, ROOT_ID } from './app-id.ts';
import { GROUP_FIELDS, MARATHON_GROUP_OUTPUT_FIELDS } from './app-schema.ts';
import { checkAppDefinition } from './definition.ts';
import { isKnownDependency, unknownDependency, withExisting } from './dependency-check.ts';
import { dependencyCycles, describeCycle, startOrder, stopOrder, type DependencyNode } from './dependency-order.ts';
import { parseFields, readObject } from './field-parser.ts';
import { AppDefinitionInvalid, finding, marathonPath, problemsOf, subjectOf, type FieldPath, type Finding } from './problems.ts';
import type { AppDefinition } from './types.ts';

export interface GroupDefinition {
  /** Absolute: `/prod`; `/` for the root group. */
  id: string;
  apps: AppDefinition[];
  groups: GroupDefinition[];
  /** Absolute ids of apps or groups every app of this group waits for. */
  dependencies: string[];
}

export interface GroupParseOptions {
  /** The group a relative top-level id is read against; `/` by default. */
  base?: string;
  /**
   * Apps deployed already: dependencies may name them (or groups holding them), and a cycle through them
   * is refused too. An app of the tree replaces the deployed app with its id.
   */
  existingApps?: readonly DependencyNode[];
}

/** Validates a group definition (parsed JSON); throws AppDefinitionInvalid naming every field at fault. */
export function parseGroupDefinition(json: unknown, options: GroupParseOptions = {}): GroupDefinition {
  const { group, findings } = checkGroupDefinition(json, options);
  if (group === undefined) throw new AppDefinitionInvalid(subjectOf('group', json), problemsOf(findings));
  return group;
}

/** Every app of the tree with the dependencies of the groups holding it added: what start and stop order read. */
export function groupDependencyNodes(group: GroupDefinition, inherited: readonly string[] = []): DependencyNode[] {
  const dependencies = [...inherited, ...group.dependencies];
  return [
    ...group.apps.map((app) => ({ id: app.id, dependencies: [...new Set([...dependencies, ...app.dependencies])] })),
    ...group.groups.flatMap((child) => groupDependencyNodes(child, dependencies)),
  ];
}

/** The tree's apps in waves to start: dependencies first. */
export function groupStartOrder(group: GroupDefinition): string[][] {
  return startOrder(groupDependencyNodes(group));
}

/** The tree's apps in waves to stop: dependents first. */
export function groupStopOrder(group: GroupDefinition): string[][] {
  return stopOrder(groupDependencyNodes(group));
}

interface Placed {
  id: string;
  kind: 'app' | 'group';
  at: FieldPath;
}

/** A dependency as written, where it was written, and the group it is read against. */
interface Reference {
  at: FieldPath;
  written: string;
  base: string;
}

interface Walk {
  findings: Finding[];
  placed: Placed[];
  references: Reference[];
  /** Where each app was written, to report a cycle at its `dependencies`. */
  appPaths: Map<string, FieldPath>;
}

/** The group, or the findings against it with paths from its top. Never throws for bad input. */
export function checkGroupDefinition(json: unknown, options: GroupParseOptions = {}): { group?: GroupDefinition; findings: Finding[] } {
  const walk: Walk = { findings: [], placed: [], references: [], appPaths: new Map() };
  const group = readGroup(json, [], null, options.base ?? ROOT_ID, walk);
  const existing = options.existingApps ?? [];
  checkDuplicates(walk);
  checkReferences(walk, existing);
  // Apps with problems of their own are left out of the tree; a cycle among the others is still a cycle.
  if (group !== undefined) {
    for (const cycle of dependencyCycles(withExisting(groupDependencyNodes(group), existing))) {
      // Reported on the first app of the cycle that this definition holds.
      const at = walk.appPaths.get(cycle.find((id) => walk.appPaths.has(id)) ?? '') ?? [];
      walk.findings.push(finding([...at, 'dependencies'], describeCycle(cycle)));
    }
  }
  return walk.findings.length > 0 || group === undefined ? { findings: walk.findings } : { group, findings: [] };
}

/** `enclosing`: the id of the group listing this one (null at the top, where `base` reads a relative id). */
function readGroup(json: unknown, at: FieldPath, enclosing: string | null, base: string, walk: Walk): GroupDefinition | undefined {
  const read = readObject(json, 'a group definition', MARATHON_GROUP_OUTPUT_FIELDS);
  if ('problem' in read) {
    walk.findings.push(finding(at, read.problem));
    return undefined;
  }
  const raw = read.raw;
  const { data, findings } = parseFields(GROUP_FIELDS, raw);
  walk.findings.push(...findings.map((f) => ({ ...f, path: [...at, ...f.path] })));
  const id = groupIdOf(data.id, raw.id !== undefined, at, enclosing, base, walk);
  if (id === undefined) return undefined;
  walk.placed.push({ id, kind: 'group', at });

  const apps = (data.apps ?? []).flatMap((json, i) => readApp(json, [...at, 'apps', i], id, walk));
  const groups = (data.groups ?? []).flatMap((json, i) => readGroup(json, [...at, 'groups', i], id, id, walk) ?? []);
  const dependencies = (data.dependencies ?? []).flatMap((written, i) => {
    walk.references.push({ at: [...at, 'dependencies', i], written, base: id });
    const ref = resolveReference(written, id);
    if ('problem' in ref) walk.findings.push(finding([...at, 'dependencies', i], ref.problem));
    return 'id' in ref ? [ref.id] : [];
  });
  return { id, apps, groups, dependencies: [...new Set(dependencies)] };
}

function groupIdOf(written: string | undefined, given: boolean, at: FieldPath, enclosing: string | null, base: string, walk: Walk): string | undefined {
  if (written === undefined) {
    if (!given) walk.findings.push(finding([...at, 'id'], 'required field is missing'));
    return undefined;
  }
  const resolved = resolveGroupId(written, base);
  if ('problem' in resolved) {
    walk.findings.push(finding([...at, 'id'], resolved.problem));
    return undefined;
  }
  if (enclosing !== null && (resolved.id === ROOT_ID || parentId(resolved.id) !== enclosing)) {
    walk.findings.push(finding([...at, 'id'], `Group has to be child of groups with parent id: "${written}" is ${resolved.id}, which is not directly in ${enclosing}`));
  }
  return resolved.id;
}

function readApp(json: unknown, at: FieldPath, group: string, walk: Walk): AppDefinition[] {
  const { app, findings } = checkAppDefinition(json, { base: group });
  walk.findings.push(...findings.map((f) => ({ ...f, path: [...at, ...f.path] })));
  const written = typeof json === 'object' && json !== null ? (json as { dependencies?: unknown }).dependencies : undefined;
  if (Array.isArray(written)) {
    written.forEach((dependency, i) => {
      if (typeof dependency === 'string') walk.references.push({ at: [...at, 'dependencies', i], written: dependency, base: group });
    });
  }
  if (app === undefined) return [];
  if (parentId(app.id) !== group) {
    walk.findings.push(finding([...at, 'id'], `App has to be child of group with parent id: ${app.id} is in ${parentId(app.id)}, not ${group}`));
  }
  walk.placed.push({ id: app.id, kind: 'app', at });
  walk.appPaths.set(app.id, at);
  return [app];
}

function checkDuplicates(walk: Walk): void {
  const first = new Map<string, Placed>();
  for (const placed of walk.placed) {
    const earlier = first.get(placed.id);
    if (earlier === undefined) first.set(placed.id, placed);
    else walk.findings.push(finding([...placed.at, 'id'], `duplicate id ${placed.id}: ${earlier.kind === 'app' ? 'an app' : 'a group'} at ${marathonPath(earlier.at)} has it`));
  }
}

/** Every dependency names an app or group of the tree, a deployed app, or a group holding deployed apps. */
function checkReferences(walk: Walk, existing: readonly DependencyNode[]): void {
  const known = [...walk.placed.map((p) => p.id), ...existing.map((app) => app.id)];
  for (const { at, written, base } of walk.references) {
    const ref = resolveReference(written, base);
    if ('problem' in ref) continue; // reported where the app or group was read
    if (!isKnownDependency(ref.id, known)) walk.findings.push(finding(at, unknownDependency(ref.id, written, base)));
  }
}
