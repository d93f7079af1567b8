// Docker token scopes: `repository:NAME:pull,push` in a challenge, a token request and a token's
// `access` claim ({type, name, actions}).
import { isName } from '../protocol/names.ts';
import { REGISTRY_ACTIONS, type RegistryAction, type RegistryScope } from './authorizer.ts';

export interface AccessEntry {
  type: 'repository';
  name: string;
  actions: RegistryAction[];
}

/**
 * The repository scopes of a token request. Unknown resource types (`registry:catalog:*`), invalid
 * names and unknown actions are left out: they are granted nothing. `*` means every action.
 */
export function parseScopes(scopes: readonly string[]): RegistryScope[] {
  const byRepository = new Map<string, Set<RegistryAction>>();
  for (const scope of scopes) {
    for (const one of scope.split(' ')) {
      const parts = one.split(':');
      if (parts.length !== 3 || parts[0] !== 'repository') continue;
      const name = parts[1]!;
      if (!isName(name)) continue;
      const actions = byRepository.get(name) ?? new Set<RegistryAction>();
      for (const action of parts[2]!.split(',')) {
        if (action === '*') REGISTRY_ACTIONS.forEach((a) => actions.add(a));
        else if ((REGISTRY_ACTIONS as readonly string[]).includes(action)) actions.add(action as RegistryAction);
      }
      byRepository.set(name, actions);
    }
  }
  return [...byRepository].map(([repository, actions]) => ({ repository, actions: sortActions(actions) }));
}

export function formatScope(scope: RegistryScope): string {
  return `repository:${scope.repository}:${scope.actions.join(',')}`;
}

/** Actions in their canonical order (pull, push, delete), without duplicates. */
export function sortActions(actions: Iterable<RegistryAction>): RegistryAction[] {
  const set = new Set(actions);
  return REGISTRY_ACTIONS.filter((a) => set.has(a));
}

export function intersect(a: readonly RegistryAction[], b: readonly RegistryAction[]): RegistryAction[] {
  return a.filter((action) => b.includes(action));
}
