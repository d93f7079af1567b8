// Every field name a schema knows at any depth, to suggest the field a typo probably meant.
import { z } from 'zod';

export function fieldNamesOf(schema: z.ZodType, into: Set<string> = new Set()): Set<string> {
  if (schema instanceof z.ZodObject) {
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      into.add(name);
      fieldNamesOf(field, into);
    }
  } else if (schema instanceof z.ZodOptional) {
    fieldNamesOf(schema.unwrap() as z.ZodType, into);
  } else if (schema instanceof z.ZodArray) {
    fieldNamesOf(schema.element as z.ZodType, into);
  } else if (schema instanceof z.ZodPipe) {
    fieldNamesOf(schema.in as z.ZodType, into);
    fieldNamesOf(schema.out as z.ZodType, into);
  }
  return into;
}
