// Parsers for the Mesos text syntax operators already know:
//   resources  `cpus:24;mem:24576;ports:[21000-24000,30000-34000];bugs(debug_role):{a,b,c}`
//   attributes `rack:abc;zone:west;level:10;keys:[1000-1500]`
// Every error is an `Invalid` that quotes the part at fault, so a typo in a flag is found at once.
import { Invalid } from '../../shared/errors.ts';
import type { AttributeValue, Attributes, Range, Resources } from '../types.ts';
import { normalizeRanges } from './ranges.ts';

export { parseConstraint, parseConstraintArray } from './parse-constraint.ts';
export { attributeText, formatAttributes, formatResources } from './format.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ROLE = /^[A-Za-z0-9_.*/-]+$/;
const UNSIGNED_DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
const SIGNED_DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;
const SET_ITEM = /^[^\s,;{}[\]]+$/;
const MAX_PORT = 65535;

/** Parses a Mesos resource string; the empty string is the empty set of resources. */
export function parseResources(text: string): Resources {
  const resources: Resources = { scalars: {}, ranges: {}, sets: {} };
  const roles: Record<string, string> = {};
  const seen = new Set<string>();
  for (const entry of entries(text)) {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Invalid(`invalid resource "${entry}": expected name:value, e.g. cpus:4`);
    const head = entry.slice(0, colon).trim();
    const value = entry.slice(colon + 1).trim();
    const m = /^([^()]*)(?:\(([^()]*)\))?$/.exec(head);
    if (!m) throw new Invalid(`invalid resource "${entry}": "${head}" is not a name or name(role)`);
    const name = m[1]!.trim();
    if (name === '') throw new Invalid(`invalid resource "${entry}": the name is empty`);
    if (!NAME.test(name)) throw new Invalid(`invalid resource "${entry}": "${name}" is not a valid name (letters, digits, _ . -)`);
    if (seen.has(name)) throw new Invalid(`invalid resources: "${name}" is given twice`);
    seen.add(name);
    if (m[2] !== undefined) {
      const role = m[2].trim();
      if (!ROLE.test(role)) throw new Invalid(`invalid resource "${entry}": "${role}" is not a valid role`);
      roles[name] = role;
    }
    const where = `resource "${entry}"`;
    if (value.startsWith('[')) {
      const ranges = parseRangeList(value, where);
      if (name === 'ports') {
        const bad = ranges.find(([, hi]) => hi > MAX_PORT);
        if (bad) throw new Invalid(`invalid ${where}: ports go up to ${MAX_PORT} (got ${bad[1]})`);
      }
      resources.ranges[name] = ranges;
    } else if (value.startsWith('{')) {
      resources.sets[name] = parseSet(value, where);
    } else {
      resources.scalars[name] = parseAmount(value, where);
    }
  }
  if (Object.keys(roles).length > 0) resources.roles = roles;
  return resources;
}

/** Parses a Mesos attribute string: text, scalar (when it reads as a number), `[ranges]` or `{set}`. */
export function parseAttributes(text: string): Attributes {
  const attributes: Attributes = {};
  for (const entry of entries(text)) {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Invalid(`invalid attribute "${entry}": expected name:value, e.g. rack:r1`);
    const name = entry.slice(0, colon).trim();
    const value = entry.slice(colon + 1).trim();
    const where = `attribute "${entry}"`;
    if (name === '') throw new Invalid(`invalid ${where}: the name is empty`);
    if (!NAME.test(name)) throw new Invalid(`invalid ${where}: "${name}" is not a valid name (letters, digits, _ . -)`);
    if (Object.hasOwn(attributes, name)) throw new Invalid(`invalid attributes: "${name}" is given twice`);
    attributes[name] = parseAttributeValue(value, where);
  }
  return attributes;
}

function parseAttributeValue(value: string, where: string): AttributeValue {
  if (value === '') throw new Invalid(`invalid ${where}: the value is empty`);
  if (value.startsWith('[')) return { kind: 'ranges', ranges: parseRangeList(value, where) };
  if (value.startsWith('{')) return { kind: 'set', items: parseSet(value, where) };
  if (SIGNED_DECIMAL.test(value)) return { kind: 'scalar', value: Number(value) };
  if (!/^[^\s;,[\]{}()]+$/.test(value)) {
    throw new Invalid(`invalid ${where}: "${value}" is not text (no spaces, brackets or commas), a number, [ranges] or {set}`);
  }
  return { kind: 'text', value };
}

/** The non-empty `;`-separated entries (Mesos tokenises the same way, so `a:1;;b:2;` is fine). */
function entries(text: string): string[] {
  return text
    .split(';')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

function parseAmount(value: string, where: string): number {
  if (value.startsWith('-')) throw new Invalid(`invalid ${where}: amounts cannot be negative`);
  if (!UNSIGNED_DECIMAL.test(value)) {
    throw new Invalid(`invalid ${where}: "${value}" is not a number, a range list [a-b,...] or a set {a,b,...}`);
  }
  return Number(value);
}

/** `[21000-24000,30000-34000]`, `[80]` or `[80-80]`; rejects reversed, overlapping and non-integer ranges. */
export function parseRangeList(value: string, where: string): Range[] {
  if (!value.endsWith(']')) throw new Invalid(`invalid ${where}: "${value}" does not end with "]"`);
  const inner = value.slice(1, -1).trim();
  if (inner === '') return [];
  const ranges: Range[] = inner.split(',').map((raw) => {
    const item = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
    if (!m) throw new Invalid(`invalid ${where}: "${item}" is not an integer range like 100-200 or a single value`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) throw new Invalid(`invalid ${where}: "${item}" is too large`);
    if (hi < lo) throw new Invalid(`invalid ${where}: range "${item}" is reversed (write ${hi}-${lo})`);
    return [lo, hi];
  });
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur[0] <= prev[1]) {
      throw new Invalid(`invalid ${where}: ranges "${prev[0]}-${prev[1]}" and "${cur[0]}-${cur[1]}" overlap`);
    }
  }
  return normalizeRanges(sorted);
}

/** `{a,b,c}`: non-empty items without spaces, no item twice. */
function parseSet(value: string, where: string): string[] {
  if (!value.endsWith('}')) throw new Invalid(`invalid ${where}: "${value}" does not end with "}"`);
  const inner = value.slice(1, -1).trim();
  if (inner === '') return [];
  const items = inner.split(',').map((i) => i.trim());
  const seen = new Set<string>();
  for (const item of items) {
    if (item === '') throw new Invalid(`invalid ${where}: the set has an empty item`);
    if (!SET_ITEM.test(item)) throw new Invalid(`invalid ${where}: set item "${item}" contains a space or a bracket`);
    if (seen.has(item)) throw new Invalid(`invalid ${where}: set item "${item}" is given twice`);
    seen.add(item);
  }
  return items;
}
