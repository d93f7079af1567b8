// Small zod building blocks for a file written by people: strict mappings that name the unknown field
// and guess the intended one, and values that may take several shapes (a glob or a list of globs or
// {include, exclude}) chosen by the shape actually written, so an error speaks about that shape only
// rather than listing every alternative the way a zod union does.
import { z } from 'zod';
import { didYouMean } from './did-you-mean.ts';

type Shape = 'string' | 'number' | 'boolean' | 'array' | 'object';

export function shapeOf(value: unknown): Shape | null {
  if (Array.isArray(value)) return 'array';
  if (value === null) return null;
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'object' ? type : null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return shapeOf(value) === 'object';
}

/**
 * A mapping with exactly these fields. An unknown field is reported on its own key, with a did-you-mean
 * or with a hint for a name another CI system uses (`environment` → `env`). Keys starting with `x-` are
 * allowed anywhere for YAML anchors, as in docker-compose.
 */
export function fields<S extends z.ZodRawShape>(shape: S, hints: Record<string, string> = {}) {
  const known = Object.keys(shape);
  return z.looseObject(shape).superRefine(
    (value, ctx) => {
      for (const key of Object.keys(value)) {
        if (known.includes(key) || key.startsWith('x-')) continue;
        const hint = hints[key] === undefined ? didYouMean(key, known) : ` (${hints[key]})`;
        ctx.addIssue({ code: 'custom', path: [key], message: `unknown field "${key}"${hint}`, params: { atKey: true } });
      }
    },
    // Report unknown fields even when a known field is also wrong: all problems at once.
    { when: (payload) => isPlainObject(payload.value) },
  );
}

type Choices = Partial<Record<Shape, z.ZodType>>;
type OutputOf<C extends Choices> = { [K in keyof C]: C[K] extends z.ZodType ? z.output<C[K]> : never }[keyof C];

/**
 * A value whose schema depends on the shape written. `expected` says what fits, for a value of any
 * other shape; it may be a function of that value for a pointed hint.
 */
export function byShape<C extends Choices>(choices: C, expected: string | ((value: unknown) => string)) {
  return z.unknown().transform((value, ctx): OutputOf<C> => {
    const shape = shapeOf(value);
    const schema: z.ZodType | undefined = shape === null ? undefined : choices[shape];
    if (schema === undefined) {
      const message =
        value === undefined ? 'required field is missing' : typeof expected === 'string' ? `expected ${expected}, got ${describeValue(value)}` : expected(value);
      ctx.addIssue({ code: 'custom', message, input: value });
      return z.NEVER;
    }
    const result = schema.safeParse(value);
    if (result.success) return result.data as OutputOf<C>;
    for (const issue of result.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  });
}

/** One value or a list of them; the output is always the list. */
export function oneOrMany<T extends z.ZodType>(item: T, expected: string) {
  return byShape({ string: item, number: item, boolean: item, array: z.array(item) }, expected).transform(
    (value): Array<z.output<T>> => (Array.isArray(value) ? value : [value]) as Array<z.output<T>>,
  );
}

/** How a written value is named in a message: `"text"`, `5`, `a list`, `a mapping`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return String(value);
}

/** A zod check from a function that says what is wrong with a value, or null. */
export function checkedBy<T>(problem: (value: T) => string | null) {
  return (value: T, ctx: z.RefinementCtx<T>): void => {
    const message = problem(value);
    if (message !== null) ctx.addIssue({ code: 'custom', message });
  };
}
