// What a manifest reference (tag or digest) in a repository resolves to, remembered in memory so that a
// pull by tag does not cost three store queries (repository id, tag → digest, manifest row) every time.
//
// Why it is never stale, not even for a moment a client could see:
//   - Every write that can change a resolution (a manifest pushed, a tag moved or deleted, a manifest
//     deleted) goes through RegistryMetadata, which calls `invalidate(repository)` before it writes and
//     again after it has committed, before its caller can answer the client. The server is one process
//     and it alone opens the store for the registry; nothing else writes these tables.
//   - `invalidate` gives the repository a new generation number. An entry is used only while its
//     repository's generation is the one it was read under.
//   - A reader takes the generation *before* it queries the store and files its answer under that
//     generation. If a write commits while the query is in flight, the write's second invalidate moves
//     the generation on, so an answer read before the commit can never be used after it.
// Memory is bounded: at most MAX_ENTRIES resolutions (least recently used dropped first) and at most
// MAX_GENERATIONS repositories with their own generation (beyond that, everything is forgotten at once).
import type { ManifestHead } from './records.ts';

const MAX_ENTRIES = 10_000;
const MAX_GENERATIONS = 100_000;

interface Entry {
  generation: number;
  head: ManifestHead;
}

export class ManifestLookups {
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();
  /** The last generation number handed out; also the generation of repositories not in the map. */
  private counter = 0;
  private floor = 0;

  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly maxGenerations = MAX_GENERATIONS,
  ) {}

  /** The repository's current generation: take it before reading the store, file the answer under it. */
  generation(repository: string): number {
    return this.generations.get(repository) ?? this.floor;
  }

  get(repository: string, reference: string): ManifestHead | undefined {
    const key = keyOf(repository, reference);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.generation !== this.generation(repository)) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last (a Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.head;
  }

  /** Files what was read under `generation`; useless (never returned) if the repository changed since. */
  set(repository: string, reference: string, generation: number, head: ManifestHead): void {
    if (generation !== this.generation(repository)) return;
    const key = keyOf(repository, reference);
    this.entries.delete(key);
    this.entries.set(key, { generation, head });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Every resolution in the repository is forgotten, including those being read right now. */
  invalidate(repository: string): void {
    if (this.generations.size >= this.maxGenerations && !this.generations.has(repository)) {
      // Forget everything: the floor moves past every generation handed out so far.
      this.floor = ++this.counter;
      this.generations.clear();
      this.entries.clear();
    }
    this.generations.set(repository, ++this.counter);
  }

  get size(): number {
    return this.entries.size;
  }
}

function keyOf(repository: string, reference: string): string {
  // A repository name never holds a space (protocol/names.ts), so the key is unambiguous.
  return `${repository} ${reference}`;
}
