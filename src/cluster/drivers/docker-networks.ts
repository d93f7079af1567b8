// Container networks (cluster/container-network.ts) on the agent's Docker engine: a task on network
// `blue` runs attached to the user-defined bridge `gantry-blue`, labelled `gantry.network=blue`. The
// prefix keeps Gantry's networks apart from the engine's others; the label is what removal looks for,
// so that an agent only ever removes networks Gantry made.
//
// - Made on first use (ensure), and used by its id. Concurrent starts on one agent share one creation.
//   Agents sharing an engine may create it at the same instant: an engine from 25 on refuses the second
//   (409: it is there), an older one makes a second network of the same name even with CheckDuplicate.
//   Then every agent takes the oldest of that name and the maker of a newer one removes it, so all
//   converge on one network; containers name it by id, never by an ambiguous name.
// - A task's own address: its container's IP on the network, read once the container started (and
//   again when a recovered container becomes a handle: a running container keeps its address).
// - Removed when no task uses it: at once when a task on it ended (release), and by the agent's garbage
//   collection round for what an agent that stopped left (collect). Never while a start on it is under
//   way in this driver; the engine itself refuses to remove a network a running container is attached
//   to (an exited one does not hold it). Another agent on the same engine may remove a network between
//   this agent's ensure and its container's start: the start is then made again once, network first.
import type Dockerode from 'dockerode';
import { engineMessage } from './docker-pull.ts';

export const LABEL_NETWORK = 'gantry.network';
const NETWORK_PREFIX = 'gantry-';

/** The engine's name of a container network. */
export function dockerNetworkName(name: string): string {
  return `${NETWORK_PREFIX}${name}`;
}

/** The container's IP address on the container network, from its inspection; undefined when it has none. */
export function addressOn(inspected: Dockerode.ContainerInspectInfo | null, name: string): string | undefined {
  const address = inspected?.NetworkSettings?.Networks?.[dockerNetworkName(name)]?.IPAddress;
  return address ? address : undefined;
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** The engine's words for a network that is not there when a container starts on it. */
function networkGone(err: unknown): boolean {
  return /network \S+ not found/i.test((err as Error | null)?.message ?? '');
}

export class DockerNetworks {
  /** Starts under way, by network: such a network is not removed. */
  private readonly starting = new Map<string, number>();
  /** Creations under way, by network: concurrent starts share one. */
  private readonly creating = new Map<string, Promise<string>>();

  constructor(
    private readonly docker: Dockerode,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /**
   * Runs `start` (a container's create and start, attached to the network by the id it is given) with
   * the network there, made when missing. When the network vanished before the container started
   * (another agent on this engine removed it), the network is made again and `start` run once more.
   */
  async using<T>(name: string, start: (networkId: string) => Promise<T>): Promise<T> {
    this.starting.set(name, (this.starting.get(name) ?? 0) + 1);
    try {
      for (let attempt = 0; ; attempt++) {
        const id = await this.ensure(name);
        try {
          return await start(id);
        } catch (err) {
          if (attempt > 0 || !networkGone(err)) throw err;
          this.log(`docker driver: container network ${name} was removed as a task was starting on it; making it again`);
        }
      }
    } finally {
      const left = (this.starting.get(name) ?? 1) - 1;
      if (left > 0) this.starting.set(name, left);
      else this.starting.delete(name);
    }
  }

  /** The network's id, made when the engine does not have it. */
  ensure(name: string): Promise<string> {
    let pending = this.creating.get(name);
    if (pending === undefined) {
      pending = this.make(name).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending;
  }

  private async make(name: string): Promise<string> {
    const engineName = dockerNetworkName(name);
    const found = await this.oldest(name);
    if (found !== undefined) return found;
    let made: string | undefined;
    try {
      made = (await this.docker.createNetwork({ Name: engineName, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL_NETWORK]: name } })).id;
    } catch (err) {
      // 409: made meanwhile by another agent on this engine.
      if (statusOf(err) !== 409) throw new Error(`cannot create container network ${name} (${engineName}): ${engineMessage(err)}`);
    }
    const oldest = await this.oldest(name);
    if (made !== undefined && oldest !== made) await this.docker.getNetwork(made).remove().catch(() => undefined); // a twin made at the same instant
    if (oldest === undefined) throw new Error(`container network ${name} (${engineName}) was removed as it was made`);
    return oldest;
  }

  /** The id of the oldest network of that name, the one every agent uses. */
  private async oldest(name: string): Promise<string | undefined> {
    let listed: Dockerode.NetworkInspectInfo[];
    try {
      listed = await this.namesakes(name);
    } catch (err) {
      throw new Error(`cannot look up container network ${name} (${dockerNetworkName(name)}): ${engineMessage(err)}`);
    }
    const sorted = listed.sort((a, b) => (a.Created === b.Created ? (a.Id < b.Id ? -1 : 1) : a.Created < b.Created ? -1 : 1));
    return sorted[0]?.Id;
  }

  /** The engine's networks of exactly that name (its name filter matches parts of names). */
  private async namesakes(name: string): Promise<Dockerode.NetworkInspectInfo[]> {
    const engineName = dockerNetworkName(name);
    return (await this.docker.listNetworks({ filters: { name: [engineName] } })).filter((n) => n.Name === engineName);
  }

  /** A task on the network ended: the network goes when no other task uses it. */
  async release(name: string): Promise<void> {
    if (this.starting.has(name)) return;
    for (const network of await this.namesakes(name).catch(() => [])) await this.removeIfUnused(network.Id, name);
  }

  /** Removes Gantry's networks no container is attached to (a garbage collection round); says which. */
  async collect(): Promise<string[]> {
    let listed: Dockerode.NetworkInspectInfo[];
    try {
      listed = await this.docker.listNetworks({ filters: { label: [LABEL_NETWORK] } });
    } catch (err) {
      this.log(`container network gc: cannot list networks: ${engineMessage(err)}`);
      return [];
    }
    const removed: string[] = [];
    for (const info of listed) {
      const name = info.Labels?.[LABEL_NETWORK];
      if (name === undefined || info.Name !== dockerNetworkName(name) || this.starting.has(name)) continue;
      if (await this.removeIfUnused(info.Id, name)) removed.push(`container network ${name} (${info.Name}): no task uses it`);
    }
    return removed;
  }

  /** Removes the network when it is Gantry's and no container is attached; true when it did. */
  private async removeIfUnused(id: string, name: string): Promise<boolean> {
    const network = this.docker.getNetwork(id);
    let info: { Labels?: Record<string, string>; Containers?: Record<string, unknown> };
    try {
      info = (await network.inspect()) as typeof info;
    } catch {
      return false; // gone already
    }
    if (info.Labels?.[LABEL_NETWORK] !== name) return false; // not made by Gantry: never removed
    if (Object.keys(info.Containers ?? {}).length > 0) return false;
    try {
      await network.remove();
      return true;
    } catch (err) {
      // 403/409: a container was attached meanwhile (it has active endpoints); 404: removed meanwhile.
      const status = statusOf(err);
      if (status !== 403 && status !== 404 && status !== 409) this.log(`docker driver: cannot remove container network ${name}: ${engineMessage(err)}`);
      return false;
    }
  }
}
