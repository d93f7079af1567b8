// Marathon's `GET /v2/tasks` as text/plain (EndpointsHelper.appsToEndpointString): one line per app and
// service port, `<app id with / as _>\t<service port>\t<host>:<port>\t...`, that haproxy-marathon-bridge
// and marathon-lb-style tools read. Gantry's lines come from the service catalog, so they list the
// instances that are up (healthy and ready), not every running one: a tool that reads them never sends
// to an instance that is failing or going away. A port without a service port prints 0; an app
// without ports prints one line of hosts, as Marathon does.
import type { CatalogSnapshot } from '../../../discovery/index.ts';

export function endpointsText(snapshot: CatalogSnapshot, delimiter = '\t'): string {
  let text = '';
  for (const service of snapshot.services) {
    const cleanId = service.appId.replace(/^\//, '').split('/').join('_');
    const up = service.backends.filter((b) => b.state === 'up');
    if (service.ports.length === 0) {
      text += `${cleanId}${delimiter} ${delimiter}${up.map((b) => `${b.host} ${delimiter}`).join('')}\n`;
      continue;
    }
    for (const port of service.ports) {
      const hosts = up.filter((b) => b.ports[port.index] !== undefined).map((b) => `${b.host}:${b.ports[port.index]}${delimiter}`);
      text += `${cleanId}${delimiter}${port.servicePort ?? 0}${delimiter}${hosts.join('')}\n`;
    }
  }
  return text;
}
