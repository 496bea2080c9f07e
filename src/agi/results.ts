/**
 * Result types of the typed AGI commands, and the small pure helpers that read wire values into them.
 *
 * @module
 */

import type { AgiReply } from '../protocol/reply.js';

/** Escape digits: a string of DTMF characters (`'#'`, `'123*'`) or an array of them (`['1', '#']`, `[1, 2]`). */
export type EscapeDigits = string | readonly (string | number)[];

/** Outcome of `streamFile` and `getOption`. */
export interface PlaybackResult {
  /** The escape digit that stopped playback (`'5'`, `'#'`), or `null` if it played to the end / timed out. */
  digit: string | null;
  /** Where playback stopped, in **samples** of the file's format (8000/s for gsm/ulaw, 16000/s for wav16). */
  endpos: number;
}

/** Outcome of `controlStreamFile`. */
export interface ControlStreamResult {
  /** The stop key pressed, or `null` if playback finished or was stopped remotely. */
  digit: string | null;
  /** Where playback stopped in **milliseconds** (computed by Asterisk assuming 8 kHz); `null` at end of file. */
  endposMs: number | null;
}

/** Options of `controlStreamFile`; an omitted key keeps Asterisk's default. */
export interface ControlStreamOptions {
  /** Skip distance for fast-forward / rewind in ms (Asterisk default 3000). */
  skipMs?: number;
  /** Fast-forward key (default `#`). Note: checked before the escape digits, so `#` as an escape digit fast-forwards unless you change this. */
  forwardKey?: string;
  /** Rewind key (default `*`). */
  rewindKey?: string;
  /** Pause key (default: none). */
  pauseKey?: string;
  /** Start offset in ms; negative seeks from the end. */
  offsetMs?: number;
}

/** Outcome of `getData`. */
export interface GetDataResult {
  /** Digits entered, `#` excluded; may be `''` (nothing entered, or `#` pressed first). */
  digits: string;
  /** `true` when input ended because the timeout expired rather than by `#` or reaching `maxDigits`. */
  timeout: boolean;
}

/** Options of `recordFile`. */
export interface RecordFileOptions {
  /** Sample offset to seek to; the file is opened for appending. */
  offset?: number;
  /** Play a beep before recording starts. */
  beep?: boolean;
  /** End the recording after this many seconds of silence (Asterisk's `s=`). */
  silenceSeconds?: number;
}

/** Why `recordFile` ended. */
export type RecordEndReason =
  /** An escape digit stopped the recording (about 200 ms is trimmed off the end). */
  | 'dtmf'
  /** The time limit or the silence limit was reached (Asterisk reports both as `(timeout)`). */
  | 'timeout'
  /** An escape digit was pressed during the beep; nothing was recorded. */
  | 'beep-interrupted';

/** Outcome of `recordFile`. */
export interface RecordFileResult {
  reason: RecordEndReason;
  /** The escape digit pressed, or `null`. */
  digit: string | null;
  /** Length recorded, in **samples** (8000/s for 8 kHz formats). */
  endpos: number;
}

/** Channel states as `CHANNEL STATUS` reports them (Asterisk's `enum ast_channel_state`). */
export const ChannelState = {
  Down: 0,
  Reserved: 1,
  OffHook: 2,
  Dialing: 3,
  /** Remote end is ringing (also the initial state of a new outbound channel). */
  Ring: 4,
  /** Line is ringing. */
  Ringing: 5,
  Up: 6,
  Busy: 7,
  DialingOffhook: 8,
  PreRing: 9,
} as const;
/** One of {@link ChannelState}'s values. */
export type ChannelState = (typeof ChannelState)[keyof typeof ChannelState];

/** Outcome of `gosub`. */
export interface GosubResult {
  /** `true` when the subroutine did not return to where it was called from (`Gosub complete (abnormal exit)`). */
  abnormalExit: boolean;
}

/** One recognition hypothesis of `speechRecognize`. */
export interface SpeechMatch {
  score: number;
  text: string;
  grammar: string;
}

/** Outcome of `speechRecognize`. */
export interface SpeechResult {
  /** What ended recognition. */
  kind: 'speech' | 'digit' | 'timeout';
  /** Where the prompt was stopped by barge-in, in samples; 0 otherwise. */
  endpos: number;
  /** The DTMF digit for `kind: 'digit'`, else `null`. */
  digit: string | null;
  /** Hypotheses for `kind: 'speech'`, best first as the engine ordered them. */
  results: SpeechMatch[];
}

/** Caller ID for `setCallerId`: either Asterisk's text form (`"Name" <number>`) or its parts. */
export type CallerIdInput = string | { name?: string; number?: string };

/** What `sayAlpha` says about letter case (Asterisk's undocumented case argument). */
export type SayCase = 'all' | 'upper' | 'lower' | 'none';

/** Reads a DTMF ASCII code (`'35'`) as its character (`'#'`); `'0'` is "no digit". */
export function digitFromCode(code: string): string | null {
  const n = Number(code);
  if (!Number.isInteger(n) || n <= 0) return null;
  return String.fromCharCode(n);
}

/** Reads an integer attribute such as `endpos`; `fallback` when absent or not a number. */
export function intAttr(reply: AgiReply, key: string, fallback = 0): number {
  const value = reply.attrs[key];
  if (value === undefined) return fallback;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

/** Reads the numeric result; `NaN` when it is not a number. */
export function resultNumber(reply: AgiReply): number {
  return reply.result === '' ? Number.NaN : Number(reply.result);
}

/** Formats caller ID input as Asterisk's `ast_callerid_parse` reads it. */
export function callerIdText(input: CallerIdInput | number): string {
  if (typeof input === 'string' || typeof input === 'number') return String(input);
  const name = input.name ?? '';
  const number = input.number ?? '';
  if (name === '') return number;
  const quoted = `"${name.replace(/"/g, "'")}"`;
  return number === '' ? quoted : `${quoted} <${number}>`;
}

/** Converts a Date or epoch seconds to the integer epoch seconds Asterisk parses. */
export function epochSeconds(value: Date | number): number {
  return value instanceof Date ? Math.floor(value.getTime() / 1000) : Math.trunc(value);
}
