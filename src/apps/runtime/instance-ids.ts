// An instance's id, the last part of its tasks' owner (`app:/prod/web:<id>`): short, no ':', sortable by
// creation (a time part first), unique without asking the store (a random part).
import { randomBytes } from 'node:crypto';

export function newInstanceId(now = Date.now()): string {
  return `i-${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}
