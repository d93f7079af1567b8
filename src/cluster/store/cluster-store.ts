// The pool's own tables, agents and tasks, with their SQL: the cluster owns them as batch/ and ci/ own
// theirs, and gets only the knex handle from main.ts (src/store/ connects and migrates, all migrations
// included). Built once and handed to the master, the task log store (log removals) and log retention.
import type { Knex } from 'knex';
import { AgentRepository } from './agents.ts';
import { TaskRepository } from './tasks.ts';

export class ClusterStore {
  readonly agents: AgentRepository;
  readonly tasks: TaskRepository;

  constructor(knex: Knex) {
    this.agents = new AgentRepository(knex);
    this.tasks = new TaskRepository(knex);
  }
}

export type { AgentRepository } from './agents.ts';
export type { TaskRepository, TaskQuery, Staging, Finish, Restart, ProbeVerdicts } from './tasks.ts';
