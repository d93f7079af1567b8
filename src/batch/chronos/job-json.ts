// Jobs as Chronos serves them (JobSerializer): the definition as it was given, plus the read-only
// statistics fields Chronos adds (successCount, errorCount, lastSuccess, lastError,
// errorsSinceLastSuccess; dates as ISO strings, "" when never). Posting such a JSON back is accepted
// unchanged: the definition parser ignores those fields.
import type { JobDetails } from '../batch-service.ts';

export function chronosJobJson(job: JobDetails): Record<string, unknown> {
  return {
    ...job.definition,
    name: job.name,
    successCount: job.stats.successCount,
    errorCount: job.stats.errorCount,
    lastSuccess: job.stats.lastSuccessAt ?? '',
    lastError: job.stats.lastErrorAt ?? '',
    errorsSinceLastSuccess: job.stats.errorsSinceLastSuccess,
  };
}

/** Chronos's jobs/search: each given term, lower-cased, must be contained in the field (any: name or command). */
export function matchesSearch(job: JobDetails, query: { name?: string; command?: string; any?: string }): boolean {
  const name = job.name.toLowerCase();
  const command = String(job.definition.command ?? '').toLowerCase();
  if (query.name !== undefined && !name.includes(query.name.toLowerCase())) return false;
  if (query.command !== undefined && !command.includes(query.command.toLowerCase())) return false;
  if (query.any !== undefined && !name.includes(query.any.toLowerCase()) && !command.includes(query.any.toLowerCase())) return false;
  return true;
}

/** Chronos 3's jobs/summary entry. */
export function chronosSummary(job: JobDetails): Record<string, unknown> {
  const status = job.stats.lastSuccessAt === null && job.stats.lastErrorAt === null
    ? 'fresh'
    : (job.stats.lastErrorAt ?? '') > (job.stats.lastSuccessAt ?? '') ? 'failure' : 'success';
  return {
    name: job.name,
    status,
    state: job.activeRuns > 0 ? '1 running' : 'idle',
    schedule: job.kind === 'scheduled' ? String(job.definition.schedule ?? job.definition.cron ?? '') : '',
    parents: job.parents,
    disabled: job.disabled,
  };
}
