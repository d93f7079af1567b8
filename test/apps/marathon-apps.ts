// App and group JSON from Marathon's own documentation (mesosphere/marathon, docs/docs/), copied
// unchanged, and an app as Marathon 1.x's GET /v2/apps/ID returns it (read-only fields included).

/** application-basics.md, "Hello Marathon: An Inline Shell Script". */
export const basic0 = {
  id: 'basic-0',
  cmd: "while [ true ] ; do echo 'Hello Marathon' ; sleep 5 ; done",
  cpus: 0.1,
  mem: 10.0,
  instances: 1,
};

/** application-basics.md, "A Simple Docker-based Application". */
export const basic3 = {
  id: 'basic-3',
  cmd: 'python3 -m http.server 8080',
  cpus: 0.5,
  mem: 32.0,
  networks: [{ mode: 'container/bridge' }],
  container: {
    type: 'DOCKER',
    docker: {
      image: 'python:3',
    },
    portMappings: [{ containerPort: 8080, hostPort: 0 }],
  },
};

/** native-docker.md, "Dynamic port mapping": a python http.server with a health check. */
export const bridgedWebapp = {
  id: 'bridged-webapp',
  cmd: 'python3 -m http.server 8080',
  cpus: 0.5,
  mem: 64.0,
  instances: 2,
  networks: [{ mode: 'container/bridge' }],
  container: {
    type: 'DOCKER',
    docker: {
      image: 'python:3',
    },
    portMappings: [
      { containerPort: 8080, hostPort: 0, servicePort: 9000, protocol: 'tcp' },
      { containerPort: 161, hostPort: 0, protocol: 'udp' },
    ],
  },
  healthChecks: [
    {
      protocol: 'HTTP',
      portIndex: 0,
      path: '/',
      gracePeriodSeconds: 5,
      intervalSeconds: 20,
      maxConsecutiveFailures: 3,
    },
  ],
};

/** health-checks.md, "Example usage": one of each protocol. */
export const documentedHealthChecks = {
  HTTP: { path: '/api/health', portIndex: 0, protocol: 'HTTP', gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, ignoreHttp1xx: false },
  MESOS_HTTP: { path: '/api/health', portIndex: 0, protocol: 'MESOS_HTTP', gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3 },
  HTTPS: { path: '/api/health', portIndex: 0, protocol: 'HTTPS', gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, ignoreHttp1xx: false },
  TCP: { portIndex: 0, protocol: 'TCP', gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 0 },
  COMMAND: { protocol: 'COMMAND', command: { value: 'curl -f -X GET http://$HOST:$PORT0/health' }, gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3 },
} as const;

/** readiness-checks.md, "Example Usage". */
export const documentedReadinessCheck = {
  name: 'readinessCheck',
  protocol: 'HTTP',
  path: '/',
  portName: 'http-api',
  intervalSeconds: 30,
  timeoutSeconds: 10,
  httpStatusCodesForReady: [200],
  preserveLastResponse: false,
};

/** rest-api/public/api/v2/examples/apps_create.json: two apps, one depending on the other and on an app elsewhere. */
export const appsCreate = [
  {
    id: '/test/sleep60',
    cmd: 'sleep 60',
    cpus: 0.3,
    instances: 2,
    mem: 9,
    dependencies: ['/test/sleep120', '/other/namespace/or/app'],
  },
  {
    id: '/test/sleep120',
    cmd: 'sleep 120',
    cpus: 0.3,
    instances: 2,
    mem: 9,
  },
];

/** rest-api/public/api/v2/examples/app_list.json: an app as Marathon 0.x/1.0 listed it (nulls, deprecated `ports`). */
export const listedApp = {
  id: '/myapp',
  cmd: 'env && sleep 60',
  args: null,
  user: null,
  env: {
    LD_LIBRARY_PATH: '/usr/local/lib/myLib',
  },
  instances: 3,
  cpus: 0.1,
  mem: 5,
  disk: 0,
  executor: '',
  constraints: [['hostname', 'UNIQUE', '']],
  uris: ['https://raw.github.com/mesosphere/marathon/master/README.md'],
  ports: [10013, 10015],
  requirePorts: false,
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 3600,
  container: null,
  healthChecks: [],
  dependencies: [],
  upgradeStrategy: {
    minimumHealthCapacity: 1,
    maximumOverCapacity: 1,
  },
  labels: {},
  acceptedResourceRoles: null,
  version: '2015-09-25T15:13:48.343Z',
  versionInfo: {
    lastScalingAt: '2015-09-25T15:13:48.343Z',
    lastConfigChangeAt: '2015-09-25T15:13:48.343Z',
  },
  tasksStaged: 0,
  tasksRunning: 0,
  tasksHealthy: 0,
  tasksUnhealthy: 0,
  deployments: [
    {
      id: '9538079c-3898-4e32-aa31-799bf9097f74',
    },
  ],
};

/**
 * `bridgedWebapp` as Marathon 1.x's GET /v2/apps/bridged-webapp?embed=app.taskStats&embed=app.lastTaskFailure
 * returns it: canonical fields written out with their defaults, and the read-only ones.
 */
export const exportedWebapp = {
  id: '/bridged-webapp',
  backoffFactor: 1.15,
  backoffSeconds: 1,
  cmd: 'python3 -m http.server $PORT0',
  container: {
    type: 'DOCKER',
    docker: { forcePullImage: false, image: 'python:3', parameters: [], privileged: false },
    volumes: [],
    portMappings: [{ containerPort: 0, hostPort: 0, labels: {}, protocol: 'tcp', servicePort: 10000, name: 'http' }],
  },
  cpus: 0.5,
  disk: 0,
  executor: '',
  instances: 2,
  labels: {},
  maxLaunchDelaySeconds: 300,
  mem: 64,
  gpus: 0,
  networks: [{ mode: 'container/bridge' }],
  requirePorts: false,
  upgradeStrategy: { maximumOverCapacity: 1, minimumHealthCapacity: 1 },
  killSelection: 'YOUNGEST_FIRST',
  unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
  healthChecks: [
    {
      gracePeriodSeconds: 5,
      ignoreHttp1xx: false,
      intervalSeconds: 20,
      maxConsecutiveFailures: 3,
      path: '/',
      portIndex: 0,
      protocol: 'HTTP',
      ipProtocol: 'IPv4',
      timeoutSeconds: 20,
      delaySeconds: 15,
    },
  ],
  fetch: [],
  constraints: [],
  dependencies: [],
  readinessChecks: [],
  secrets: {},
  acceptedResourceRoles: ['*'],
  role: '*',
  version: '2019-04-08T13:55:42.394Z',
  versionInfo: { lastScalingAt: '2019-04-08T13:55:42.394Z', lastConfigChangeAt: '2019-04-08T13:55:42.394Z' },
  tasksStaged: 0,
  tasksRunning: 2,
  tasksHealthy: 2,
  tasksUnhealthy: 0,
  deployments: [],
  tasks: [
    {
      id: 'bridged-webapp.instance-3d4e5f60-5a01-11e9-9c56-0242ac110002._app.1',
      appId: '/bridged-webapp',
      host: '10.0.1.12',
      ports: [31234],
      startedAt: '2019-04-08T13:55:45.120Z',
      state: 'TASK_RUNNING',
      version: '2019-04-08T13:55:42.394Z',
      healthCheckResults: [{ alive: true, consecutiveFailures: 0, instanceId: 'bridged-webapp.marathon-3d4e5f60-5a01-11e9-9c56-0242ac110002' }],
    },
  ],
  lastTaskFailure: { appId: '/bridged-webapp', message: 'Container exited with status 1', state: 'TASK_FAILED', timestamp: '2019-04-08T13:50:01.002Z' },
  taskStats: { startedAfterLastScaling: { stats: { counts: { staged: 0, running: 2, healthy: 2, unhealthy: 0 } } } },
};

/** rest-api/public/api/v2/examples/group.json (part): a group of apps in Marathon 0.x's form. */
export const documentedGroup = {
  id: '/',
  apps: [],
  groups: [
    {
      id: '/tools',
      apps: [
        {
          id: '/tools/oauth-server',
          instances: 2,
          cpus: 1,
          mem: 1024,
          disk: 0,
          constraints: [['hostname', 'UNIQUE']],
          uris: [],
          ports: [1980],
          requirePorts: false,
          backoffSeconds: 1,
          backoffFactor: 1.15,
          maxLaunchDelaySeconds: 3600,
          container: {
            type: 'DOCKER',
            volumes: [],
            docker: {
              image: 'docker-registry/oauth_server:6d7d463cb8b1517002080a81cf23f9cf7b7fc774',
              network: 'HOST',
              privileged: false,
              parameters: [],
              forcePullImage: false,
            },
          },
          healthChecks: [{ path: '/', protocol: 'HTTP', portIndex: 0, gracePeriodSeconds: 300, intervalSeconds: 20, timeoutSeconds: 20, maxConsecutiveFailures: 3, ignoreHttp1xx: false }],
          dependencies: [],
          upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
          version: '2015-09-28T19:47:37.681Z',
          versionInfo: { lastScalingAt: '2015-09-28T19:47:37.681Z', lastConfigChangeAt: '2015-09-28T19:47:37.681Z' },
        },
        {
          id: '/tools/datadog-agent',
          instances: 5,
          cpus: 1,
          mem: 512,
          disk: 0,
          executor: '',
          constraints: [['hostname', 'UNIQUE']],
          uris: [],
          ports: [10018],
          requirePorts: false,
          backoffSeconds: 1,
          backoffFactor: 1.15,
          maxLaunchDelaySeconds: 3600,
          container: {
            type: 'DOCKER',
            volumes: [
              { containerPath: '/var/run/docker.sock', hostPath: '/var/run/docker.sock', mode: 'RW' },
              { containerPath: '/host/proc/mounts', hostPath: '/proc/mounts', mode: 'RO' },
              { containerPath: '/host/sys/fs/cgroup', hostPath: '/sys/fs/cgroup/', mode: 'RO' },
            ],
            docker: { image: 'datadog/docker-dd-agent:latest', network: 'HOST', privileged: true, parameters: [], forcePullImage: false },
          },
          healthChecks: [],
          dependencies: [],
          upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
          version: '2015-08-26T22:33:24.225Z',
          versionInfo: { lastScalingAt: '2015-08-26T22:33:24.225Z', lastConfigChangeAt: '2015-05-19T13:59:18.899Z' },
        },
      ],
      groups: [
        { id: '/tools/log', apps: [], groups: [], dependencies: [], version: '2015-09-17T10:38:20.875Z' },
        {
          id: '/tools/docker',
          apps: [
            {
              id: '/tools/docker/registry',
              instances: 1,
              cpus: 0.5,
              mem: 4096,
              disk: 0,
              executor: '',
              constraints: [],
              uris: [],
              ports: [5000],
              requirePorts: false,
              backoffSeconds: 1,
              backoffFactor: 1.15,
              maxLaunchDelaySeconds: 3600,
              container: {
                type: 'DOCKER',
                volumes: [{ containerPath: '/docker_storage', hostPath: '/hdd/tools/docker/registry', mode: 'RW' }],
                docker: {
                  image: 'registry',
                  network: 'BRIDGE',
                  portMappings: [{ containerPort: 5000, hostPort: 0, servicePort: 5000, protocol: 'tcp' }],
                  privileged: false,
                  parameters: [],
                  forcePullImage: false,
                },
              },
              healthChecks: [],
              dependencies: [],
              upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
              version: '2015-08-19T21:26:47.616Z',
              versionInfo: { lastScalingAt: '2015-08-19T21:26:47.616Z', lastConfigChangeAt: '2015-08-19T21:00:54.621Z' },
            },
          ],
          groups: [],
          dependencies: [],
          version: '2015-09-17T10:38:20.875Z',
        },
      ],
      dependencies: [],
      version: '2015-09-17T10:38:20.875Z',
    },
  ],
  dependencies: [],
  version: '2015-09-17T10:38:20.875Z',
};
