// The built-in load balancer's surface: the data plane main.ts starts, and the pure pieces (algorithms,
// passive ejection, HTTP routing) other parts may reuse or test against.
export { BuiltinDataPlane, type BuiltinDataPlaneOptions } from './builtin-data-plane.ts';
export { BALANCERS, createBalancer, LeastConnBalancer, RoundRobinBalancer, SourceHashBalancer, type Balancer, type Candidate } from './balancers/index.ts';
export { DEFAULT_EJECTION, afterFailure, afterSuccess, ejectionReason, isEjected, type EjectionPolicy, type EjectionState } from './ejection.ts';
export { matchRoute, pathMatches, routingHost, routingPath } from './http-routing.ts';
