// The managed HAProxy data plane's surface: the data plane itself, the configuration renderer (also the
// operator's `gantry lb haproxy-config`), and the parts it is built of, for tests and tools.
export { HaproxyDataPlane, type HaproxyDataPlaneOptions } from './haproxy-data-plane.ts';
export { renderHaproxyConfig, configStructure, backendNames, NO_ROUTE_BACKEND, DEFAULT_HARD_STOP_AFTER_MS, type HaproxyConfigOptions } from './haproxy-config.ts';
export { assignSlots, slotChanges, drainingSlots, slotCount, slotName, slotIndex, MIN_SLOTS, type Slot, type SlotTable, type SlotChange } from './haproxy-slots.ts';
export { HaproxyRuntime, HaproxyRuntimeError, parseShowStat, type HaproxyRuntimeOptions, type HaproxyServerStat, type ServerSettings } from './haproxy-runtime.ts';
export { HaproxyProcess, HaproxyError, parseShowProc, reasonOf, type HaproxyProcessOptions, type ProcInfo, type ProcessHealth } from './haproxy-process.ts';
