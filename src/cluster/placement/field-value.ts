// The value a constraint reads from an agent: its hostname for `hostname`, else the attribute's text.
import { attributeText } from '../resources/format.ts';
import type { Attributes } from '../types.ts';

/** What identifies an agent to constraints; kept for agents that left while their tasks are still counted. */
export interface AgentIdentity {
  hostname: string;
  attributes: Attributes;
}

/** `hostname` is the agent's hostname (Marathon: it wins over an attribute of that name); undefined when missing. */
export function fieldValue(agent: AgentIdentity, field: string): string | undefined {
  if (field === 'hostname') return agent.hostname;
  const attribute = agent.attributes[field];
  return attribute === undefined ? undefined : attributeText(attribute);
}
