import { AgiProtocolError } from '../errors.js';

/** Default bound on one line from Asterisk: a longer line is bad input, not AGI. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * Splits a byte stream into LF-terminated lines, whatever the chunking: a line may arrive in many
 * pieces, and one chunk may hold many lines. Pure: no I/O, no timers.
 *
 * Only LF ends a line (Asterisk never sends CR; a CR is kept as part of the line). A line longer
 * than `maxLineBytes` throws {@link AgiProtocolError} instead of growing without bound.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {}

  /** Feeds a chunk; returns the complete lines it finished (without the LF), in order. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    this.each(chunk, lines, pushLine);
    return lines;
  }

  /**
   * Feeds a chunk and calls `onLine(target, line)` for each complete line, in order, as it is cut:
   * no array per chunk (the connection reads every chunk of every call this way). A line over the
   * bound throws after the lines before it were delivered.
   */
  each<T>(chunk: Buffer, target: T, onLine: (target: T, line: string) => void): void {
    let start = 0;
    let lf = chunk.indexOf(10);
    while (lf !== -1) {
      const length = this.pendingBytes + (lf - start);
      if (length > this.maxLineBytes) throw this.tooLong(length);
      let line: string;
      if (this.pendingBytes === 0) {
        line = chunk.toString('utf8', start, lf);
      } else {
        this.pending.push(chunk.subarray(start, lf));
        line = Buffer.concat(this.pending, length).toString('utf8');
        this.pending = [];
        this.pendingBytes = 0;
      }
      start = lf + 1;
      onLine(target, line);
      lf = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      if (this.pendingBytes + rest > this.maxLineBytes) throw this.tooLong(this.pendingBytes + rest);
      // Copy so a small tail does not pin the whole (possibly 64 KiB) socket chunk in memory.
      this.pending.push(Buffer.from(chunk.subarray(start)));
      this.pendingBytes += rest;
    }
  }

  /** Bytes received after the last LF, still waiting for their line to end. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private tooLong(length: number): AgiProtocolError {
    this.pending = [];
    this.pendingBytes = 0;
    return new AgiProtocolError(`line of ${length}+ bytes exceeds the ${this.maxLineBytes}-byte limit`);
  }
}

function pushLine(lines: string[], line: string): void {
  lines.push(line);
}
