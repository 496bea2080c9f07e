/**
 * The detectors' parameters, checked, with the seed's defaults, and the pure mappings around them:
 * the `AMD()` arguments, what `AMDSTATUS` / `WAITFORTONESTATUS` / `TONE_DETECT` report, the fax and
 * beep tones, the digit filter, and when a detector is over. Nothing here touches a call.
 *
 * @module
 */

import { DTMF_CHARS } from '../protocol/encode.js';
import { RelayArgumentError } from './errors.js';
import type { DetectType } from './results.js';

/** The fax tones: `CED` (2100 Hz, the answering fax) and `CNG` (1100 Hz bursts, the calling fax). */
export type FaxTone = 'CED' | 'CNG';

/** Verdicts of answering-machine detection, in the seed's words. */
export type MachineVerdict = 'MACHINE' | 'HUMAN' | 'UNKNOWN';

/**
 * What a `detect.update` reports: an AMD verdict ({@link MachineVerdict}), `READY` / `NOT_READY`
 * after a `MACHINE` with `waitForBeep`, a digit, or a fax tone ({@link FaxTone}).
 */
export type Detection = string;

/** Answering-machine detection (`detectAnsweringMachine`, `amd`, `detect({ detectType: 'machine' })`); times in seconds. */
export interface AmdParams {
  /** Seconds the detector runs, the beep wait included. Default 30. */
  timeout?: number;
  /**
   * After a `MACHINE` verdict, wait until the machine is ready to record (its beep), then
   * `detect.update` `READY`. Asterisk has no beep detector: agikit waits for a 1 kHz tone
   * ({@link BEEP_TONE}); see docs/relay-detect.md. Default `false`.
   */
  waitForBeep?: boolean;
  /** Seconds of silence before any voice after which it is a machine (AMD's `initialSilence`). Default 4.5. */
  initialTimeout?: number;
  /** Seconds of silence after the greeting after which it is a human (AMD's `afterGreetingSilence`). Default 1. */
  endSilenceTimeout?: number;
  /** Seconds of voice after which it is a machine (AMD's `greeting`). Default 1.25. */
  machineVoiceThreshold?: number;
  /** Words after which it is a machine (AMD's `maximumNumberOfWords` is one less: AMD says MACHINE above it). Default 6. */
  machineWordsThreshold?: number;
}

/** Digit detection (`detectDigit`, `detect({ detectType: 'digit' })`). */
export interface DigitDetectParams {
  /** Seconds the detector runs. Default 30. */
  timeout?: number;
  /** The digits to detect; others are ignored. Default `0123456789#*`. */
  digits?: string;
}

/** Fax tone detection (`detectFax`, `detect({ detectType: 'fax' })`). */
export interface FaxDetectParams {
  /** Seconds the detector runs. Default 30. */
  timeout?: number;
  /** The tone to detect. Default `CED`. */
  tone?: FaxTone;
}

/** Parameters of `detect()`: `detectType` and that detector's parameters. */
export type DetectParams = ({ detectType: 'machine' } & AmdParams) | ({ detectType: 'digit' } & DigitDetectParams) | ({ detectType: 'fax' } & FaxDetectParams);

/** The seed's defaults of answering-machine detection. */
export const AMD_DEFAULTS: Readonly<Required<AmdParams>> = {
  timeout: 30,
  waitForBeep: false,
  initialTimeout: 4.5,
  endSilenceTimeout: 1,
  machineVoiceThreshold: 1.25,
  machineWordsThreshold: 6,
};

/** The seed's defaults of digit detection. */
export const DIGIT_DETECT_DEFAULTS: Readonly<Required<DigitDetectParams>> = { timeout: 30, digits: '0123456789#*' };

/** The seed's defaults of fax detection. */
export const FAX_DETECT_DEFAULTS: Readonly<Required<FaxDetectParams>> = { timeout: 30, tone: 'CED' };

/** Longest `timeout` (and AMD time) accepted, in seconds. */
export const MAX_DETECT_SECONDS = 3600;

/** A detector's parameters, checked and completed. */
export type DetectPlan =
  | { readonly type: 'machine'; readonly timeout: number; readonly amd: Readonly<Required<AmdParams>> }
  | { readonly type: 'digit'; readonly timeout: number; readonly digits: string }
  | { readonly type: 'fax'; readonly timeout: number; readonly tone: FaxTone };

/** A single-frequency tone as Asterisk's tone detector (`WaitForTone`, `TONE_DETECT`) takes it. */
export interface ToneSpec {
  /** Hz. */
  readonly frequency: number;
  /** Shortest tone that counts, in ms (Asterisk allows 10 % less). */
  readonly durationMs: number;
}

/**
 * The fax tones: CED is a continuous 2100 Hz answer tone (2.6 to 4 s), CNG a 1100 Hz tone of 0.5 s
 * every 3.5 s. Each must last most of its length to count (`relay-probes.md` §3).
 */
export const FAX_TONES: Readonly<Record<FaxTone, ToneSpec>> = {
  CED: { frequency: 2100, durationMs: 500 },
  CNG: { frequency: 1100, durationMs: 400 },
};

/**
 * What `waitForBeep` waits for: a 1000 Hz tone of at least 150 ms. Asterisk's detector hears a
 * band of about ±25 Hz around it, and only a tone 16 dB above the rest of the signal (speech does
 * not pass), so a machine beeping at another pitch is not heard (the detector then reports
 * `NOT_READY` at its timeout).
 */
export const BEEP_TONE: ToneSpec = { frequency: 1000, durationMs: 150 };

const DETECT_TYPES: readonly DetectType[] = ['machine', 'digit', 'fax'];
const FAX_TONE_NAMES: readonly FaxTone[] = ['CED', 'CNG'];

/**
 * Checks `detect()`'s parameters (`method` names the method in messages) and fills in the defaults.
 *
 * @throws RelayArgumentError naming the parameter and what is wrong with it
 */
export function checkDetectParams(method: string, params: DetectParams): DetectPlan {
  if (params === null || typeof params !== 'object') throw new RelayArgumentError(`${method}: parameters must be an object, not ${JSON.stringify(params)}`);
  switch (params.detectType) {
    case 'machine':
      return checkAmdParams(method, params);
    case 'digit':
      return checkDigitParams(method, params);
    case 'fax':
      return checkFaxParams(method, params);
    default:
      throw new RelayArgumentError(`${method}: detectType must be ${DETECT_TYPES.join(', ')}, not ${JSON.stringify((params as { detectType?: unknown }).detectType)}`);
  }
}

/** {@link checkDetectParams} for answering-machine detection. */
export function checkAmdParams(method: string, params: AmdParams = {}): DetectPlan & { type: 'machine' } {
  const s = { ...AMD_DEFAULTS, ...definedOnly(params, Object.keys(AMD_DEFAULTS)) } as Required<AmdParams>;
  if (typeof s.waitForBeep !== 'boolean') throw new RelayArgumentError(`${method}: waitForBeep must be true or false, not ${JSON.stringify(s.waitForBeep)}`);
  for (const name of ['timeout', 'initialTimeout', 'endSilenceTimeout', 'machineVoiceThreshold'] as const) seconds(method, name, s[name]);
  const words = s.machineWordsThreshold;
  if (!Number.isInteger(words) || words < 1 || words > 1000) throw new RelayArgumentError(`${method}: machineWordsThreshold must be a whole number of words from 1 to 1000, not ${JSON.stringify(words)}`);
  return { type: 'machine', timeout: s.timeout, amd: s };
}

/** {@link checkDetectParams} for digit detection. */
export function checkDigitParams(method: string, params: DigitDetectParams = {}): DetectPlan & { type: 'digit' } {
  const s = { ...DIGIT_DETECT_DEFAULTS, ...definedOnly(params, Object.keys(DIGIT_DETECT_DEFAULTS)) } as Required<DigitDetectParams>;
  seconds(method, 'timeout', s.timeout);
  if (typeof s.digits !== 'string' || s.digits === '') throw new RelayArgumentError(`${method}: digits must be a non-empty string of DTMF digits, not ${JSON.stringify(s.digits)}`);
  const bad = [...s.digits].find((c) => !DTMF_CHARS.includes(c));
  if (bad !== undefined) throw new RelayArgumentError(`${method}: digits may hold ${DTMF_CHARS} only, not ${JSON.stringify(bad)}`);
  return { type: 'digit', timeout: s.timeout, digits: [...new Set(s.digits)].join('') };
}

/** {@link checkDetectParams} for fax tone detection. */
export function checkFaxParams(method: string, params: FaxDetectParams = {}): DetectPlan & { type: 'fax' } {
  const s = { ...FAX_DETECT_DEFAULTS, ...definedOnly(params, Object.keys(FAX_DETECT_DEFAULTS)) } as Required<FaxDetectParams>;
  seconds(method, 'timeout', s.timeout);
  if (!FAX_TONE_NAMES.includes(s.tone)) throw new RelayArgumentError(`${method}: tone must be ${FAX_TONE_NAMES.join(' or ')}, not ${JSON.stringify(s.tone)}`);
  return { type: 'fax', timeout: s.timeout, tone: s.tone };
}

function seconds(method: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DETECT_SECONDS) {
    throw new RelayArgumentError(`${method}: ${name} must be a number of seconds above 0 and at most ${MAX_DETECT_SECONDS}, not ${JSON.stringify(value)}`);
  }
}

/** The parameters named in `keys` that the caller set (`undefined` ones do not hide a default). */
function definedOnly(params: object, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key, value]) => keys.includes(key) && value !== undefined));
}

/** Seconds as whole ms. */
const ms = (s: number): number => Math.max(1, Math.round(s * 1000));

/**
 * `AMD()`'s arguments (`apps/app_amd.c`: initialSilence, greeting, afterGreetingSilence,
 * totalAnalysisTime, minimumWordLength, betweenWordsSilence, maximumNumberOfWords; ms and a count):
 * `initialTimeout` is initialSilence, `machineVoiceThreshold` greeting, `endSilenceTimeout`
 * afterGreetingSilence, `timeout` totalAnalysisTime; AMD says MACHINE when it counts *more* words
 * than maximumNumberOfWords, so that is `machineWordsThreshold - 1`. The two word-length arguments
 * stay empty: amd.conf's values (or AMD's built-in 100 ms and 50 ms) apply.
 */
export function amdArguments(amd: Readonly<Required<AmdParams>>): string[] {
  return [ms(amd.initialTimeout), ms(amd.machineVoiceThreshold), ms(amd.endSilenceTimeout), ms(amd.timeout), '', '', amd.machineWordsThreshold - 1].map(String);
}

/**
 * What `AMDSTATUS` says: a verdict (`NOTSURE`, AMD's "too long to decide", is `UNKNOWN`), `hangup`
 * (the call ended under it), or `error` (AMD could not run: it leaves the status empty when it
 * cannot read the channel's audio).
 */
export function amdOutcome(status: string | undefined): { readonly kind: 'verdict'; readonly verdict: MachineVerdict } | { readonly kind: 'hangup' | 'error' } {
  switch (status) {
    case 'MACHINE':
    case 'HUMAN':
      return { kind: 'verdict', verdict: status };
    case 'NOTSURE':
      return { kind: 'verdict', verdict: 'UNKNOWN' };
    case 'HANGUP':
      return { kind: 'hangup' };
    default:
      return { kind: 'error' };
  }
}

/** `WaitForTone()`'s arguments: frequency, minimum duration (ms), timeout (seconds, fractions allowed). */
export function waitForToneArguments(tone: ToneSpec, timeoutMs: number): string[] {
  return [String(tone.frequency), String(tone.durationMs), (Math.max(1, Math.round(timeoutMs)) / 1000).toFixed(3)];
}

/** What `WAITFORTONESTATUS` says. */
export function toneOutcome(status: string | undefined): 'detected' | 'timeout' | 'hangup' | 'error' {
  switch (status) {
    case 'SUCCESS':
      return 'detected';
    case 'TIMEOUT':
      return 'timeout';
    case 'HANGUP':
      return 'hangup';
    default:
      return 'error';
  }
}

/**
 * The `TONE_DETECT` function that starts a detector for `tone` on the audio the channel receives
 * (`r`; res_tonedetect also defaults to it), and the one that removes it (`x`).
 */
export function toneDetectFunctions(tone: ToneSpec): { readonly start: string; readonly remove: string; readonly count: string } {
  return { start: `TONE_DETECT(${tone.frequency},${tone.durationMs},r)`, remove: 'TONE_DETECT(0,,x)', count: 'TONE_DETECT(rx)' };
}

/** The hit count `TONE_DETECT(rx)` reads (`''` before a detector exists is 0). */
export function toneCount(value: string | undefined): number {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isNaN(n) || n < 0 ? 0 : n;
}

/**
 * Whether a detector is over after a detection: answering-machine and fax detectors end with their
 * first verdict or tone (after `READY`/`NOT_READY` when waiting for the beep); a digit detector ends
 * with its first digit when a blocking method runs it (as SignalWire's SDKs do), and runs to its
 * timeout or `stop()` as an `*Async` action, collecting every digit.
 */
export function endsWith(plan: DetectPlan, detection: Detection, blocking: boolean): boolean {
  switch (plan.type) {
    case 'digit':
      return blocking;
    case 'fax':
      return true;
    case 'machine':
      return !(plan.amd.waitForBeep && detection === 'MACHINE');
  }
}

/**
 * The `result` of a detector from its detections: the verdict (still `MACHINE` once `READY` came),
 * the digits in order, or the fax tone; `null` when nothing was detected.
 */
export function detectionResult(plan: DetectPlan, detections: readonly Detection[]): string | null {
  if (detections.length === 0) return null;
  if (plan.type === 'digit') return detections.join('');
  return detections[0] ?? null;
}
