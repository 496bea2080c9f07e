/**
 * What a recording will be, worked out before anything is sent: how each {@link RecordFileFormat}
 * and rate is recorded ({@link planRecording}), the time limit `maxBytes` becomes
 * ({@link sizeLimitMs}), and a job's file names, limits and escape digits ({@link planJob}). Pure,
 * but for the random part of a temporary file name.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { AgiArgumentError } from '../errors.js';
import { ANY_DIGIT } from '../protocol/encode.js';
import { imaBlockAlignFor, imaSamplesPerBlock, type WavEncoding } from './audio.js';
import { ENCRYPTION_OVERHEAD_BYTES, type RecordingCipher } from './cipher.js';
import { MediaSetupError } from './errors.js';
import { withoutAudioExtension } from './formats.js';
import type { PathMapping } from './paths.js';

/**
 * File formats: the codec of the WAV file a recording is, as in Aculab's seeds (`oki` and `gsm`
 * excepted), and what agikit asks Asterisk for:
 *
 * | format | 8 kHz | other rates |
 * |---|---|---|
 * | `alaw` | A-law WAV (`<file>.wav`, format 6, 58-byte header), 8000 bytes/s: Asterisk records headerless `alaw`, agikit wraps the same bytes | A-law WAV converted by agikit |
 * | `ulaw` | µ-law WAV (`<file>.wav`, format 7, 58-byte header), 8000 bytes/s: Asterisk `ulaw`, wrapped by agikit | µ-law WAV converted by agikit |
 * | `s16bit`, `wav` | Asterisk `wav`: 16-bit PCM WAV, 16000 bytes/s (16 kHz: `wav16`, `<file>.wav16`) | 16-bit WAV converted by agikit |
 * | `gsm` | Asterisk `gsm`: raw GSM 06.10, `<file>.gsm`, 1650 bytes/s | refused |
 * | `u8bit` | 8-bit unsigned PCM WAV converted by agikit | same |
 * | `ima` | IMA ADPCM WAV (format 0x11, 256-byte blocks) converted by agikit | same |
 * | `oki` | OKI/Dialogic ADPCM, headerless `<file>.vox`, converted by agikit | same |
 *
 * Asterisk writes no A-law or µ-law WAV (its `wav` format is 16-bit PCM only), hence the wrapping.
 * "Converted by agikit": Asterisk records 16-bit WAV (at 16 kHz when the rate is above 8 kHz), and
 * agikit converts it when the job ends. Both need the file in the media directory
 * ({@link MediaOptions.directory}); without it, converted formats are refused, and `alaw`/`ulaw` at
 * 8 kHz are left as Asterisk wrote them: headerless `<file>.alaw` / `<file>.ulaw`.
 */
export type RecordFileFormat = 'alaw' | 'ulaw' | 's16bit' | 'wav' | 'gsm' | 'u8bit' | 'ima' | 'oki';

/** Options of {@link FileRecorder.record} and {@link FileRecorder.start} (defaults are Aculab's). */
export interface RecordOptions {
  /** File format (default `alaw`); see {@link RecordFileFormat}. */
  fileFormat?: RecordFileFormat;
  /** Sample rate in Hz (default 8000; 6000, 11000, 11025 and 16000 are the usual others). */
  rate?: number;
  /**
   * Time limit in seconds, cause `TIMEOUT` (default 120 for `record()`, none for `start()`; `0` or
   * `null`: none). Enforced by Asterisk as `RECORD FILE`'s timeout.
   */
  secondsTimeout?: number | null;
  /**
   * Size limit of the finished file in bytes, cause `SIZE` (default 1920000; `0`: none). The file is
   * never larger. AGI has no size limit, so agikit turns it into a time limit: (maxBytes − header
   * bytes) ÷ the format's bytes per second (table at {@link RecordFileFormat}), and gives Asterisk
   * the smaller of this and `secondsTimeout`. Asterisk checks that limit once per 20 ms frame and
   * may write a frame more: agikit then cuts the file back to at most `maxBytes` (whole samples, GSM
   * frames or IMA blocks; WAV sizes rewritten) and reports `SIZE`. That needs the media directory;
   * without it agikit has Asterisk stop one frame early instead. With `cipher`, the 36 bytes of the
   * encryption envelope count. A value that leaves no room after the header throws
   * {@link AgiArgumentError}.
   */
  maxBytes?: number;
  /**
   * Silence that ends the recording, cause `SILENCE` (default 10000; `0`: none). Asterisk counts
   * silence in whole seconds (`RECORD FILE ... s=<seconds>`), so this is rounded **up** to whole
   * seconds: the recording never stops on a shorter pause than asked. Asterisk keeps about 1 s of
   * the trailing silence in the file. Silence is what Asterisk's DSP calls silence (average level
   * under dsp.conf's `silencethreshold`, 256 by default), measured on the frames that arrive: a leg
   * that sends no audio frames at all is never "silent" to `RECORD FILE`, so only the time limits end
   * such a recording (unlike `msInitialSilence`, whose `WaitForNoise` counts no frames as silence).
   */
  msMaxSilence?: number;
  /**
   * How long to wait for audio before recording starts, cause `SILENCE` when none comes (default
   * `0`: no wait, recording starts at once). Runs Asterisk's `WaitForNoise` (app_waitforsilence)
   * first: it needs 60 ms of sound above the silence threshold, and those 60 ms (plus an AGI
   * round trip) are not in the recording. Asterisk measures this timeout with a one-second clock,
   * so agikit asks for one second more than the value rounded up to whole seconds: the wait never
   * gives up early, and may last up to about 2 s longer. A leg that sends no audio frames at all
   * (a muted or on-hold party) is silence to `WaitForNoise` on Asterisk 22: the wait ends with
   * `SILENCE` and nothing is recorded. DTMF and `stop()` take effect once this wait is over.
   */
  msInitialSilence?: number;
  /** Any DTMF key ends the recording (cause `BARGEIN`). Default `false`. */
  bargeIn?: boolean;
  /**
   * Encrypt the finished file in place with AES-256-GCM (layout in {@link encryptRecording}). Needs
   * the media directory: agikit encrypts the file where Asterisk wrote it.
   */
  cipher?: RecordingCipher;
  /** Play Asterisk's beep before recording (not in Aculab's API). Default `false`. */
  beep?: boolean;
}

/** How a format and rate are recorded. */
export interface RecordPlan {
  /** `RECORD FILE`'s format. */
  readonly asteriskFormat: 'alaw' | 'ulaw' | 'wav' | 'wav16' | 'gsm';
  /** Sample rate of what Asterisk writes (for `endpos`). */
  readonly asteriskRate: number;
  /** Conversion agikit applies to the finished file. */
  readonly convert?: { readonly encoding: WavEncoding | 'oki'; readonly rate: number };
  /** Asterisk's headerless G.711 that agikit puts, as it is, in a WAV container. */
  readonly wrap?: 'alaw' | 'ulaw';
  /** Extension of the finished file. */
  readonly extension: string;
  /** Bytes per second and header bytes of the finished file (for `maxBytes`). */
  readonly bytesPerSecond: number;
  readonly headerBytes: number;
}

const WAV_HEADER = 44;
/** Header of a WAV file with a cbSize field and a fact chunk (A-law, µ-law). */
const WAV_FACT_HEADER = 58;
/** Header of an IMA ADPCM WAV file (cbSize, samples per block, fact chunk). */
const WAV_IMA_HEADER = 60;

/**
 * How a format and rate will be recorded; throws {@link MediaSetupError} for combinations that cannot
 * be. `mediaDirectory` says whether agikit will reach the file (default `true`): without it, A-law
 * and µ-law at 8 kHz stay headerless, as Asterisk writes them.
 */
export function planRecording(format: RecordFileFormat, rate: number, mediaDirectory = true): RecordPlan {
  if (!Number.isInteger(rate) || rate < 4000 || rate > 48000) throw new MediaSetupError(`FileRecorder: unsupported rate ${rate} Hz`);
  const source = rate > 8000 ? { asteriskFormat: 'wav16' as const, asteriskRate: 16000 } : { asteriskFormat: 'wav' as const, asteriskRate: 8000 };
  const converted = (encoding: WavEncoding | 'oki', extension: string, bytesPerSecond: number, headerBytes: number): RecordPlan => ({
    ...source,
    convert: { encoding, rate },
    extension,
    bytesPerSecond,
    headerBytes,
  });
  const native = (asteriskFormat: RecordPlan['asteriskFormat'], bytesPerSecond: number, headerBytes: number): RecordPlan => ({
    asteriskFormat,
    asteriskRate: asteriskFormat === 'wav16' ? 16000 : 8000,
    extension: asteriskFormat,
    bytesPerSecond,
    headerBytes,
  });
  switch (format) {
    case 'alaw':
    case 'ulaw':
      if (rate !== 8000) return converted(format, 'wav', rate, WAV_FACT_HEADER);
      if (!mediaDirectory) return native(format, 8000, 0);
      return { ...native(format, 8000, WAV_FACT_HEADER), wrap: format, extension: 'wav' };
    case 's16bit':
    case 'wav':
      if (rate === 8000) return native('wav', 16000, WAV_HEADER);
      if (rate === 16000) return native('wav16', 32000, WAV_HEADER);
      return converted('pcm16', 'wav', rate * 2, WAV_HEADER);
    case 'gsm':
      if (rate !== 8000) throw new MediaSetupError('FileRecorder: GSM is recorded at 8000 Hz only');
      return native('gsm', 1650, 0);
    case 'u8bit':
      return converted('pcm8', 'wav', rate, WAV_HEADER);
    case 'ima': {
      const block = imaBlockAlignFor(rate);
      return converted('ima-adpcm', 'wav', (rate * block) / imaSamplesPerBlock(block), WAV_IMA_HEADER);
    }
    case 'oki':
      return converted('oki', 'vox', rate / 2, 0);
    default:
      throw new MediaSetupError(`FileRecorder: unknown file format ${String(format)}`);
  }
}

/** Time limit for `maxBytes`, in ms (at least 1). */
export function sizeLimitMs(maxBytes: number, plan: RecordPlan): number {
  return Math.max(1, Math.floor(((maxBytes - plan.headerBytes) * 1000) / plan.bytesPerSecond));
}

/** What `RECORD FILE` writes per format: header bytes, and bytes per sample of `endpos`. */
const ASTERISK_OUTPUT: Readonly<Record<RecordPlan['asteriskFormat'], { readonly header: number; readonly perSample: number }>> = {
  alaw: { header: 0, perSample: 1 },
  ulaw: { header: 0, perSample: 1 },
  wav: { header: WAV_HEADER, perSample: 2 },
  wav16: { header: WAV_HEADER, perSample: 2 },
  gsm: { header: 0, perSample: 33 / 160 },
};

/** Bytes of the file `RECORD FILE` has written once it has `endpos` samples. */
export function asteriskFileBytes(format: RecordPlan['asteriskFormat'], endpos: number): number {
  const output = ASTERISK_OUTPUT[format];
  return output.header + Math.floor(endpos * output.perSample);
}

/** One audio frame: Asterisk checks `RECORD FILE`'s time limit once per frame (ms). */
const FRAME_MS = 20;

/** What the recorder runs for one job. */
export interface RecordJobSpec {
  readonly plan: RecordPlan;
  /** `RECORD FILE`'s file name (no extension), as Asterisk sees it. */
  readonly asteriskBase: string;
  /** The same on agikit's side, when reachable. */
  readonly localBase: string | undefined;
  /** The finished file (with extension) on agikit's side, when reachable, else as Asterisk sees it. */
  readonly finalFile: string;
  readonly localFinal: string | undefined;
  /**
   * Most bytes the finished audio file may have (`maxBytes`, less the encryption envelope with
   * `cipher`), when agikit can reach it to cut what Asterisk wrote past it; else `undefined`.
   */
  readonly maxFileBytes: number | undefined;
  readonly escapeDigits: string;
  readonly timeLimitMs: number | undefined;
  readonly sizeLimitMs: number | undefined;
  readonly silenceSeconds: number | undefined;
  readonly initialSilenceSeconds: number | undefined;
  readonly beep: boolean;
  readonly cipher: RecordingCipher | undefined;
}

/** What {@link planJob} needs from the recorder. */
export interface RecorderSetup {
  readonly mapping: PathMapping | undefined;
  /** An AMI connection is there to stop recordings (the stop digit is then an escape digit). */
  readonly ami: boolean;
  readonly stopDigit: string;
}

/** Works out a job's file names, format and limits; throws for what cannot be done. */
export function planJob(file: string, options: RecordOptions, setup: RecorderSetup): RecordJobSpec {
  const format = options.fileFormat ?? 'alaw';
  const rate = options.rate ?? 8000;
  const base = stripExtension(file, planRecording(format, rate).extension);
  let localFinalBase: string | undefined;
  let asteriskFinalBase: string;
  if (setup.mapping) {
    const resolved = setup.mapping.resolve(base);
    localFinalBase = resolved.local;
    asteriskFinalBase = resolved.asterisk;
  } else {
    asteriskFinalBase = base;
  }
  const plan = planRecording(format, rate, localFinalBase !== undefined);
  const finalExtension = plan.extension;
  if ((plan.convert || options.cipher) && localFinalBase === undefined) {
    const why = plan.convert ? `recording ${format} at ${rate} Hz is converted by agikit` : 'cipher encrypts the finished file';
    throw new MediaSetupError(`FileRecorder: ${why}, which needs the file in the media directory (MediaOptions.directory)`);
  }
  if (options.cipher && options.cipher.key.length !== 32) throw new MediaSetupError('FileRecorder: cipher.key must be 32 bytes (AES-256)');
  // What agikit rewrites is recorded under a temporary name first; the finished file gets the real one.
  const temp = plan.convert || plan.wrap ? `.agikit-recording-${randomBytes(4).toString('hex')}` : '';
  const seconds = options.secondsTimeout ?? 0;
  const maxBytes = options.maxBytes ?? 1_920_000;
  const msMaxSilence = options.msMaxSilence ?? 10_000;
  const msInitialSilence = options.msInitialSilence ?? 0;
  for (const [name, value] of Object.entries({ secondsTimeout: seconds, maxBytes, msMaxSilence, msInitialSilence })) {
    if (!(Number.isFinite(value) && value >= 0)) throw new AgiArgumentError(`FileRecorder: ${name} must be a number >= 0, got ${value}`);
  }
  const timeLimitMs = seconds > 0 ? Math.round(seconds * 1000) : undefined;
  // The limit is on the file agikit leaves: with cipher, the encryption envelope counts too.
  const audioMaxBytes = maxBytes > 0 ? maxBytes - (options.cipher ? ENCRYPTION_OVERHEAD_BYTES : 0) : undefined;
  if (audioMaxBytes !== undefined && audioMaxBytes <= plan.headerBytes) {
    throw new AgiArgumentError(`FileRecorder: maxBytes ${maxBytes} leaves no room for audio in a ${format} file (0: no limit)`);
  }
  let sizeLimit = audioMaxBytes === undefined ? undefined : sizeLimitMs(audioMaxBytes, plan);
  // Asterisk checks the time limit once per frame, so its file may hold one frame more. agikit cuts
  // that off when it can reach the file; when it cannot, it stops Asterisk a frame early instead.
  if (sizeLimit !== undefined && localFinalBase === undefined) sizeLimit = Math.max(1, sizeLimit - FRAME_MS);
  const escape = (options.bargeIn ? ANY_DIGIT : '') + (setup.ami && !(options.bargeIn && ANY_DIGIT.includes(setup.stopDigit)) ? setup.stopDigit : '');
  return {
    plan,
    asteriskBase: asteriskFinalBase + temp,
    localBase: localFinalBase === undefined ? undefined : localFinalBase + temp,
    finalFile: `${localFinalBase ?? asteriskFinalBase}.${finalExtension}`,
    localFinal: localFinalBase === undefined ? undefined : `${localFinalBase}.${finalExtension}`,
    maxFileBytes: localFinalBase === undefined ? undefined : audioMaxBytes,
    escapeDigits: escape,
    timeLimitMs,
    sizeLimitMs: sizeLimit,
    silenceSeconds: msMaxSilence > 0 ? Math.ceil(msMaxSilence / 1000) : undefined,
    initialSilenceSeconds: msInitialSilence > 0 ? Math.ceil(msInitialSilence / 1000) + 1 : undefined,
    beep: options.beep ?? false,
    cipher: options.cipher,
  };
}

/** Drops an extension that names the format (`msg.wav` → `msg`), keeping any other dots. */
function stripExtension(file: string, extension: string): string {
  if (file.endsWith(`.${extension}`)) return file.slice(0, -(extension.length + 1));
  return withoutAudioExtension(file);
}
