// Reads a task's output from the API's ndjson log stream and writes each chunk to our stdout or
// stderr as it comes. Resolves with the task's final status when the stream ends.
import type { ApiClient } from './client.ts';

export interface FinalStatus {
  state: string;
  exitCode: number | null;
  reason: string | null;
}

interface LogLine {
  stream?: 'stdout' | 'stderr';
  text?: string;
  base64?: string;
  end?: boolean;
  state?: string;
  exitCode?: number | null;
  reason?: string | null;
}

export async function followLogs(
  client: ApiClient,
  taskId: string,
  options: { follow: boolean; stream?: 'stdout' | 'stderr' | 'both'; signal?: AbortSignal },
): Promise<FinalStatus | null> {
  const query = new URLSearchParams({ format: 'ndjson', follow: String(options.follow), stream: options.stream ?? 'both' });
  const body = await client.stream(`/api/v1/tasks/${encodeURIComponent(taskId)}/logs?${query}`, options.signal);
  const decoder = new TextDecoder();
  let buffered = '';
  let final: FinalStatus | null = null;
  for await (const part of body) {
    buffered += decoder.decode(part, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      const parsed = JSON.parse(line) as LogLine;
      if (parsed.end) {
        final = { state: parsed.state ?? 'unknown', exitCode: parsed.exitCode ?? null, reason: parsed.reason ?? null };
        continue;
      }
      const data = parsed.base64 !== undefined ? Buffer.from(parsed.base64, 'base64') : Buffer.from(parsed.text ?? '', 'utf8');
      await write(parsed.stream === 'stderr' ? process.stderr : process.stdout, data);
    }
  }
  return final;
}

function write(stream: NodeJS.WriteStream, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(data)) resolve();
    else stream.once('drain', () => resolve());
  });
}
