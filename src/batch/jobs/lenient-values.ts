// Chronos reads job JSON with Jackson's `asDouble`, `asInt` and `asBoolean`, which also take numbers and
// booleans written as strings: its own documented Docker job says `"cpus": "0.5", "mem": "512"`. These
// schemas accept the same, and nothing looser (`"yes"` is not a boolean, `"1e"` is not a number).
import { z } from 'zod';

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function numberFromText(value: unknown): unknown {
  return typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value.trim()) : value;
}

function booleanFromText(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** A number (checked by `schema`), or a string holding one. */
export function lenientNumber(schema: z.ZodNumber = z.number()) {
  return z.preprocess(numberFromText, schema);
}

/** true or false, or the strings "true" and "false". */
export function lenientBoolean() {
  return z.preprocess(booleanFromText, z.boolean());
}
