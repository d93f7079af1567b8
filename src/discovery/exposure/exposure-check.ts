// The rules an app's exposure must keep before its version is written (apps call it through their
// ExposureCheck, wired in main.ts): labels that read, service ports inside the configured range, and no
// service port or virtual host held by another app, unless both are of one deployment group (the blue
// and the green of one service, which share them on purpose: a green names its blue's id in
// HAPROXY_DEPLOYMENT_GROUP, and an app without the label is the group of its own id). Bad input is a 400; a port or host
// another app holds is a 409 naming that app.
import { Conflict, Invalid } from '../../shared/errors.ts';
import { readExposure, type Exposure } from './exposure.ts';

export interface ExposureRules {
  /** Inclusive: Marathon's default is 10000-20000. */
  servicePorts: { min: number; max: number };
  /** The load balancer's shared HTTP port for virtual hosts: no app may take it as a service port. */
  httpPort: number;
}

export function checkExposure(app: Exposure, others: readonly Exposure[], rules: ExposureRules): void {
  const mine = readExposure(app);
  const problems = [...mine.problems];
  const seen = new Map<number, number>();
  for (const spec of mine.specs) {
    if (spec.servicePort === null) continue;
    const { min, max } = rules.servicePorts;
    if (spec.servicePort === rules.httpPort) problems.push(`port ${spec.index}: service port ${spec.servicePort} is the load balancer's HTTP port for virtual hosts`);
    else if (spec.servicePort < min || spec.servicePort > max) problems.push(`port ${spec.index}: service port ${spec.servicePort} is outside the service port range ${min}-${max}`);
    const twin = seen.get(spec.servicePort);
    if (twin !== undefined) problems.push(`port ${spec.index}: service port ${spec.servicePort} is asked for by port ${twin} too`);
    seen.set(spec.servicePort, spec.index);
    if (spec.protocol === 'udp') problems.push(`port ${spec.index}: a service port for udp: the load balancers proxy tcp only`);
  }
  if (problems.length > 0) throw new Invalid(`app ${app.appId}: ${problems.join('; ')}`, { problems });

  for (const other of others) {
    const theirs = readExposure(other);
    if (mine.deploymentGroup === theirs.deploymentGroup) continue;
    for (const spec of mine.specs) {
      if (spec.servicePort === null) continue;
      if (theirs.specs.some((s) => s.servicePort === spec.servicePort)) {
        throw new Conflict(`service port ${spec.servicePort} is held by app ${other.appId}`, { owner: other.appId, servicePort: spec.servicePort });
      }
    }
    for (const spec of mine.specs) {
      for (const host of spec.vhosts) {
        const held = theirs.specs.find((s) => s.vhosts.includes(host) && s.path === spec.path);
        if (held) {
          const where = spec.path === null ? host : `${host}${spec.path}`;
          throw new Conflict(`virtual host ${where} is held by app ${other.appId}`, { owner: other.appId, vhost: host, path: spec.path });
        }
      }
    }
  }
}
