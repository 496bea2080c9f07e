/**
 * `record()`'s options, checked, with the seed's defaults, and the pure decisions made from them:
 * which Asterisk mechanism records (`RECORD FILE` or `MixMonitor`), and the arguments each gets.
 *
 * @module
 */

import { DTMF_CHARS } from '../protocol/encode.js';
import type { MethodOptions } from './component.js';
import { RelayArgumentError } from './errors.js';

/**
 * Whose audio is recorded, in the seed's words: `speak` what the caller says (the audio Asterisk
 * receives from the call's channel), `listen` what the caller hears (the audio sent to it), `both`.
 */
export type RecordDirection = 'speak' | 'listen' | 'both';

/** The file format of a recording. */
export type RecordFormat = 'wav' | 'mp3';

/** Options of `record()` / `recordAsync()` (seed names; times in seconds). */
export interface RecordOptions extends MethodOptions {
  /** Play a beep before recording starts. Default `false`. */
  beep?: boolean;
  /**
   * A 2-channel file: left what the caller says (`speak`), right what the caller hears (`listen`).
   * A direction other than `both` leaves the other channel silent. Default `false`.
   */
  stereo?: boolean;
  /**
   * `wav` (16-bit PCM, 8 kHz) or `mp3` (that WAV encoded by `lame` once the recording ends). Default
   * `wav`: the seed's default is `mp3`, but Asterisk has no MP3 writer, and a default that fails
   * where `lame` is missing would make `record()` differ between machines.
   */
  format?: RecordFormat;
  /** Whose audio is recorded. Default `speak`. */
  direction?: RecordDirection;
  /** Seconds to wait for the caller to say something; `0` disables. Default 5. */
  initialTimeout?: number;
  /** Seconds of silence from the caller that end the recording; `0` disables. Default 1. */
  endSilenceTimeout?: number;
  /** DTMF digits that end the recording (`''`: none). Default `#*`. */
  terminators?: string;
}

/** {@link RecordOptions} with every default filled in and every value checked. */
export type RecordSettings = Required<Omit<RecordOptions, keyof MethodOptions>>;

/** The seed's defaults (except `format`, see {@link RecordOptions.format}). */
export const RECORD_DEFAULTS: Readonly<RecordSettings> = {
  beep: false,
  stereo: false,
  format: 'wav',
  direction: 'speak',
  initialTimeout: 5,
  endSilenceTimeout: 1,
  terminators: '#*',
};

/** Longest `initialTimeout` / `endSilenceTimeout` accepted (seconds). */
export const MAX_RECORD_TIMEOUT_SECONDS = 3600;

const DIRECTIONS: readonly RecordDirection[] = ['speak', 'listen', 'both'];
const FORMATS: readonly RecordFormat[] = ['wav', 'mp3'];

/**
 * Checks `record()`'s options and fills in the defaults.
 *
 * @throws RelayArgumentError naming the option and what is wrong with it
 */
export function checkRecordOptions(options: RecordOptions): RecordSettings {
  const s = { ...RECORD_DEFAULTS, ...definedOnly(options) };
  for (const name of ['beep', 'stereo'] as const) {
    if (typeof s[name] !== 'boolean') throw new RelayArgumentError(`record: ${name} must be true or false, not ${JSON.stringify(s[name])}`);
  }
  if (!FORMATS.includes(s.format)) throw new RelayArgumentError(`record: format must be ${FORMATS.join(' or ')}, not ${JSON.stringify(s.format)}`);
  if (!DIRECTIONS.includes(s.direction)) throw new RelayArgumentError(`record: direction must be ${DIRECTIONS.join(', ')}, not ${JSON.stringify(s.direction)}`);
  for (const name of ['initialTimeout', 'endSilenceTimeout'] as const) {
    const value = s[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_RECORD_TIMEOUT_SECONDS) {
      throw new RelayArgumentError(`record: ${name} must be a number of seconds from 0 to ${MAX_RECORD_TIMEOUT_SECONDS}, not ${JSON.stringify(value)}`);
    }
  }
  if (typeof s.terminators !== 'string') throw new RelayArgumentError(`record: terminators must be a string of DTMF digits, not ${JSON.stringify(s.terminators)}`);
  const bad = [...s.terminators].find((c) => !DTMF_CHARS.includes(c));
  if (bad !== undefined) throw new RelayArgumentError(`record: terminators may hold ${DTMF_CHARS} only, not ${JSON.stringify(bad)}`);
  return {
    beep: s.beep,
    stereo: s.stereo,
    format: s.format,
    direction: s.direction,
    initialTimeout: s.initialTimeout,
    endSilenceTimeout: s.endSilenceTimeout,
    terminators: [...new Set(s.terminators)].join(''),
  };
}

/** The options the caller set, without `undefined` ones (so they do not hide a default) and without the lane options. */
function definedOnly(options: RecordOptions): Partial<RecordSettings> {
  const { signal: _signal, queue: _queue, preempt: _preempt, ...rest } = options;
  return Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as Partial<RecordSettings>;
}

/**
 * How Asterisk records:
 * - `record-file`: `RECORD FILE` in the call's foreground lane, for a mono recording of the caller
 *   (`speak`). It honours every option itself, and holds the lane while it records.
 * - `mixmonitor`: `MixMonitor` (an audiohook: the lane stays free) for `listen`, `both` and stereo.
 */
export type RecordMechanism = 'record-file' | 'mixmonitor';

/** The mechanism for these settings; see {@link RecordMechanism}. */
export function recordMechanism(s: RecordSettings): RecordMechanism {
  return s.direction === 'speak' && !s.stereo ? 'record-file' : 'mixmonitor';
}

/** Whether anything but `stop()` or a hangup may end the recording (initial timeout, end silence, terminators). */
export function hasEndConditions(s: RecordSettings): boolean {
  return s.initialTimeout > 0 || s.endSilenceTimeout > 0 || s.terminators !== '';
}

/**
 * How a `RECORD FILE` watches the end conditions. Asterisk counts the silence of `s=` in whole
 * seconds, so `endSilenceTimeout` is rounded up (a recording never ends on a shorter pause than
 * asked). The initial timeout runs as `WaitForNoise` first, whose timeout runs on a one-second clock:
 * agikit asks for one second more than the value rounded up, so it never gives up early.
 */
export function recordFileTimings(s: RecordSettings): { silenceSeconds: number | undefined; initialWaitSeconds: number | undefined } {
  return {
    silenceSeconds: s.endSilenceTimeout > 0 ? Math.ceil(s.endSilenceTimeout) : undefined,
    initialWaitSeconds: s.initialTimeout > 0 ? Math.ceil(s.initialTimeout) + 1 : undefined,
  };
}

/** What MixMonitor is given, and what it writes. */
export interface MixMonitorArgs {
  /** The main file argument (`''` when only `t()` records). */
  readonly file: string;
  /** The options argument. */
  readonly options: string;
  /** The file Asterisk writes (Asterisk's path). */
  readonly written: string;
  /** `raw`: interleaved 16-bit stereo at 8 kHz (option `D`), wrapped into a WAV afterwards; `wav`: a mono WAV. */
  readonly kind: 'wav' | 'raw';
}

/**
 * MixMonitor's arguments for a recording to `base` (Asterisk's path, no extension): stereo is option
 * `D` (left: what the channel receives, the caller's `speak`; right: what it sends, `listen`), into
 * a `.raw` file as MixMonitor requires; `both` is the mixed main file; `listen` is `t()` alone.
 * `i(<idVariable>)` stores the MixMonitor's id (to stop exactly this one); `p` beeps first.
 */
export function mixMonitorArgs(s: RecordSettings, base: string, idVariable: string, beep: boolean): MixMonitorArgs {
  const id = `i(${idVariable})${beep ? 'p' : ''}`;
  if (s.stereo) return { file: `${base}.raw`, options: `D${id}`, written: `${base}.raw`, kind: 'raw' };
  if (s.direction === 'both') return { file: `${base}.wav`, options: id, written: `${base}.wav`, kind: 'wav' };
  const side = s.direction === 'listen' ? 't' : 'r';
  return { file: '', options: `${side}(${base}.wav)${id}`, written: `${base}.wav`, kind: 'wav' };
}
