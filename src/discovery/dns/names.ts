// How an app's id becomes its DNS names, Mesos-DNS style: `/prod/web` is `web.prod.gantry.` (the id's
// segments reversed, then the domain, as Marathon's `PathId.toHostname` names a task), an instance is
// `<instanceId>.web.prod.gantry.`, and its ports are `_web._tcp.prod.gantry.` (RFC 2782: the app's
// last segment is the service, its group is the domain) and, for a named port,
// `_http._web._tcp.prod.gantry.` (Mesos-DNS's named-port form). One place, so that the zone, the CLI
// (`gantry dns lookup web.prod`) and the apps' views show the same names.
import { Invalid } from '../../shared/errors.ts';

export const DEFAULT_DOMAIN = 'gantry';

/** RFC 1035 2.3.4: a label is at most 63 bytes, a name at most 255 on the wire (253 written, no root dot). */
export const MAX_LABEL = 63;
export const MAX_NAME = 253;

/** A name as the zone keys it: lower case (DNS names compare case-insensitively), ending in the root dot. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  if (lower === '' || lower === '.') return '.';
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** The zone's apex for a configured domain (`gantry`, `apps.example.com.`): `gantry.`. */
export function zoneApex(domain: string = DEFAULT_DOMAIN): string {
  const apex = canonicalName(domain.replace(/^\.+/, ''));
  if (apex === '.' || !isValidName(apex)) throw new Invalid(`"${domain}" is not a valid DNS domain: dot-separated labels of letters, digits and "-", each at most 63 characters`);
  return apex;
}

/** Whether a canonical name can be written on the wire: labels of 1..63 ASCII characters, at most 253 in all. */
export function isValidName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > MAX_NAME || !/^[\x21-\x7e]+$/.test(bare)) return false;
  return bare.split('.').every((label) => label.length > 0 && label.length <= MAX_LABEL);
}

/**
 * One label made of an instance id or a port name: lower case, anything but letters, digits, `-` and
 * `_` (a `.` would split it into two labels) becomes `-`. Gantry's own ids (`i-lx3k9c-1a2b3c4d`) pass
 * unchanged.
 */
export function labelOf(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

/** The app id's segments, reversed: `/prod/web` → `web.prod`. A segment written with dots keeps them (Marathon does too). */
function reversedPath(appId: string): string {
  return appId
    .split('/')
    .filter((segment) => segment !== '')
    .reverse()
    .join('.')
    .toLowerCase();
}

/** `/prod/web` → `web.prod.gantry.`: the name whose A (AAAA) records are the app's up instances. */
export function appDnsName(appId: string, apex: string): string {
  return `${reversedPath(appId)}.${apex}`;
}

/** `<instanceId>.web.prod.gantry.`: one instance's own address; the target of the app's SRV records. */
export function instanceDnsName(appId: string, instanceId: string, apex: string): string {
  return `${labelOf(instanceId)}.${appDnsName(appId, apex)}`;
}

/** `_web._tcp.prod.gantry.` for every port of the protocol; with a port name, `_http._web._tcp.prod.gantry.` for that port. */
export function srvDnsName(appId: string, protocol: 'tcp' | 'udp', apex: string, portName: string | null = null): string {
  const segments = appId.split('/').filter((segment) => segment !== '');
  const service = (segments.pop() ?? '').toLowerCase();
  const group = segments.reverse().join('.').toLowerCase();
  const base = `_${service}._${protocol}.${group === '' ? '' : `${group}.`}${apex}`;
  return portName === null ? base : `_${labelOf(portName)}.${base}`;
}

/**
 * What a user typed (`web.prod`, `web.prod.gantry`, `WEB.prod.gantry.`, `/prod/web`) as a name in the
 * zone: an app id becomes its name, a name not already under the domain gets it appended.
 */
export function qualifyName(written: string, apex: string): string {
  if (written.startsWith('/')) return appDnsName(written, apex);
  const name = canonicalName(written);
  if (written.endsWith('.') || name === apex || name.endsWith(`.${apex}`)) return name;
  return `${name.slice(0, -1)}.${apex}`;
}

/** The names one app answers at, for the CLI and the apps' views (whether or not it has instances up now). */
export interface AppDnsNames {
  a: string;
  srv: string[];
}

export function appDnsNames(appId: string, ports: ReadonlyArray<{ name: string | null; protocol: 'tcp' | 'udp' }>, apex: string): AppDnsNames {
  const srv = new Set<string>();
  for (const port of ports) {
    srv.add(srvDnsName(appId, port.protocol, apex));
    if (port.name !== null) srv.add(srvDnsName(appId, port.protocol, apex, port.name));
  }
  return { a: appDnsName(appId, apex), srv: [...srv] };
}
