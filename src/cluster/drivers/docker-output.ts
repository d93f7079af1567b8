// A container's output as the driver contract wants it (driver.ts: an object-mode stream of
// OutputChunk from the start, ending once the task has exited and all of it was read).
//
// It is the engine's own log of the container (`GET /containers/ID/logs?follow=1`, the json-file log
// driver), so every call reads from the start, the output survives an agent restart, and the stream
// ends when the container has stopped and its log was read. Without a TTY the engine multiplexes
// stdout and stderr into frames (an 8-byte header: stream type, 3 zero bytes, length big-endian);
// each frame becomes exactly one chunk. That keeps the numbering of chunks the same on every read,
// which the master relies on to drop what a recovered task's agent sends again.
//
// Order: within a stream, exactly as written. Between stdout and stderr, the engine reads the two
// pipes separately; writes close together may be logged in the other order (`docker logs` shows the
// same).
import { Readable } from 'node:stream';
import type { OutputChunk, OutputStream } from './driver.ts';

const HEADER = 8;

/** The chunks of a multiplexed stream: one per frame, stdin frames (type 0) counted as stdout. */
export async function* demultiplex(raw: AsyncIterable<Buffer | string>): AsyncGenerator<OutputChunk> {
  let pending = Buffer.alloc(0);
  for await (const piece of raw) {
    pending = pending.length === 0 ? Buffer.from(piece) : Buffer.concat([pending, Buffer.from(piece)]);
    let offset = 0;
    while (pending.length - offset >= HEADER) {
      const size = pending.readUInt32BE(offset + 4);
      if (pending.length - offset < HEADER + size) break;
      const stream: OutputStream = pending[offset] === 2 ? 'stderr' : 'stdout';
      const data = Buffer.from(pending.subarray(offset + HEADER, offset + HEADER + size));
      offset += HEADER + size;
      if (data.length > 0) yield { stream, data };
    }
    pending = pending.subarray(offset);
  }
  if (pending.length > 0) throw new Error(`the container's log ended inside a frame (${pending.length} bytes left)`);
}

export interface ContainerLog {
  /** The log from the start, followed until the container stops. */
  follow(): Promise<NodeJS.ReadableStream>;
  /** The whole log as it is now, not followed. */
  read(): Promise<NodeJS.ReadableStream>;
  /** Settles when the container has exited. */
  exited: Promise<unknown>;
}

/**
 * `preamble` (the driver's own lines, e.g. the image pull) as stderr chunks, one per line, then the
 * container's log. A followed log can end before the last entries when the container exits while
 * it is read (Docker 20.10, json-file), so after its end and the container's exit the whole log is
 * read once more and the frames not seen yet are added: nothing is lost, nothing comes twice.
 */
export function containerOutput(preamble: readonly string[], log: ContainerLog): Readable {
  return Readable.from(
    (async function* (): AsyncGenerator<OutputChunk> {
      for (const line of preamble) yield { stream: 'stderr', data: Buffer.from(`${line}\n`) };
      let seen = 0;
      for await (const chunk of demultiplex((await log.follow()) as AsyncIterable<Buffer>)) {
        seen++;
        yield chunk;
      }
      await log.exited.catch(() => undefined);
      let index = 0;
      for await (const chunk of demultiplex((await log.read()) as AsyncIterable<Buffer>)) {
        if (index++ >= seen) yield chunk;
      }
    })(),
    { objectMode: true },
  );
}
