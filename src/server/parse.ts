import type { z } from 'zod';
import { Invalid } from '../shared/errors.ts';

/** Validates a request body or query with a zod schema; the message names every bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what = 'body'): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Invalid(`invalid ${what}: ${result.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}
