// Sizes as people write them: 500MiB, 10GiB, 1.5GB, 4096.
import { Invalid } from './errors.ts';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** A byte count from `10GiB`, `500 MiB`, `1.5GB` or a plain number; Invalid naming `what` otherwise. */
export function parseBytes(text: string, what = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Invalid(`${what} must look like 500MiB, 10GiB, 1.5GB or a number of bytes (got "${text}")`);
  return Math.round(Number(match[1]) * unit);
}
