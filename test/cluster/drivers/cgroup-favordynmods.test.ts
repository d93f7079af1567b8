import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { favorDynamicCgroupMoves, type FavorDynmodsHost } from '../../../src/cluster/drivers/cgroup-favordynmods.ts';
import { parseMountInfo } from '../../../src/cluster/drivers/cgroup-detect.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, startGantry, tempDir } from '../../helpers/processes.ts';

const V1_MEMORY = '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n';
const UNIFIED = (options: string) => `41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 ${options}\n`;

/**
 * A host whose mountinfo changes the way the kernel's would: a successful `mount ... favordynmods`
 * adds the option (when `kernelTakesIt`), a temporary cgroup2 mount appears until it is unmounted.
 */
function fakeHost(mountInfo: string, behaviour: { uid?: number; mountExit?: number; mountStderr?: string; kernelTakesIt?: boolean } = {}) {
  const commands: string[][] = [];
  let current = mountInfo;
  const host: FavorDynmodsHost = {
    uid: behaviour.uid ?? 0,
    readMountInfo: async () => current,
    run: async (argv) => {
      commands.push(argv);
      if (argv[0] === 'umount') {
        current = current.split('\n').filter((line) => !line.includes(` ${argv[1]} `)).join('\n');
        return { exitCode: 0, stderr: '' };
      }
      if (behaviour.mountExit) return { exitCode: behaviour.mountExit, stderr: behaviour.mountStderr ?? '' };
      const options = behaviour.kernelTakesIt === false ? 'rw' : 'rw,favordynmods';
      if (argv.includes('remount,favordynmods')) current = current.replace(/cgroup2 cgroup2 \S+/, `cgroup2 cgroup2 ${options}`);
      else current += `99 31 0:38 / ${argv.at(-1)} rw - cgroup2 cgroup2 ${options}\n`;
      return { exitCode: 0, stderr: '' };
    },
    makeTempDir: async () => '/tmp/gantry-cgroup2-x',
    removeTempDir: async () => undefined,
  };
  return { host, commands };
}

describe('cgroup favordynmods', () => {
  it('remounts the cgroup2 mount with the option, keeping the rest to mount(8)', async () => {
    const { host, commands } = fakeHost(V1_MEMORY + UNIFIED('rw'));
    const outcome = await favorDynamicCgroupMoves(host);
    assert.deepEqual(commands, [['mount', '-o', 'remount,favordynmods', '/sys/fs/cgroup/unified']]);
    assert.equal(outcome.on, true);
    assert.match(outcome.message, /turned on: remounted \/sys\/fs\/cgroup\/unified/);
  });

  it('does nothing when the option is already on', async () => {
    const { host, commands } = fakeHost(UNIFIED('rw,nsdelegate,favordynmods'));
    const outcome = await favorDynamicCgroupMoves(host);
    assert.deepEqual(commands, []);
    assert.deepEqual(outcome, { on: true, message: 'cgroup favordynmods is on (/sys/fs/cgroup/unified)' });
  });

  it('on a v1-only host, mounts a cgroup2 file system with the option for a moment and unmounts it', async () => {
    const { host, commands } = fakeHost(V1_MEMORY);
    const outcome = await favorDynamicCgroupMoves(host);
    assert.deepEqual(commands, [
      ['mount', '-t', 'cgroup2', '-o', 'favordynmods', 'cgroup2', '/tmp/gantry-cgroup2-x'],
      ['umount', '/tmp/gantry-cgroup2-x'],
    ]);
    assert.equal(outcome.on, true);
  });

  it('says why when the kernel refuses the option, and names the kernel version it needs', async () => {
    const { host } = fakeHost(UNIFIED('rw'), { mountExit: 32, mountStderr: 'mount: /sys/fs/cgroup/unified: mount point not mounted or bad option.\n' });
    const outcome = await favorDynamicCgroupMoves(host);
    assert.equal(outcome.on, false);
    assert.match(outcome.message, /^cannot turn cgroup favordynmods on: mount: .*bad option\. \(favordynmods needs Linux 6\.0 or later\)/);
  });

  it('reports a kernel that accepted the mount but did not take the option (a container\'s cgroup namespace)', async () => {
    const { host } = fakeHost(UNIFIED('rw'), { kernelTakesIt: false });
    const outcome = await favorDynamicCgroupMoves(host);
    assert.equal(outcome.on, false);
    assert.match(outcome.message, /did not take it on \/sys\/fs\/cgroup\/unified/);
  });

  it('does not try without root', async () => {
    const { host, commands } = fakeHost(UNIFIED('rw'), { uid: 1000 });
    const outcome = await favorDynamicCgroupMoves(host);
    assert.deepEqual(commands, []);
    assert.match(outcome.message, /not running as root/);
  });

  // The real thing (root on Linux 6.x in CI): the option must show on the host's cgroup2 mount afterwards.
  // Kernel-wide and, since Linux 6.17, on until the next boot: only where GANTRY_TEST_FAVORDYNMODS=1 says
  // the machine may be changed (.ci/run sets it; a developer's workstation is left alone).
  const mayChangeTheKernel = process.env.GANTRY_TEST_FAVORDYNMODS === '1';

  it('turns it on for real on this host', async function () {
    if (!mayChangeTheKernel || process.platform !== 'linux' || process.getuid?.() !== 0) this.skip();
    const major = Number(os.release().split('.')[0]);
    const outcome = await favorDynamicCgroupMoves();
    if (major < 6) {
      assert.equal(outcome.on, false);
      return;
    }
    assert.equal(outcome.on, true, outcome.message);
    const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
    const cgroup2 = mounts.filter((m) => m.version === 2);
    if (cgroup2.length > 0) assert.ok(cgroup2.some((m) => m.favorDynmods), 'a cgroup2 mount shows favordynmods');
  });

  it('is asked for with `gantry server --agent-cgroup-favordynmods`, and the embedded agent says how it went', async function () {
    if (!mayChangeTheKernel) this.skip();
    const dir = tempDir('favordynmods');
    const server = await startGantry(
      ['server', '--data-dir', dir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-cgroup-favordynmods', '--log-level', 'info'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Local agent \S+ registered/,
    );
    try {
      const expected = process.getuid?.() === 0 && Number(os.release().split('.')[0]) >= 6 ? /cgroup favordynmods (is on|turned on)/ : /cannot turn cgroup favordynmods on: /;
      assert.match(server.output(), expected);
    } finally {
      await server.stop();
    }
  });
});
