/**
 * The transcript of one AGI session: the header, then each command the application sent with every
 * line Asterisk sent after it. The one format for recording a live call (the server's `transcripts`
 * option, `agikit serve --record-dir`), `agikit simulate --transcript` and `agikit replay`.
 *
 * @module
 */

import type { AgiHeader } from '../protocol/header.js';

/** Current transcript format version. */
export const TRANSCRIPT_VERSION = 1;

/** One command and what Asterisk sent until the next command (its reply, and any `HANGUP` lines). */
export interface TranscriptExchange {
  /** The command line as sent, without LF. */
  command: string;
  /** Lines Asterisk sent after it, in order, until the next command or the end. */
  reply: string[];
}

/** A recorded AGI session (JSON-serialisable). */
export interface Transcript {
  version: typeof TRANSCRIPT_VERSION;
  /** Every `agi_*` header line, verbatim, in the order received. */
  header: Record<string, string>;
  /** Lines Asterisk sent after the header and before the first command (e.g. an early `HANGUP`). */
  preamble: string[];
  exchanges: TranscriptExchange[];
  /** Free-form context (the app module, route, how the call ended). */
  meta?: Record<string, unknown>;
}

/** Receives every protocol line of a session after the header (see `AgiConnection.tap`). */
export interface LineTap {
  /** A command line the application sent (without LF). */
  sent(line: string): void;
  /** A line Asterisk sent. */
  received(line: string): void;
}

/** Builds a {@link Transcript} from the lines of a session as they pass. */
export class TranscriptRecorder implements LineTap {
  private readonly transcript: Transcript;

  constructor(header: AgiHeader | Record<string, string>, meta?: Record<string, unknown>) {
    const raw = 'raw' in header && typeof header.raw === 'object' ? (header as AgiHeader).raw : (header as Record<string, string>);
    this.transcript = { version: TRANSCRIPT_VERSION, header: { ...raw }, preamble: [], exchanges: [], ...(meta ? { meta } : {}) };
  }

  sent(line: string): void {
    this.transcript.exchanges.push({ command: line, reply: [] });
  }

  received(line: string): void {
    const last = this.transcript.exchanges.at(-1);
    (last ? last.reply : this.transcript.preamble).push(line);
  }

  /** Adds context to the transcript's `meta`. */
  annotate(meta: Record<string, unknown>): void {
    this.transcript.meta = { ...this.transcript.meta, ...meta };
  }

  /** The transcript so far. */
  toJSON(): Transcript {
    return this.transcript;
  }
}

/** Checks that a parsed JSON value is a transcript; throws a one-line error otherwise. */
export function assertTranscript(value: unknown): asserts value is Transcript {
  const t = value as Partial<Transcript> | null;
  if (!t || typeof t !== 'object') throw new TypeError('not a transcript: not a JSON object');
  if (t.version !== TRANSCRIPT_VERSION) throw new TypeError(`not a transcript: version ${String(t.version)} (expected ${TRANSCRIPT_VERSION})`);
  if (!t.header || typeof t.header !== 'object') throw new TypeError('not a transcript: no header');
  if (!Array.isArray(t.exchanges) || !t.exchanges.every((e) => typeof e?.command === 'string' && Array.isArray(e.reply))) {
    throw new TypeError('not a transcript: exchanges must be { command, reply[] }');
  }
  if (!Array.isArray(t.preamble)) throw new TypeError('not a transcript: no preamble');
}
