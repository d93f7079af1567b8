// Reads a definition's top-level fields each on its own, so that the rules between fields still run on
// every field that is right when another one is wrong, and one answer lists every problem. An unknown
// field is named with the field probably meant; `x-` fields are left alone (YAML anchors, as in pipeline
// files and docker-compose).
import type { z } from 'zod';
import { didYouMean } from '../../shared/validation/did-you-mean.ts';
import { findingsFromZod } from '../../shared/validation/zod-findings.ts';
import type { Finding } from './problems.ts';

export type ParsedFields<F extends Record<string, z.ZodType>> = { [K in keyof F]?: z.output<F[K]> };

/** The fields of `raw` that pass their schema in `shape`, and the findings about the rest. `ignored`: fields dropped unread. */
export function parseFields<F extends Record<string, z.ZodType>>(
  shape: F,
  raw: Record<string, unknown>,
  ignored: ReadonlySet<string> = new Set(),
): { data: ParsedFields<F>; findings: Finding[] } {
  const known = Object.keys(shape);
  const data: Record<string, unknown> = {};
  const findings: Finding[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (ignored.has(name) || name.startsWith('x-') || value === undefined) continue;
    const schema = shape[name];
    if (schema === undefined) {
      findings.push({ path: [name], message: `unknown field "${name}"${didYouMean(name, known)}`, atKey: true });
      continue;
    }
    const result = schema.safeParse(value);
    if (result.success) data[name] = result.data;
    else findings.push(...findingsFromZod(result.error, value).map((f) => ({ ...f, path: [name, ...f.path] })));
  }
  return { data: data as ParsedFields<F>, findings };
}

/**
 * A definition read as an object: `source`, the JSON as given minus the fields Marathon writes into what it
 * returns (`outputFields`), and `raw`, the same with its nulls dropped; or what it is instead of an object.
 */
export function readObject(
  json: unknown,
  what: string,
  outputFields: ReadonlySet<string>,
): { source: Record<string, unknown>; raw: Record<string, unknown> } | { problem: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { problem: `${what} is a JSON object (got ${json === null ? 'null' : Array.isArray(json) ? 'a list' : typeof json})` };
  }
  const source = Object.fromEntries(Object.entries(json).filter(([field]) => !outputFields.has(field)));
  // A null field is an absent field: Marathon's older exports write every field they know.
  return { source, raw: withoutNulls(source) as Record<string, unknown> };
}

/**
 * The value with every null field dropped: Marathon's older exports write every field they know
 * (`"args": null, "container": null`), which means "not given". (A JSON reviver that answers undefined
 * removes the field.)
 */
function withoutNulls(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => (v === null ? undefined : v));
}
