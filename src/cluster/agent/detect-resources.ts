// What a machine offers to the pool when the operator does not say: its cores, its memory less a
// reserve for the system, the free disk of the data directory, and Mesos's default port range.
import os from 'node:os';
import { statfsSync } from 'node:fs';
import type { Resources } from '../types.ts';

const MIB = 1024 * 1024;
export const DEFAULT_PORT_RANGE: readonly [number, number] = [31000, 32000];

export function detectResources(dataDir: string): Resources {
  const totalMem = Math.floor(os.totalmem() / MIB);
  // Leave the system 10% (at least 256 MiB, at most 4 GiB), as the Mesos agent does.
  const reserve = Math.min(4096, Math.max(256, Math.floor(totalMem * 0.1)));
  let diskMib = 0;
  try {
    const fs = statfsSync(dataDir);
    diskMib = Math.floor((fs.bavail * fs.bsize) / MIB);
  } catch {
    diskMib = 0;
  }
  return {
    scalars: { cpus: os.availableParallelism(), mem: Math.max(0, totalMem - reserve), disk: diskMib, gpus: 0 },
    ranges: { ports: [DEFAULT_PORT_RANGE] },
    sets: {},
  };
}

/** Detected resources with the configured ones laid over them, resource by resource. */
export function mergeResources(detected: Resources, configured: Resources): Resources {
  return {
    scalars: { ...detected.scalars, ...configured.scalars },
    ranges: { ...detected.ranges, ...configured.ranges },
    sets: { ...detected.sets, ...configured.sets },
    roles: { ...(detected.roles ?? {}), ...(configured.roles ?? {}) },
  };
}
