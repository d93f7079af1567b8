// What an app offers to service discovery, read off its definition: its ports in order (PORT0, PORT1,
// ...) with the service port each asks for, and its labels (marathon-lb's HAPROXY_* among them).
// Discovery (wired in main.ts) reads these shapes; apps know nothing of DNS or load balancers.
import { appPorts, type AppDefinition } from '../definition/index.ts';

export interface ExposedPort {
  index: number;
  name: string | null;
  protocol: 'tcp' | 'udp';
  /**
   * Marathon's service port: `container.portMappings[i].servicePort` with bridge networking, or
   * `portDefinitions[i].port` with host networking without requirePorts; null where it is 0 (Marathon
   * would pick one: Gantry load balances only the ports an app asks for).
   */
  servicePort: number | null;
}

export interface AppExposure {
  appId: string;
  labels: Record<string, string>;
  ports: ExposedPort[];
}

/**
 * Checks an app's exposure against every other app's before its version is written (discovery's
 * rules, wired in main.ts): throws Invalid (a service port out of range) or Conflict (a service port or
 * virtual host another app holds, naming it).
 */
export interface ExposureCheck {
  check(app: AppExposure, others: readonly AppExposure[]): void;
}

export function exposureOf(definition: AppDefinition): AppExposure {
  const ports = appPorts(definition);
  const mappings = definition.container?.portMappings ?? [];
  return {
    appId: definition.id,
    labels: definition.labels,
    ports: ports.map((port, index) => {
      const asked = mappings.length > 0 ? mappings[index]!.servicePort : definition.requirePorts ? 0 : definition.portDefinitions[index]!.port;
      // `udp,tcp` is offered as tcp (the pool publishes TCP only).
      return { index, name: port.name, protocol: port.protocol === 'udp' ? 'udp' : 'tcp', servicePort: asked === 0 ? null : asked };
    }),
  };
}
