// Chronos job JSON exactly as Chronos documents it (mesos/chronos docs/docs/api.md) and as Chronos writes
// a job back (utils/JobSerializer.scala), for the tests to post unchanged.

/** api.md, "Adding a Scheduled Job". */
export const documentedScheduledJob = {
  schedule: 'R10/2012-10-01T05:52:00Z/PT2S',
  name: 'SAMPLE_JOB1',
  epsilon: 'PT15M',
  command: "echo 'FOO' >> /tmp/JOB1_OUT",
  owner: 'bob@airbnb.com',
  async: false,
};

/** api.md, "Adding a Dependent Job" (with the statistics a listing returns). */
export const documentedDependentJob = {
  async: true,
  command: 'bash -x /srv/data-infra/jobs/hive_query.bash run_hive hostings-earnings-summary',
  epsilon: 'PT30M',
  errorCount: 0,
  lastError: '',
  lastSuccess: '2013-03-15T13:02:14.243Z',
  name: 'hostings_earnings_summary',
  owner: 'bob@airbnb.com',
  parents: ['db_export-airbed_hostings', 'db_export-airbed_reservation2s'],
  retries: 2,
  successCount: 100,
};

/** api.md, "Adding a Docker Job": note the resources written as strings. */
export const documentedDockerJob = {
  schedule: 'R/2014-09-25T17:22:00Z/PT2M',
  name: 'dockerjob',
  container: {
    type: 'DOCKER',
    image: 'libmesos/ubuntu',
    network: 'BRIDGE',
    volumes: [{ containerPath: '/var/log/', hostPath: '/logs/', mode: 'RW' }],
  },
  cpus: '0.5',
  mem: '512',
  fetch: [],
  command: 'while sleep 10; do date =u %T; done',
};

/** api.md, "Sample Job". */
export const documentedSampleJob = {
  name: 'camus_kafka2hdfs',
  command: '/srv/data-infra/kafka/camus/kafka_hdfs_job.bash',
  arguments: ['-verbose', '-debug'],
  shell: false,
  epsilon: 'PT30M',
  executor: '',
  executorFlags: '',
  retries: 2,
  owner: 'bofh@your-company.com',
  async: false,
  successCount: 190,
  errorCount: 3,
  lastSuccess: '2014-03-08T16:57:17.507Z',
  lastError: '2014-03-01T00:10:15.957Z',
  cpus: 1.0,
  disk: 10240,
  mem: 1024,
  disabled: false,
  fetch: [{ uri: 'https://url-to-file', cache: false, extract: false, executable: false }],
  schedule: 'R/2014-03-08T20:00:00.000Z/PT2H',
  environmentVariables: [
    { name: 'JVMOPTS', value: '-Xmx1000m' },
    { name: 'JAVA_LIBRARY_PATH', value: '/usr/local/lib' },
  ],
};

/** A job as `GET /scheduler/jobs` returns it: every field JobSerializer writes, in its order. */
export const exportedScheduledJob = {
  name: 'nightly-report',
  command: 'python /srv/report.py',
  shell: true,
  epsilon: 'PT60S',
  executor: '',
  executorFlags: '',
  taskInfoData: '',
  retries: 2,
  owner: 'ops@example.com',
  ownerName: 'Ops',
  description: 'the nightly report',
  async: false,
  successCount: 412,
  errorCount: 7,
  lastSuccess: '2017-05-02T02:00:13.201Z',
  lastError: '2017-04-29T02:00:09.118Z',
  cpus: 0.1,
  disk: 256.0,
  mem: 128.0,
  disabled: false,
  softError: false,
  dataProcessingJobType: false,
  errorsSinceLastSuccess: 0,
  fetch: [],
  uris: [],
  environmentVariables: [],
  arguments: [],
  highPriority: false,
  runAsUser: 'root',
  concurrent: false,
  maxCompletionTime: 0,
  container: {
    type: 'DOCKER',
    image: 'python:3',
    network: 'HOST',
    volumes: [],
    forcePullImage: false,
    parameters: [],
  },
  constraints: [['rack', 'EQUALS', 'rack-1']],
  schedule: 'R5/2017-05-03T02:00:00.000Z/P1D',
  scheduleTimeZone: '',
};

/** A dependent job as Chronos returns it: `parents` and no schedule fields. */
export const exportedDependentJob = {
  ...Object.fromEntries(Object.entries(exportedScheduledJob).filter(([k]) => !['schedule', 'scheduleTimeZone', 'container'].includes(k))),
  name: 'report-mailer',
  command: 'mail-report',
  parents: ['nightly-report'],
};
