// TaskSpec.user: a task naming a user lands only on agents that allow it (their `--task-users`, as
// they registered them). A task naming none runs as each agent's default task user: any agent will do.
import type { Filter } from '../types.ts';

export const taskUserFilter: Filter = {
  name: 'user',
  appliesTo: (spec) => spec.user !== undefined,
  check(agent, spec) {
    return agent.taskUsers?.includes(spec.user!) ? true : { key: `did not allow user ${spec.user}` };
  },
};
