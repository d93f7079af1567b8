import assert from 'node:assert/strict';
import { parseJobDefinition, taskForRun, type RunInfo } from '../../../src/batch/jobs/index.ts';
import { parseTaskSpec } from '../../../src/cluster/task-spec.ts';
import { Invalid } from '../../../src/shared/errors.ts';
import { documentedDockerJob, documentedSampleJob, documentedScheduledJob, exportedScheduledJob } from './chronos-jobs.ts';

const run: RunInfo = { runId: 'r-mhx3kq2p-4f0a9z', scheduledAt: new Date('2026-01-01T10:00:00.000Z'), attempt: 0 };

describe('batch jobs: one run as a pool task', () => {
  it('runs a shell job through sh -c, owned by job:NAME:RUN, grouped by job', () => {
    const task = taskForRun(parseJobDefinition(documentedScheduledJob), run);
    assert.equal(task.owner, 'job:SAMPLE_JOB1:r-mhx3kq2p-4f0a9z');
    assert.equal(task.submission.cmd, "echo 'FOO' >> /tmp/JOB1_OUT");
    assert.equal(task.submission.args, undefined);
    assert.equal(task.submission.group, 'job:SAMPLE_JOB1');
    assert.equal(task.submission.name, 'SAMPLE_JOB1');
    assert.deepEqual([task.submission.cpus, task.submission.mem, task.submission.disk], [0.1, 128, 256]);
    assert.deepEqual(task.notApplied, []);
  });

  it('runs shell:false as the program with its arguments, plus the arguments of a manual run', () => {
    const job = parseJobDefinition(documentedSampleJob);
    assert.deepEqual(taskForRun(job, run).submission.args, ['/srv/data-infra/kafka/camus/kafka_hdfs_job.bash', '-verbose', '-debug']);
    const manual = taskForRun(job, { ...run, extraArguments: ['--since', 'yesterday'] });
    assert.deepEqual(manual.submission.args?.slice(-2), ['--since', 'yesterday']);
    assert.equal(manual.submission.cmd, undefined);
  });

  it('ignores the arguments of a manual run for a shell command, and says so', () => {
    const task = taskForRun(parseJobDefinition(documentedScheduledJob), { ...run, extraArguments: ['-x'] });
    assert.equal(task.submission.cmd, "echo 'FOO' >> /tmp/JOB1_OUT");
    assert.deepEqual(task.notApplied, ['arguments of this run: ignored for a shell command, as in Chronos']);
  });

  it("sets Chronos's task variables and Gantry's run variables", () => {
    const job = parseJobDefinition({ ...documentedScheduledJob, mem: 512, cpus: 0.25 });
    const env = taskForRun(job, { ...run, attempt: 2 }).submission.env!;
    assert.deepEqual(env, {
      GANTRY_JOB_NAME: 'SAMPLE_JOB1',
      GANTRY_RUN_ID: 'r-mhx3kq2p-4f0a9z',
      GANTRY_SCHEDULED_TIME: '2026-01-01T10:00:00.000Z',
      GANTRY_RUN_ATTEMPT: '2',
      mesos_task_id: 'ct:1767261600000:2:SAMPLE_JOB1:',
      CHRONOS_JOB_OWNER: 'bob@airbnb.com',
      CHRONOS_JOB_NAME: 'SAMPLE_JOB1',
      CHRONOS_RESOURCE_MEM: '512.0',
      CHRONOS_RESOURCE_CPU: '0.25',
      CHRONOS_RESOURCE_DISK: '256.0',
      CHRONOS_JOB_RUN_TIME: '1767261600000',
      CHRONOS_JOB_RUN_ATTEMPT: '2',
    });
  });

  it("adds the job's variables without letting them replace the run's; the first of a name wins", () => {
    const job = parseJobDefinition({
      ...documentedSampleJob,
      environmentVariables: [
        { name: 'CHRONOS_RESOURCE_MEM', value: '10000' },
        { name: 'GANTRY_RUN_ID', value: 'mine' },
        { name: 'JVMOPTS', value: '-Xmx1g' },
        { name: 'JVMOPTS', value: '-Xmx2g' },
      ],
    });
    const env = taskForRun(job, run).submission.env!;
    assert.equal(env.CHRONOS_RESOURCE_MEM, '1024.0');
    assert.equal(env.GANTRY_RUN_ID, 'r-mhx3kq2p-4f0a9z');
    assert.equal(env.JVMOPTS, '-Xmx1g');
  });

  it('maps constraints and runs a container on its image, listing what is not honoured yet', () => {
    const task = taskForRun(parseJobDefinition(exportedScheduledJob), run);
    assert.deepEqual(task.submission.constraints, [['rack', 'IS', 'rack-1']]);
    assert.equal(task.submission.image, 'python:3');
    assert.deepEqual(task.notApplied, ['runAsUser "root": tasks run as the agent\'s user']);

    const docker = taskForRun(parseJobDefinition(documentedDockerJob), run);
    assert.deepEqual(docker.notApplied, ['container.volumes: 1 volume(s) not mounted']);
    assert.equal(docker.submission.network, 'bridge', "Chronos's network goes to the Docker driver");
    assert.equal(taskForRun(parseJobDefinition(documentedSampleJob), run).notApplied[0], 'fetch/uris: 1 file(s) not downloaded; files are not fetched into the sandbox yet');
  });

  const accepted: Array<[string, Record<string, unknown>]> = [
    ['the scheduled job', documentedScheduledJob],
    ['the Docker job', documentedDockerJob],
    ['the sample job', documentedSampleJob],
    ['the exported job', exportedScheduledJob],
    ['a job with Marathon constraints', { ...documentedScheduledJob, constraints: [['hostname', 'UNIQUE'], ['rack', 'GROUP_BY', '2'], ['rack', 'LIKE', 'r[0-9]']] }],
  ];
  for (const [what, definition] of accepted) {
    it(`makes a submission the pool accepts for ${what}`, () => {
      const task = taskForRun(parseJobDefinition(definition), run);
      const spec = parseTaskSpec({ ...task.submission, owner: task.owner }, task.owner);
      assert.equal(spec.owner, task.owner);
    });
  }

  it('refuses a run id that would make the owner longer than the pool takes', () => {
    const job = parseJobDefinition({ ...documentedScheduledJob, name: 'n'.repeat(150) });
    assert.throws(() => taskForRun(job, { ...run, runId: 'r'.repeat(60) }), (err: unknown) => err instanceof Invalid);
  });
});
