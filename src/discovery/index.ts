// Discovery's surface for the server (main.ts, routes): the assembled service, the rules apps' exposures
// are checked by, and the model's types.
export { Discovery, type DiscoveryOptions, type LbState } from './discovery-service.ts';
export { checkExposure, type ExposureRules } from './exposure/exposure-check.ts';
export type * from './model.ts';
