// Server slots: why HAProxy rarely reloads. Each route's backend is rendered with a fixed number of
// servers (a power of two, at least 8); the model's servers fill some, the rest wait disabled. A server
// keeps its slot while it lives, so adding, removing, draining or re-weighting one is a few runtime API
// commands on its slot (`set server b/s addr|weight|state`), not a new configuration and a reload. Only
// a route that outgrows its slots, or a change of listeners and routes, needs a reload. Pure.
import { isIP } from 'node:net';
import type { LbModel, LbRoute, LbServer } from '../model.ts';

/** What one slot holds: a server of the model, or nothing (the slot is in maintenance). */
export type Slot = LbServer | null;

/** By route name: its slots, in order (slot i is HAProxy's server `s<i+1>`). */
export type SlotTable = ReadonlyMap<string, readonly Slot[]>;

export const MIN_SLOTS = 8;

/** The slots a route of `servers` servers gets: the next power of two, at least `MIN_SLOTS`. */
export function slotCount(servers: number): number {
  let count = MIN_SLOTS;
  while (count < servers) count *= 2;
  return count;
}

/** HAProxy's name of the server in slot `index` (0-based). */
export function slotName(index: number): string {
  return `s${index + 1}`;
}

/** The slot index of HAProxy's server name `s<n>`, or null. */
export function slotIndex(name: string): number | null {
  const match = /^s([1-9][0-9]*)$/.exec(name);
  return match ? Number(match[1]) - 1 : null;
}

/**
 * The slots of every route of `model`. A server already in a slot of `previous` stays there (with its
 * fields as the model has them now); a new server takes the lowest free slot; a route grows to the next
 * power of two when its servers no longer fit, and never shrinks while it lives (scaling down and up again
 * costs no reload).
 */
export function assignSlots(model: LbModel, previous: SlotTable = new Map()): SlotTable {
  const table = new Map<string, Slot[]>();
  for (const listener of model.listeners) {
    for (const route of listener.routes) {
      if (table.has(route.name)) continue;
      table.set(route.name, routeSlots(route, previous.get(route.name) ?? []));
    }
  }
  return table;
}

function routeSlots(route: LbRoute, before: readonly Slot[]): Slot[] {
  const servers = new Map(route.servers.map((server) => [server.id, server]));
  const slots: Slot[] = before.map((slot) => (slot === null ? null : (servers.get(slot.id) ?? null)));
  const placed = new Set(slots.flatMap((slot) => (slot === null ? [] : [slot.id])));
  const size = Math.max(slots.length, slotCount(route.servers.length));
  while (slots.length < size) slots.push(null);
  let free = 0;
  for (const server of route.servers) {
    if (placed.has(server.id)) continue;
    while (slots[free] !== null) free += 1;
    slots[free] = server;
    placed.add(server.id);
  }
  return slots;
}

/** One slot's change, as the runtime API makes it. */
export interface SlotChange {
  route: string;
  slot: number;
  /** Set when the address or the port changes. */
  address?: string;
  port?: number;
  weight?: number;
  state?: 'ready' | 'drain' | 'maint';
}

/**
 * The runtime commands that take HAProxy from the slots `from` to the slots `to`, or null when they
 * cannot: a route appeared, went or changed its number of slots (that is a new configuration), or a
 * server's address is not an IP address (`set server addr` takes none other).
 */
export function slotChanges(from: SlotTable, to: SlotTable): SlotChange[] | null {
  if (from.size !== to.size) return null;
  const changes: SlotChange[] = [];
  for (const [route, next] of to) {
    const current = from.get(route);
    if (current === undefined || current.length !== next.length) return null;
    for (let slot = 0; slot < next.length; slot++) {
      const change = slotChange(current[slot] ?? null, next[slot] ?? null);
      if (change === null) return null;
      changes.push(...change.map((settings) => ({ route, slot, ...settings })));
    }
  }
  return changes;
}

type Settings = Omit<SlotChange, 'route' | 'slot'>;

function slotChange(was: Slot, now: Slot): Settings[] | null {
  if (now === null) return was === null ? [] : [{ state: 'maint' }];
  if (isIP(now.address) === 0) return null;
  const state = now.draining ? 'drain' : 'ready';
  const fresh: Settings = { address: now.address, port: now.port, weight: now.weight, state };
  if (was === null) return [fresh];
  // A slot changes hands through maintenance: nothing of the server before is carried over to the next.
  if (was.id !== now.id) return [{ state: 'maint' }, fresh];
  const change: Settings = {};
  if (was.address !== now.address || was.port !== now.port) Object.assign(change, { address: now.address, port: now.port });
  if (was.weight !== now.weight) change.weight = now.weight;
  if (was.draining !== now.draining) change.state = state;
  return Object.keys(change).length === 0 ? [] : [change];
}

/** The runtime commands that give the slots of a freshly started HAProxy the state the config cannot say: draining. */
export function drainingSlots(table: SlotTable): SlotChange[] {
  const changes: SlotChange[] = [];
  for (const [route, slots] of table) {
    slots.forEach((slot, index) => {
      if (slot?.draining) changes.push({ route, slot: index, weight: slot.weight, state: 'drain' });
    });
  }
  return changes;
}
