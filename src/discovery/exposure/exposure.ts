// An app's exposure as discovery receives it (apps' `AppExposure`, the same shape: main.ts hands one
// to the other without either importing the other) and how marathon-lb's labels read on it.
// marathon-lb's labels kept: HAPROXY_GROUP, HAPROXY_{n}_GROUP, _VHOST, _PATH, _MODE, _BALANCE, _PORT,
// _ENABLED, and HAPROXY_DEPLOYMENT_GROUP (apps of one deployment group may share service ports and
// virtual hosts: the blue and the green of one service). Others are accepted and not applied.
import { BALANCE_ALGORITHMS, type BalanceAlgorithm, type ServicePortSpec } from '../model.ts';

export interface ExposedPort {
  index: number;
  name: string | null;
  protocol: 'tcp' | 'udp';
  servicePort: number | null;
}

export interface Exposure {
  appId: string;
  labels: Record<string, string>;
  ports: ExposedPort[];
}

/** The group of an app without HAPROXY_GROUP: the one the load balancer serves by default (marathon-lb's `--group external`). */
export const DEFAULT_LB_GROUP = 'external';

export interface ReadExposure {
  specs: ServicePortSpec[];
  /** HAPROXY_DEPLOYMENT_GROUP, else the app's own id. */
  deploymentGroup: string;
  /** What is wrong with the labels, one line each naming the label (the catalog skips those values). */
  problems: string[];
}

export function readExposure(exposure: Exposure): ReadExposure {
  const { labels } = exposure;
  const problems: string[] = [];
  const appGroup = labels.HAPROXY_GROUP?.trim() || DEFAULT_LB_GROUP;
  const specs = exposure.ports.map((port): ServicePortSpec => {
    const n = port.index;
    const label = (name: string): string | undefined => labels[`HAPROXY_${n}_${name}`];
    const vhosts = (label('VHOST') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '');
    for (const host of vhosts) {
      if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) problems.push(`HAPROXY_${n}_VHOST: "${host}" is not a host name`);
    }
    const path = label('PATH')?.trim() || null;
    if (path !== null && (!path.startsWith('/') || /\s/.test(path))) problems.push(`HAPROXY_${n}_PATH: "${path}" must start with / and hold no spaces`);
    const modeLabel = label('MODE')?.trim().toLowerCase();
    if (modeLabel !== undefined && modeLabel !== 'http' && modeLabel !== 'tcp') problems.push(`HAPROXY_${n}_MODE: "${modeLabel}" is neither http nor tcp`);
    const balanceLabel = label('BALANCE')?.trim().toLowerCase();
    if (balanceLabel !== undefined && !(BALANCE_ALGORITHMS as readonly string[]).includes(balanceLabel)) {
      problems.push(`HAPROXY_${n}_BALANCE: "${balanceLabel}" is not one of ${BALANCE_ALGORITHMS.join(', ')}`);
    }
    const portLabel = label('PORT')?.trim();
    let servicePort = port.servicePort;
    if (portLabel !== undefined && portLabel !== '') {
      if (/^\d+$/.test(portLabel) && Number(portLabel) > 0 && Number(portLabel) < 65536) servicePort = Number(portLabel);
      else problems.push(`HAPROXY_${n}_PORT: "${portLabel}" is not a port number`);
    }
    const enabled = label('ENABLED')?.trim().toLowerCase() !== 'false';
    const validVhosts = vhosts.filter((h) => !problems.some((p) => p.includes(`"${h}"`)));
    const mode = modeLabel === 'http' || (modeLabel !== 'tcp' && validVhosts.length > 0) ? 'http' : 'tcp';
    return {
      index: n,
      name: port.name,
      protocol: port.protocol,
      servicePort: enabled ? servicePort : null,
      mode,
      vhosts: enabled && mode === 'http' ? validVhosts : [],
      path: path !== null && path.startsWith('/') && !/\s/.test(path) ? path : null,
      balance: balanceLabel !== undefined && (BALANCE_ALGORITHMS as readonly string[]).includes(balanceLabel) ? (balanceLabel as BalanceAlgorithm) : 'roundrobin',
      group: label('GROUP')?.trim() || appGroup,
    };
  });
  if (exposure.ports.length === 0) {
    for (const key of Object.keys(labels)) if (/^HAPROXY_\d+_/.test(key)) problems.push(`${key}: the app has no ports`);
  }
  return { specs, deploymentGroup: labels.HAPROXY_DEPLOYMENT_GROUP?.trim() || exposure.appId, problems };
}
