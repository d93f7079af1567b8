// JSON columns are TEXT in both SQLite and PostgreSQL so that rows read back the same everywhere.
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: unknown): T {
  return (typeof text === 'string' ? JSON.parse(text) : text) as T;
}

export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}
