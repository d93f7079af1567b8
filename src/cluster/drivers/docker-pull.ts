// Getting a task's image onto the engine: pull it when the engine does not hold it (or always, with
// TaskSpec.forcePull), with the bundled registry's robot account when the image lives there, and
// say how it went in a few lines of progress (the docker driver writes them at the start of the task's
// stderr output: see docker.ts).
//
// Progress: one line per layer and state change ("Pulling fs layer", "Download complete", "Pull
// complete", ...), the engine's own lines ("Digest: ...", "Status: ..."), and for the byte counts of
// "Downloading" at most one line a second with the total over all layers: a pull of a large image
// gives a readable log, not thousands of progress ticks.
import type Dockerode from 'dockerode';
import { parseImageReference } from '../image-reference.ts';
import type { RegistryCredentials } from './driver.ts';

/** A pull that reports nothing for this long is abandoned (a stalled registry must not hold a task forever). */
export const DEFAULT_PULL_STALL_MS = 5 * 60_000;

/** host:port of a registry URL, with the default port left out as Docker writes it. */
export function registryHostOfUrl(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

/** The engine's auth for pulling `ref`: the robot account when `ref` is on the bundled registry, else none. */
export function pullAuthFor(ref: string, registry: RegistryCredentials | undefined): Dockerode.AuthConfigObject | undefined {
  if (!registry) return undefined;
  const host = registryHostOfUrl(registry.url);
  if (!host || parseImageReference(ref).registry !== host) return undefined;
  return { username: registry.username, password: registry.password, serveraddress: host };
}

/** One JSON message of the engine's pull stream. */
export interface PullEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

const MiB = 1024 * 1024;

/** Turns pull events into the lines of the task's log (see the top of this file). */
export class PullProgress {
  readonly lines: string[] = [];
  private readonly layerStatus = new Map<string, string>();
  private readonly downloaded = new Map<string, { current: number; total: number }>();
  private lastBytesLineAt = -Infinity;

  constructor(
    private readonly image: string,
    private readonly now: () => number = Date.now,
    private readonly bytesLineEveryMs = 1000,
  ) {}

  add(event: PullEvent): void {
    const status = event.status?.trim();
    if (!status) return;
    if (status === 'Downloading' && event.id) {
      const { current = 0, total = 0 } = event.progressDetail ?? {};
      this.downloaded.set(event.id, { current, total });
      if (this.now() - this.lastBytesLineAt >= this.bytesLineEveryMs) {
        this.lastBytesLineAt = this.now();
        let got = 0;
        let size = 0;
        for (const layer of this.downloaded.values()) {
          got += layer.current;
          size += layer.total;
        }
        this.push(`downloading ${(got / MiB).toFixed(1)} of ${(size / MiB).toFixed(1)} MiB`);
      }
      return;
    }
    if (status === 'Extracting' || status === 'Waiting') return; // byte ticks and queueing: no news
    if (event.id && /^[0-9a-f]{12}$/.test(event.id)) {
      if (this.layerStatus.get(event.id) === status) return;
      this.layerStatus.set(event.id, status);
      this.push(`${event.id}: ${status}`);
      return;
    }
    this.push(event.id ? `${event.id}: ${status}` : status);
  }

  push(line: string): void {
    this.lines.push(`gantry: pull ${this.image}: ${line}`);
  }
}

export interface EnsureImageOptions {
  forcePull: boolean;
  registry?: RegistryCredentials | undefined;
  stallMs?: number;
  now?: () => number;
}

export interface EnsuredImage {
  /** The reference the container is created from (with a tag). */
  image: string;
  pulled: boolean;
  /** What the pull said; empty when the image was there already. */
  progress: string[];
}

/**
 * Makes sure the engine holds the image, pulling it when needed. Rejects with the engine's message
 * (and the progress so far) when the pull fails or stalls.
 */
export async function ensureImage(docker: Dockerode, ref: string, options: EnsureImageOptions): Promise<EnsuredImage> {
  const { normalized } = parseImageReference(ref);
  if (!options.forcePull && (await imageIsPresent(docker, normalized))) return { image: normalized, pulled: false, progress: [] };
  const auth = pullAuthFor(normalized, options.registry);
  const progress = new PullProgress(normalized, options.now);
  const started = (options.now ?? Date.now)();
  progress.push(`pulling${options.forcePull ? ' (forced)' : ''}${auth ? ` as ${auth.username}` : ''}`);
  try {
    const stream = (await docker.pull(normalized, auth ? { authconfig: auth } : {})) as NodeJS.ReadableStream;
    await followPull(docker, stream, progress, options.stallMs ?? DEFAULT_PULL_STALL_MS);
  } catch (err) {
    throw new Error(`cannot pull ${normalized}: ${engineMessage(err)}`);
  }
  progress.push(`done in ${(((options.now ?? Date.now)() - started) / 1000).toFixed(1)} s`);
  return { image: normalized, pulled: true, progress: progress.lines };
}

async function imageIsPresent(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

function followPull(docker: Dockerode, stream: NodeJS.ReadableStream, progress: PullProgress, stallMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const armStallTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        failure = `no progress for ${Math.round(stallMs / 1000)} s`;
        (stream as NodeJS.ReadableStream & { destroy?: (err?: Error) => void }).destroy?.(new Error(failure));
      }, stallMs);
    };
    armStallTimer();
    docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        clearTimeout(timer);
        if (failure !== undefined) reject(new Error(failure));
        else if (err) reject(err);
        else resolve();
      },
      (event: PullEvent) => {
        armStallTimer();
        if (event.error || event.errorDetail?.message) failure ??= event.errorDetail?.message ?? event.error;
        else progress.add(event);
      },
    );
  });
}

/** The engine's own words from a dockerode error (its JSON `message`), or the error's message. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return (err as Error)?.message ?? String(err);
}
