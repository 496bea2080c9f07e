/**
 * Framing of what Asterisk sends over AMI: the greeting line, then messages of `Key: Value` lines
 * each ended by a blank line. Pure: no I/O, no timers.
 *
 * Lines come from the same byte-bounded {@link LineSplitter} as AGI's (CRLF is LF plus a CR that is
 * dropped). A message is bounded too, in bytes and in fields, so a peer that never sends the blank
 * line costs at most {@link AmiInputLimits.maxMessageBytes} plus one line.
 *
 * @module
 */

import { AgiProtocolError } from '../errors.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from '../protocol/lines.js';
import { AmiProtocolError } from './errors.js';
import { AmiMessage, parseField } from './message.js';

/** Bounds on what the client buffers from Asterisk; past one, the connection is dropped. */
export interface AmiInputLimits {
  /** One line, CRLF excluded (default 64 KiB, as for AGI). */
  readonly maxLineBytes: number;
  /** One message, its line ends included (default 1 MiB: a `Command` action's output is one message). */
  readonly maxMessageBytes: number;
  /** Lines of one message (default 16,384). */
  readonly maxMessageFields: number;
}

/** The bounds used when none are given. */
export const DEFAULT_AMI_INPUT_LIMITS: AmiInputLimits = {
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  maxMessageBytes: 1024 * 1024,
  maxMessageFields: 16_384,
};

/**
 * Turns chunks into the greeting and messages, whatever the chunking. After it throws
 * {@link AmiProtocolError} its state is reset, but the stream is out of step: drop the connection.
 */
export class AmiFramer {
  /** The greeting (`Asterisk Call Manager/11.0.0`) once its line has arrived. */
  banner: string | undefined;
  private splitter: LineSplitter;
  private fields: Array<readonly [string, string]> = [];
  private messageBytes = 0;

  constructor(readonly limits: AmiInputLimits = DEFAULT_AMI_INPUT_LIMITS) {
    this.splitter = new LineSplitter(limits.maxLineBytes);
  }

  /** Feeds a chunk; returns the messages it completed, in order. */
  push(chunk: Buffer): AmiMessage[] {
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (error) {
      this.reset();
      if (error instanceof AgiProtocolError) throw new AmiProtocolError('line-bytes', `AMI ${error.message}`);
      throw error;
    }
    const messages: AmiMessage[] = [];
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i] as string;
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (this.banner === undefined) {
        this.banner = line;
        continue;
      }
      if (line === '') {
        // A blank line ends a message; blank lines between messages are ignored.
        if (this.fields.length > 0) messages.push(new AmiMessage(this.fields));
        this.fields = [];
        this.messageBytes = 0;
        continue;
      }
      this.messageBytes += Buffer.byteLength(line) + 2;
      if (this.messageBytes > this.limits.maxMessageBytes) {
        this.reset();
        throw new AmiProtocolError('message-bytes', `AMI message exceeds the ${this.limits.maxMessageBytes}-byte limit (no blank line)`);
      }
      if (this.fields.length >= this.limits.maxMessageFields) {
        this.reset();
        throw new AmiProtocolError('message-fields', `AMI message exceeds the ${this.limits.maxMessageFields}-line limit (no blank line)`);
      }
      this.fields.push(parseField(line));
    }
    return messages;
  }

  /** Bytes held for the message being read: its complete lines plus the unfinished one. */
  get bufferedBytes(): number {
    return this.messageBytes + this.splitter.bufferedBytes;
  }

  private reset(): void {
    this.splitter = new LineSplitter(this.limits.maxLineBytes);
    this.fields = [];
    this.messageBytes = 0;
  }
}
