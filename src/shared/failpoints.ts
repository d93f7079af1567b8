// Named crash points for the tests that prove crash safety (as etcd's and TiKV's failpoints): when
// GANTRY_FAILPOINTS names one (comma-separated), the process kills itself with SIGKILL right there, as
// an operator's kill -9 or a power cut would, at a moment a test could not otherwise hit. Unset in
// normal operation, where each check is one Set lookup.
const armed = new Set((process.env.GANTRY_FAILPOINTS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

export function failpoint(name: string): void {
  if (armed.size === 0 || !armed.has(name)) return;
  process.stderr.write(`failpoint ${name}: killing this process (SIGKILL)\n`);
  process.kill(process.pid, 'SIGKILL');
}
