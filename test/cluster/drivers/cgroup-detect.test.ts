import assert from 'node:assert/strict';
import { locateController, parseMountInfo, parseProcCgroup, unifiedHierarchy } from '../../../src/cluster/drivers/cgroup-detect.ts';

// The machine this driver was written on: v1 controllers, an empty v2 hierarchy at /sys/fs/cgroup/unified,
// and the agent in memory:/process_api/<id> but / in every other hierarchy.
const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_CGROUP = `9:name=systemd:/
4:memory:/process_api/0635
2:cpuacct:/
1:cpu:/
0::/
`;

// A systemd host with only cgroup v2.
const V2_MOUNTINFO = `25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const V2_CGROUP = '0::/system.slice/gantry.service\n';

// Docker with v1: the hierarchies are mounted from the container's own cgroup, with cpu,cpuacct co-mounted.
const DOCKER_V1_MOUNTINFO = `700 690 0:40 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct
701 690 0:41 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
`;
const DOCKER_V1_CGROUP = `5:memory:/docker/abc
4:cpu,cpuacct:/docker/abc
`;

describe('cgroup detection', () => {
  it('parses v1 and v2 mounts with their controllers', () => {
    const mounts = parseMountInfo(HYBRID_MOUNTINFO);
    assert.deepEqual(
      mounts.map((m) => [m.version, m.mountPoint, m.controllers.join(',')]),
      [
        [1, '/sys/fs/cgroup/cpu', 'cpu'],
        [1, '/sys/fs/cgroup/cpuacct', 'cpuacct'],
        [1, '/sys/fs/cgroup/memory', 'memory'],
        [1, '/sys/fs/cgroup/systemd', 'name=systemd'],
        [2, '/sys/fs/cgroup/unified', ''],
      ],
    );
    assert.deepEqual(parseMountInfo(DOCKER_V1_MOUNTINFO)[0]?.controllers, ['cpu', 'cpuacct']);
    assert.deepEqual(
      mounts.map((m) => m.favorDynmods),
      [false, false, false, false, false],
    );
  });

  it('reads favordynmods as a flag of the mount, never as a controller', () => {
    const mounts = parseMountInfo(`35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory,favordynmods
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate,favordynmods
`);
    assert.deepEqual(
      mounts.map((m) => [m.version, m.controllers.join(','), m.favorDynmods]),
      [
        [1, 'memory', true],
        [2, '', true],
      ],
    );
  });

  it('parses /proc/self/cgroup', () => {
    const self = parseProcCgroup(HYBRID_CGROUP);
    assert.equal(self.v1.get('memory'), '/process_api/0635');
    assert.equal(self.v1.get('cpu'), '/');
    assert.equal(self.v2, '/');
    assert.equal(parseProcCgroup(DOCKER_V1_CGROUP).v1.get('cpuacct'), '/docker/abc');
    assert.equal(parseProcCgroup(V2_CGROUP).v2, '/system.slice/gantry.service');
  });

  const cases: Array<{ name: string; mountinfo: string; cgroup: string; v2: string[] | null; controller: string; expected: unknown }> = [
    {
      name: 'hybrid host: memory on v1 under the agent cgroup',
      mountinfo: HYBRID_MOUNTINFO,
      cgroup: HYBRID_CGROUP,
      v2: [],
      controller: 'memory',
      expected: { version: 1, mountPoint: '/sys/fs/cgroup/memory', ownPath: '/process_api/0635' },
    },
    {
      name: 'hybrid host: cpu on v1 at the root',
      mountinfo: HYBRID_MOUNTINFO,
      cgroup: HYBRID_CGROUP,
      v2: [],
      controller: 'cpu',
      expected: { version: 1, mountPoint: '/sys/fs/cgroup/cpu', ownPath: '/' },
    },
    {
      name: 'v2 host with the memory controller',
      mountinfo: V2_MOUNTINFO,
      cgroup: V2_CGROUP,
      v2: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
      controller: 'memory',
      expected: { version: 2, mountPoint: '/sys/fs/cgroup', ownPath: '/system.slice/gantry.service' },
    },
    {
      name: 'v2 host without the cpu controller',
      mountinfo: V2_MOUNTINFO,
      cgroup: V2_CGROUP,
      v2: ['memory', 'pids'],
      controller: 'cpu',
      expected: 'the cpu controller is not available in the cgroup v2 hierarchy at /sys/fs/cgroup',
    },
    {
      name: 'docker v1: paths relative to the mounted sub-tree',
      mountinfo: DOCKER_V1_MOUNTINFO,
      cgroup: DOCKER_V1_CGROUP,
      v2: null,
      controller: 'cpu',
      expected: { version: 1, mountPoint: '/sys/fs/cgroup/cpu,cpuacct', ownPath: '/' },
    },
    {
      name: 'no cgroups at all',
      mountinfo: '',
      cgroup: '',
      v2: null,
      controller: 'memory',
      expected: 'no cgroup hierarchy has the memory controller',
    },
  ];
  for (const c of cases) {
    it(`locates a controller: ${c.name}`, () => {
      assert.deepEqual(locateController(c.controller, parseMountInfo(c.mountinfo), parseProcCgroup(c.cgroup), c.v2), c.expected);
    });
  }

  it('finds the unified hierarchy', () => {
    assert.deepEqual(unifiedHierarchy(parseMountInfo(V2_MOUNTINFO), parseProcCgroup(V2_CGROUP)), {
      version: 2,
      mountPoint: '/sys/fs/cgroup',
      ownPath: '/system.slice/gantry.service',
    });
    assert.equal(unifiedHierarchy(parseMountInfo(DOCKER_V1_MOUNTINFO), parseProcCgroup(DOCKER_V1_CGROUP)), null);
  });
});
