// Turns zod's issues into findings worded for the person who wrote the file. zod's own words ("Invalid
// input: expected string, received number") are replaced by what was expected and what is there.
import type { z } from 'zod';
import { didYouMean } from './did-you-mean.ts';
import type { FieldPath, Finding } from './findings.ts';
import { describeValue, isPlainObject } from './schema-kit.ts';

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

export function findingsFromZod(error: z.ZodError, file: unknown): Finding[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    const value = valueAt(file, path);
    const atKey = (issue as { params?: { atKey?: boolean } }).params?.atKey === true;
    return { path, message: messageFor(issue, value), ...(atKey ? { atKey } : {}) };
  });
}

function messageFor(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'required field is missing';
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(value)}`;
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const typo = typeof value === 'string' ? didYouMean(value, allowed) : '';
      return `must be one of ${allowed.join(', ')} (got ${describeValue(value)})${typo}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return Number(issue.minimum) === 1 ? 'must not be empty' : `must have at least ${issue.minimum} items`;
      if (issue.origin === 'string') return 'must not be empty';
      return issue.inclusive ? `must be at least ${issue.minimum} (got ${describeValue(value)})` : `must be more than ${issue.minimum} (got ${describeValue(value)})`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `must be at most ${issue.maximum} (got ${describeValue(value)})`;
    default:
      // custom checks and regex formats carry messages written in schema.ts
      return issue.message;
  }
}

function valueAt(file: unknown, path: FieldPath): unknown {
  let value = file;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isPlainObject(value) && typeof segment === 'string') value = value[segment];
    else return undefined;
  }
  return value;
}
