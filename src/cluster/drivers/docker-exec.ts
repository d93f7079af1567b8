// A command run inside a task's container (`docker exec`), for command probes of container tasks: the
// container's own filesystem, environment and user, as Marathon runs a COMMAND health check of a Docker
// app inside it. The output is demultiplexed as the container's log is (docker-output.ts) and only its
// last bytes kept. The engine cannot kill an exec: past its timeout the command is left to end on its
// own and the probe fails with "timed out" (a probe that keeps timing out keeps failing).
import type Dockerode from 'dockerode';
import { demultiplex } from './docker-output.ts';
import { containerName } from './docker-create.ts';

export interface ExecResult {
  /** null when it did not end within its timeout. */
  exitCode: number | null;
  output: string;
}

const KEEP_BYTES = 4096;

export async function execInContainer(docker: Dockerode, taskId: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
  const container = docker.getContainer(containerName(taskId));
  const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
  const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & { destroy(): void };
  let output = Buffer.alloc(0);
  const read = (async () => {
    for await (const chunk of demultiplex(stream as AsyncIterable<Buffer>)) {
      output = Buffer.concat([output, chunk.data]);
      if (output.length > KEEP_BYTES) output = output.subarray(output.length - KEEP_BYTES);
    }
  })().catch(() => undefined); // a stream destroyed at the timeout ends inside a frame: nothing to say
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    const outcome = await Promise.race([read.then(() => 'ended' as const), timedOut]);
    if (outcome === 'timeout') {
      stream.destroy();
      return { exitCode: null, output: `timed out after ${timeoutMs} ms\n` };
    }
  } finally {
    clearTimeout(timer);
  }
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? null, output: output.toString('utf8') };
}
