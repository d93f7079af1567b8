// Reads the complete lines of a byte range of a growing file in bounded pieces, so a reader's memory
// stays at one piece plus the longest line however big the file is. A line still being written at the
// end of the range is not returned: the caller reads it again, whole, from the last end offset.
import type { FileHandle } from 'node:fs/promises';

/** How much of a file is read at once. */
export const READ_PIECE_BYTES = 1024 * 1024;

export interface FileLine {
  /** The line without its '\n'; a view into a reused buffer, valid until the next line is asked for. */
  bytes: Buffer;
  /** The file offset just after the line's '\n'. */
  endOffset: number;
}

export async function* completeLines(file: FileHandle, from: number, to: number, pieceBytes = READ_PIECE_BYTES): AsyncGenerator<FileLine> {
  // Sized to the range: a follower woken for a small append does not allocate a whole piece.
  const piece = Buffer.allocUnsafe(Math.max(1, Math.min(pieceBytes, to - from)));
  /** The start of a line that runs past the current piece (copied: `piece` is reused). */
  let carried: Buffer[] = [];
  for (let position = from; position < to; ) {
    const { bytesRead } = await file.read(piece, 0, Math.min(piece.length, to - position), position);
    if (bytesRead === 0) return; // the file is shorter than `to` said (truncated under us)
    const view = piece.subarray(0, bytesRead);
    let lineStart = 0;
    for (let newline = view.indexOf(0x0a, 0); newline !== -1; newline = view.indexOf(0x0a, lineStart)) {
      const tail = view.subarray(lineStart, newline);
      const bytes = carried.length === 0 ? tail : Buffer.concat([...carried, tail]);
      carried = [];
      lineStart = newline + 1;
      yield { bytes, endOffset: position + lineStart };
    }
    if (lineStart < bytesRead) carried.push(Buffer.from(view.subarray(lineStart)));
    position += bytesRead;
  }
}

/** The number of '\n' in the file, counted piece by piece. */
export async function countLines(file: FileHandle, pieceBytes = READ_PIECE_BYTES): Promise<number> {
  const piece = Buffer.allocUnsafe(pieceBytes);
  let count = 0;
  for (let position = 0; ; ) {
    const { bytesRead } = await file.read(piece, 0, pieceBytes, position);
    if (bytesRead === 0) return count;
    const view = piece.subarray(0, bytesRead);
    for (let i = view.indexOf(0x0a, 0); i !== -1; i = view.indexOf(0x0a, i + 1)) count++;
    position += bytesRead;
  }
}
