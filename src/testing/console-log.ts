/**
 * The container's output (Asterisk's console), kept in memory for {@link LiveAsterisk.logs} and
 * watched line by line: the dialplan prints `AGIKIT-DONE <call>` when a call ends and
 * `AGIKIT-SIGNAL <call> <name>` when the far leg raises a signal, which lets the harness notice both
 * without polling the astdb.
 *
 * @module
 */

import type { Readable } from 'node:stream';

const DONE_MARKER = /AGIKIT-DONE (\S+)/;
const SIGNAL_MARKER = /AGIKIT-SIGNAL (\S+) (\S+)/;

const MAX_LOG_CHARS = 16 * 1024 * 1024;

/** Asterisk's console output, bounded to the last {@link MAX_LOG_CHARS} characters or so. */
export class ConsoleLog {
  /** The output so far (its start is dropped once it grows past MAX_LOG_CHARS). */
  text = '';
  /** Ids of calls whose end the dialplan announced. */
  readonly finishedCalls = new Set<string>();
  /** `<call> <name>` of every signal the far leg announced. */
  readonly signals = new Set<string>();
  private partial = '';
  private readonly listeners = new Set<(line: string) => void>();

  /** Follows a stream of the container's output. */
  attach(stream: Readable): void {
    stream.on('data', (chunkData: Buffer | string) => this.push(typeof chunkData === 'string' ? chunkData : chunkData.toString('utf8')));
    stream.on('error', () => undefined);
  }

  private push(data: string): void {
    this.text += data;
    if (this.text.length > MAX_LOG_CHARS) this.text = this.text.slice(this.text.length - MAX_LOG_CHARS / 2);
    const lines = (this.partial + data).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const done = DONE_MARKER.exec(line);
      if (done?.[1] !== undefined) this.finishedCalls.add(done[1]);
      const sig = SIGNAL_MARKER.exec(line);
      if (sig?.[1] !== undefined && sig[2] !== undefined) this.signals.add(`${sig[1]} ${sig[2]}`);
      for (const listener of this.listeners) listener(line);
    }
  }

  /** Resolve when the next complete line arrives or after `ms`. */
  nextLine(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      this.listeners.add(finish);
    });
  }

  /** Calls `listener` with every complete line from now on; returns the function that stops it. */
  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** See {@link LiveAsterisk.waitForLog}. */
  async waitFor(pattern: RegExp | string, options: { readonly timeoutMs?: number; readonly fromStart?: boolean } = {}): Promise<string> {
    const test = (line: string): boolean => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    if (options.fromStart === true) {
      const hit = this.text.split('\n').find(test);
      if (hit !== undefined) return hit;
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no console line matching ${String(pattern)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onLine((line) => {
        if (!test(line)) return;
        clearTimeout(timer);
        off();
        resolve(line);
      });
    });
  }
}
