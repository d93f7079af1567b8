// Resources and attributes back to the Mesos text syntax (round-trips with parse.ts), and the text an
// attribute is matched as by LIKE / UNLIKE / IS / the counting operators.
import type { AttributeValue, Attributes, Resources } from '../types.ts';
import { formatRanges } from './ranges.ts';

/** `cpus:4;mem:8192;ports:[31000-32000];bugs(debug_role):{a,b,c}` */
export function formatResources(r: Resources): string {
  const name = (n: string): string => (r.roles?.[n] ? `${n}(${r.roles[n]})` : n);
  const parts: string[] = [];
  for (const [n, v] of Object.entries(r.scalars)) parts.push(`${name(n)}:${formatNumber(v)}`);
  for (const [n, v] of Object.entries(r.ranges)) parts.push(`${name(n)}:${formatRanges(v)}`);
  for (const [n, v] of Object.entries(r.sets)) parts.push(`${name(n)}:{${v.join(',')}}`);
  return parts.join(';');
}

/** `rack:r1;zone:west;level:10;keys:[1000-1500]` */
export function formatAttributes(a: Attributes): string {
  return Object.entries(a)
    .map(([n, v]) => `${n}:${formatAttributeValue(v)}`)
    .join(';');
}

function formatAttributeValue(v: AttributeValue): string {
  switch (v.kind) {
    case 'text':
      return v.value;
    case 'scalar':
      return formatNumber(v.value);
    case 'ranges':
      return formatRanges(v.ranges);
    case 'set':
      return `{${v.items.join(',')}}`;
  }
}

/**
 * The string constraints match an attribute against, as Marathon does: text as is, a scalar as its
 * number (`10`, `1.5`), ranges as `[1000-1500]`, a set sorted as `{a,b}`.
 */
export function attributeText(v: AttributeValue): string {
  return v.kind === 'set' ? `{${[...v.items].sort().join(',')}}` : formatAttributeValue(v);
}

/** Amounts as people write them: no float noise from repeated subtraction (0.30000000000000004 → 0.3). */
export function formatNumber(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
