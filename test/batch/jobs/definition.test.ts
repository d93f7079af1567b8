import assert from 'node:assert/strict';
import { JOB_DEFAULTS, parseJobDefinition, type JobDefinition } from '../../../src/batch/jobs/index.ts';
import { Invalid } from '../../../src/shared/errors.ts';
import {
  documentedDependentJob,
  documentedDockerJob,
  documentedSampleJob,
  documentedScheduledJob,
  exportedDependentJob,
  exportedScheduledJob,
} from './chronos-jobs.ts';

const base = { name: 'job1', command: 'echo hi', schedule: 'R/2026-01-01T00:00:00Z/PT1H' };

function rejects(input: unknown, ...messages: RegExp[]): void {
  assert.throws(
    () => parseJobDefinition(input),
    (err: unknown) => {
      assert.ok(err instanceof Invalid, `expected Invalid, got ${String(err)}`);
      for (const message of messages) assert.match(err.message, message);
      return true;
    },
  );
}

describe('batch jobs: Chronos job JSON as documented', () => {
  it('accepts the scheduled job of "Adding a Scheduled Job"', () => {
    const job = parseJobDefinition(documentedScheduledJob);
    assert.equal(job.name, 'SAMPLE_JOB1');
    assert.equal(job.command, "echo 'FOO' >> /tmp/JOB1_OUT");
    assert.equal(job.timing.kind, 'scheduled');
    assert.equal(job.epsilonMs, 15 * 60_000);
    assert.equal(job.owner, 'bob@airbnb.com');
  });

  it('accepts the dependent job of "Adding a Dependent Job", ignoring its statistics', () => {
    const job = parseJobDefinition(documentedDependentJob);
    assert.deepEqual(job.timing, { kind: 'dependent', parents: ['db_export-airbed_hostings', 'db_export-airbed_reservation2s'] });
    assert.equal(job.epsilonMs, 30 * 60_000);
    assert.equal(job.retries, 2);
    for (const field of ['successCount', 'errorCount', 'lastSuccess', 'lastError']) assert.ok(!(field in job.source), field);
    assert.equal(job.source.async, true);
  });

  it('accepts the Docker job of "Adding a Docker Job", resources written as strings', () => {
    const job = parseJobDefinition(documentedDockerJob);
    assert.equal(job.cpus, 0.5);
    assert.equal(job.mem, 512);
    assert.equal(job.disk, JOB_DEFAULTS.disk);
    assert.deepEqual(job.container, {
      type: 'DOCKER',
      image: 'libmesos/ubuntu',
      forcePullImage: false,
      network: 'BRIDGE',
      volumes: [{ containerPath: '/var/log/', hostPath: '/logs/', mode: 'RW' }],
      parameters: [],
    });
    assert.equal(job.source.cpus, '0.5', 'the definition is kept as given');
  });

  it('accepts the "Sample Job": shell false, arguments, fetch, environment', () => {
    const job = parseJobDefinition(documentedSampleJob);
    assert.equal(job.shell, false);
    assert.deepEqual(job.arguments, ['-verbose', '-debug']);
    assert.deepEqual(job.fetch, [{ uri: 'https://url-to-file', executable: false, cache: false, extract: false }]);
    assert.deepEqual(job.environmentVariables, documentedSampleJob.environmentVariables);
    assert.deepEqual([job.cpus, job.mem, job.disk], [1, 1024, 10240]);
  });

  it('accepts a job exported from Chronos (every field JobSerializer writes) and drops its statistics', () => {
    const job = parseJobDefinition(exportedScheduledJob);
    assert.equal(job.concurrencyPolicy, 'Forbid');
    assert.equal(job.maxCompletionTimeMs, null);
    assert.equal(job.runAsUser, 'root');
    assert.deepEqual(job.constraints, [['rack', 'IS', 'rack-1']]);
    const { successCount, errorCount, lastSuccess, lastError, errorsSinceLastSuccess, ...definition } = exportedScheduledJob;
    assert.deepEqual(job.source, definition);
    assert.equal(parseJobDefinition(exportedDependentJob).timing.kind, 'dependent');
  });

  it('never rewrites the schedule: R5 stays R5', () => {
    const job = parseJobDefinition(exportedScheduledJob);
    assert.equal(job.source.schedule, 'R5/2017-05-03T02:00:00.000Z/P1D');
  });
});

describe('batch jobs: defaults and Gantry fields', () => {
  it("fills in Chronos's defaults", () => {
    const job = parseJobDefinition(base);
    const expected: Partial<JobDefinition> = {
      shell: true,
      arguments: [],
      epsilonMs: 60_000,
      retries: 2,
      cpus: 0.1,
      mem: 128,
      disk: 256,
      disabled: false,
      softError: false,
      concurrencyPolicy: 'Forbid',
      triggerRule: 'all_success',
      retryBackoff: { initialMs: 60_000, factor: 2, maxMs: 3_600_000 },
      history: { successful: 100, failed: 100 },
      maxCompletionTimeMs: null,
      container: null,
      runAsUser: null,
      constraints: [],
      fetch: [],
    };
    for (const [field, value] of Object.entries(expected)) assert.deepEqual(job[field as keyof JobDefinition], value, field);
  });

  it('reads 0 resources as the defaults, as Chronos does', () => {
    const job = parseJobDefinition({ ...base, cpus: 0, mem: 0, disk: '0' });
    assert.deepEqual([job.cpus, job.mem, job.disk], [0.1, 128, 256]);
  });

  const policies: Array<[Record<string, unknown>, string]> = [
    [{}, 'Forbid'],
    [{ concurrent: false }, 'Forbid'],
    [{ concurrent: true }, 'Allow'],
    [{ concurrent: 'true' }, 'Allow'],
    [{ concurrencyPolicy: 'Replace' }, 'Replace'],
    [{ concurrent: false, concurrencyPolicy: 'Replace' }, 'Replace'],
    [{ concurrent: true, concurrencyPolicy: 'Allow' }, 'Allow'],
  ];
  for (const [fields, policy] of policies) {
    it(`concurrencyPolicy of ${JSON.stringify(fields)} is ${policy}`, () => {
      assert.equal(parseJobDefinition({ ...base, ...fields }).concurrencyPolicy, policy);
    });
  }

  it('accepts a cron schedule with a zone', () => {
    const job = parseJobDefinition({ name: 'c', command: 'x', cron: '0 2 * * *', scheduleTimeZone: 'America/New_York' });
    assert.equal(job.timing.kind, 'scheduled');
  });

  it('reads retryBackoff, triggerRule, history and maxCompletionTime', () => {
    const job = parseJobDefinition({
      name: 'd',
      command: 'x',
      parents: ['a', 'b', 'a'],
      retryBackoff: { initial: 'PT10S', factor: 3, max: '5m' },
      triggerRule: 'all_done',
      history: { successful: 5, failed: '2' },
      maxCompletionTime: 90_000,
    });
    assert.deepEqual(job.timing, { kind: 'dependent', parents: ['a', 'b'] });
    assert.deepEqual(job.retryBackoff, { initialMs: 10_000, factor: 3, maxMs: 300_000 });
    assert.equal(job.triggerRule, 'all_done');
    assert.deepEqual(job.history, { successful: 5, failed: 2 });
    assert.equal(job.maxCompletionTimeMs, 90_000);
  });

  it("anchors Chronos's empty start (R1//PT24H, \"from now\") on the definition time it is given", () => {
    rejects({ ...base, schedule: 'R1//PT24H' }, /schedule: "R1\/\/PT24H" has an empty start/);
    const definedAt = new Date('2026-02-03T04:05:06Z');
    const job = parseJobDefinition({ ...base, schedule: 'R1//PT24H' }, { definedAt });
    assert.equal(job.definedAt, definedAt);
    assert.equal(job.source.schedule, 'R1//PT24H');
    assert.deepEqual(job.timing.kind === 'scheduled' && job.timing.schedule.kind === 'iso8601' && job.timing.schedule.start, definedAt);
  });

  it('reads a null field as an absent one', () => {
    const job = parseJobDefinition({ ...base, cron: null, container: null, owner: null });
    assert.equal(job.container, null);
    assert.equal(job.owner, '');
  });

  const constraints: Array<[string[], string[]]> = [
    [['rack', 'EQUALS', 'rack-1'], ['rack', 'IS', 'rack-1']],
    [['rack', 'LIKE', 'rack-[1-3]'], ['rack', 'LIKE', 'rack-[1-3]']],
    [['rack', 'UNLIKE', 'rack-[1-3]'], ['rack', 'UNLIKE', 'rack-[1-3]']],
    [['hostname', 'UNIQUE'], ['hostname', 'UNIQUE']],
    [['rack', 'group_by', '2'], ['rack', 'GROUP_BY', '2']],
    [['rack', 'CLUSTER', ''], ['rack', 'CLUSTER']],
    [['rack', 'MAX_PER', '3'], ['rack', 'MAX_PER', '3']],
  ];
  for (const [given, expected] of constraints) {
    it(`maps constraint ${JSON.stringify(given)} to ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseJobDefinition({ ...base, constraints: [given] }).constraints, [expected]);
    });
  }
});

describe('batch jobs: bad definitions name every field at fault', () => {
  const cases: Array<[string, unknown, RegExp[]]> = [
    ['not an object', ['a'], [/a job definition is a JSON object \(got an array\)/]],
    ['no command', { name: 'a', schedule: base.schedule }, [/command: required/]],
    ['a number where a string goes', { ...base, command: 5 }, [/command: expected string, received number/]],
    ['cpus that is not a number', { ...base, cpus: 'lots' }, [/cpus: expected number/]],
    ['negative retries', { ...base, retries: -1 }, [/retries: Too small/]],
    ['a boolean that is not one', { ...base, shell: 'yes' }, [/shell: expected boolean/]],
    [
      'unknown fields, each named, with the field meant',
      { name: 'a', comand: 'x', shedule: base.schedule, command: 'y', schedule: base.schedule },
      [/unknown field "comand" \(did you mean "command"\?\)/, /unknown field "shedule" \(did you mean "schedule"\?\)/],
    ],
    ['an unknown field in the container', { ...base, container: { image: 'x', imgae: 'y' } }, [/container: unknown field "imgae" \(did you mean "image"\?\)/]],
    ['an unknown field far from any', { ...base, color: 'blue' }, [/unknown field "color"(?! \(did)/]],
    ['a bad schedule, reported by the schedule module', { ...base, schedule: 'R/2026-01-01T00:00:00Z/P' }, [/schedule/]],
    ['a bad epsilon', { ...base, epsilon: '15 minutes' }, [/epsilon: duration "15 minutes"/]],
    ['both schedule and cron', { ...base, cron: '* * * * *' }, [/give only one of "schedule", "cron" and "parents" \(got "schedule" and "cron"\)/]],
    ['both schedule and parents', { ...base, parents: ['a'] }, [/got "schedule" and "parents"/]],
    ['neither schedule nor parents', { name: 'a', command: 'x' }, [/a job needs one of "schedule" .*, "cron" .* or "parents"/]],
    ['no parent in parents', { name: 'a', command: 'x', parents: [] }, [/parents: a dependent job needs at least one parent/]],
    ['a zone on a dependent job', { name: 'a', command: 'x', parents: ['b'], scheduleTimeZone: 'UTC' }, [/scheduleTimeZone: applies only to a "schedule" or a "cron"/]],
    ['an unknown constraint operator', { ...base, constraints: [['rack', 'NEAR', 'x']] }, [/constraints\[0\]: unknown operator "NEAR" \(known: EQUALS, UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS, WITH, WITHOUT\)/]],
    ['EQUALS without a value', { ...base, constraints: [['rack', 'EQUALS']] }, [/constraints\[0\]: EQUALS needs a value/]],
    ['a bad regular expression', { ...base, constraints: [['rack', 'LIKE', '[a-']] }, [/constraints\[0\]: "\[a-" is not a valid regular expression/]],
    ['a one-item constraint', { ...base, constraints: [['rack']] }, [/constraints\[0\]: expected \[attribute, OPERATOR, value\] \(got 1 item\)/]],
    ['a name Chronos refuses', { ...base, name: 'my/job' }, [/name: "my\/job" has characters a job name cannot have/]],
    ['an empty name', { ...base, name: '' }, [/name: a job name needs at least one character/]],
    ['a name too long for a task owner', { ...base, name: 'x'.repeat(151) }, [/name: a job name has at most 150 characters/]],
    ['a variable name a shell cannot use', { ...base, environmentVariables: [{ name: 'MY-VAR', value: '1' }] }, [/environmentVariables\[0\]\.name: "MY-VAR" is not a variable name/]],
    ['concurrent contradicting concurrencyPolicy', { ...base, concurrent: true, concurrencyPolicy: 'Forbid' }, [/concurrencyPolicy: "Forbid" contradicts "concurrent": true/]],
    ['an unknown concurrencyPolicy', { ...base, concurrencyPolicy: 'Queue' }, [/concurrencyPolicy: expected one of "Allow"\|"Forbid"\|"Replace"/]],
    ['an unknown triggerRule', { name: 'a', command: 'x', parents: ['b'], triggerRule: 'any' }, [/triggerRule: expected one of "all_success"/]],
    ['a custom executor', { ...base, executor: '/usr/bin/my-executor' }, [/executor: custom Mesos executors are not supported/]],
    ['a retry cap under the first delay', { ...base, retryBackoff: { initial: '10m', max: '1m' } }, [/retryBackoff\.max: must not be shorter than retryBackoff\.initial/]],
    ['a bad retry delay', { ...base, retryBackoff: { initial: 'soon' } }, [/retryBackoff\.initial: expected an ISO 8601 duration such as PT30S, or 500ms/]],
    ['a container without an image', { ...base, container: { type: 'DOCKER' } }, [/container\.image: required/]],
    ['a bad network', { ...base, container: { image: 'x', network: 'OVERLAY' } }, [/container\.network: expected one of "BRIDGE"\|"HOST"\|"USER"\|"NONE"/]],
    ['a bad volume mode', { ...base, container: { image: 'x', volumes: [{ containerPath: '/a', mode: 'RX' }] } }, [/container\.volumes\[0\]\.mode: expected one of "RW"\|"RO"/]],
  ];
  for (const [what, input, messages] of cases) {
    it(`rejects ${what}`, () => rejects(input, ...messages));
  }

  it('lists every problem in one answer, with the job name', () => {
    rejects(
      { name: 'multi', command: 'x', cron: '* * * * *', cpus: -1, comand: 'y', constraints: [['rack', 'NEAR', 'x']] },
      /^invalid job "multi": /,
      /cpus: Too small/,
      /unknown field "comand"/,
      /constraints\[0\]: unknown operator "NEAR"/,
    );
  });

  it('keeps the problems as details for the API', () => {
    try {
      parseJobDefinition({ ...base, cpus: 'lots', comand: 'x' });
      assert.fail('expected Invalid');
    } catch (err) {
      assert.ok(err instanceof Invalid);
      const { problems } = err.details as { problems: Array<{ path: string; problem: string }> };
      assert.deepEqual(problems.map((p) => p.path).sort(), ['', 'cpus']);
    }
  });
});
