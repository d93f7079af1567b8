// The dependency graph in the two text formats Chronos serves, so that tools reading them keep working.
//  - `/scheduler/graph/dot`: jgrapht's DOTExporter with an IntegerNameProvider for ids and the job name
//    as label (Chronos JobGraph.makeDotFile): `digraph G {`, `  1 [ label="a" ];`, `  1 -> 2;`, `}`.
//  - `/scheduler/graph/csv`: Chronos's Exporter.export: `node,NAME,LAST_STATE,CURRENT_STATE` per job,
//    then `link,PARENT,CHILD` per edge. LAST_STATE is success | failure | fresh (Exporter.getLastState),
//    CURRENT_STATE idle | queued | running (JobStats.getJobState).
// Chronos prints jobs in hash order; we print them in topological order, so the output is stable.

export type LastState = 'success' | 'failure' | 'fresh';
export type CurrentState = 'idle' | 'queued' | 'running';

export interface JobRunStatus {
  lastState: LastState;
  currentState: CurrentState;
}

interface GraphView {
  topologicalOrder(): string[];
  children(name: string): string[];
}

export function graphToDot(graph: GraphView): string {
  const order = graph.topologicalOrder();
  const id = new Map(order.map((name, i) => [name, i + 1]));
  const lines = ['digraph G {'];
  // jgrapht writes the label between quotes as is; a job name has no quote, but stay valid DOT regardless.
  for (const name of order) lines.push(`  ${id.get(name)} [ label="${name.replace(/["\\]/g, '\\$&')}" ];`);
  for (const name of order) {
    for (const child of graph.children(name)) lines.push(`  ${id.get(name)} -> ${id.get(child)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function graphToCsv(graph: GraphView, statusOf: (name: string) => JobRunStatus | undefined): string {
  const order = graph.topologicalOrder();
  let text = '';
  for (const name of order) {
    const status = statusOf(name);
    text += `node,${name},${status?.lastState ?? 'fresh'},${status?.currentState ?? 'idle'}\n`;
  }
  for (const name of order) {
    for (const child of graph.children(name)) text += `link,${name},${child}\n`;
  }
  return text;
}

/**
 * Chronos's last state from the times of the last success and the last failure (Exporter.getLastState):
 * neither is fresh, only one decides, and with both the success must be strictly later.
 */
export function lastStateOf(lastSuccess: Date | null, lastError: Date | null): LastState {
  if (lastSuccess === null && lastError === null) return 'fresh';
  if (lastSuccess === null) return 'failure';
  if (lastError === null) return 'success';
  return lastSuccess.getTime() > lastError.getTime() ? 'success' : 'failure';
}
