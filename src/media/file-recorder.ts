/**
 * {@link FileRecorder}: Aculab Cloud's `channel.FileRecorder` on Asterisk, built on the typed AGI
 * commands (plus an optional AMI connection to stop a recording).
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Agi } from '../agi/agi.js';
import type { AmiClient } from '../ami/client.js';
import type { RecordFileResult } from '../agi/results.js';
import { AgiArgumentError, AgiHangupError } from '../errors.js';
import { ANY_DIGIT } from '../protocol/encode.js';
import { analyseLevels, encodeOkiAdpcm, encodeWav, imaBlockAlignFor, imaSamplesPerBlock, resample, type WavEncoding } from './audio.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from './call.js';
import { encryptRecording, type RecordingCipher } from './cipher.js';
import { MediaSetupError } from './errors.js';
import { decodeAudioFile, withoutAudioExtension } from './formats.js';
import { asError, JobSlot, MediaJob, type JobVocabulary } from './media-job.js';
import type { MediaOptions } from './options.js';
import { PathMapping } from './paths.js';

/** States of a {@link FileRecorder}. */
export const RecordState = {
  /** No record job is running. */
  IDLE: 'IDLE',
  /** A record job is running. */
  RECORDING: 'RECORDING',
  /** The last record job failed (its cause is `ERROR`). */
  ERROR: 'ERROR',
} as const;
/** One of {@link RecordState}'s values. */
export type RecordState = (typeof RecordState)[keyof typeof RecordState];

/** Why a record job ended ({@link FileRecorder.cause}). */
export const RecordCause = {
  /** A job is running, or none has run. */
  NONE: 'NONE',
  /** The recording could not be made (file not writable, command failed); see {@link FileRecorder.error}. */
  ERROR: 'ERROR',
  /** A DTMF key ended it (`bargeIn`); the key is {@link FileRecorder.digit}. */
  BARGEIN: 'BARGEIN',
  /** `msMaxSilence` of silence ended it, or no audio started within `msInitialSilence`. */
  SILENCE: 'SILENCE',
  /** The `maxBytes` limit ended it. */
  SIZE: 'SIZE',
  /** {@link FileRecorder.stop} ended it. */
  ABORTED: 'ABORTED',
  /** The call hung up. */
  HANGUP: 'HANGUP',
  /** `secondsTimeout` ended it. */
  TIMEOUT: 'TIMEOUT',
} as const;
/** One of {@link RecordCause}'s values. */
export type RecordCause = (typeof RecordCause)[keyof typeof RecordCause];

/**
 * File formats, with what agikit asks Asterisk for:
 *
 * | format | 8 kHz | other rates |
 * |---|---|---|
 * | `alaw` | Asterisk `alaw`: raw G.711 A-law, `<file>.alaw`, 8000 bytes/s | A-law WAV (`.wav`) converted by agikit |
 * | `ulaw` | Asterisk `ulaw`: raw G.711 µ-law, `<file>.ulaw`, 8000 bytes/s | µ-law WAV (`.wav`) converted by agikit |
 * | `s16bit`, `wav` | Asterisk `wav`: 16-bit PCM WAV, 16000 bytes/s (16 kHz: `wav16`, `<file>.wav16`) | 16-bit WAV converted by agikit |
 * | `gsm` | Asterisk `gsm`: raw GSM 06.10, `<file>.gsm`, 1650 bytes/s | refused |
 * | `u8bit` | 8-bit unsigned PCM WAV converted by agikit | same |
 * | `ima` | IMA ADPCM WAV (format 0x11, 256-byte blocks) converted by agikit | same |
 * | `oki` | OKI/Dialogic ADPCM, headerless `<file>.vox`, converted by agikit | same |
 *
 * "Converted by agikit": Asterisk records 16-bit WAV (at 16 kHz when the rate is above 8 kHz) into
 * the media directory, and agikit converts it when the job ends, which needs {@link MediaOptions.directory}.
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
   * Size limit of the finished file in bytes, cause `SIZE` (default 1920000; `0`: none). AGI has no
   * size limit, so agikit turns it into a time limit: (maxBytes − header bytes) ÷ the format's bytes
   * per second (table at {@link RecordFileFormat}), and gives Asterisk the smaller of this and
   * `secondsTimeout`. A GSM or IMA file ends within one frame or block of the limit.
   */
  maxBytes?: number;
  /**
   * Silence that ends the recording, cause `SILENCE` (default 10000; `0`: none). Asterisk counts
   * silence in whole seconds (`RECORD FILE ... s=<seconds>`), so this is rounded **up** to whole
   * seconds: the recording never stops on a shorter pause than asked. Asterisk keeps about 1 s of
   * the trailing silence in the file. Silence is what Asterisk's DSP calls silence (average level
   * under dsp.conf's `silencethreshold`, 256 by default); a leg that sends no audio frames at all
   * is never "silent" to it, so only the time limits end such a recording.
   */
  msMaxSilence?: number;
  /**
   * How long to wait for audio before recording starts, cause `SILENCE` when none comes (default
   * `0`: no wait, recording starts at once). Runs Asterisk's `WaitForNoise` (app_waitforsilence)
   * first: it needs 60 ms of sound above the silence threshold, and those 60 ms (plus an AGI
   * round trip) are not in the recording. Asterisk measures this timeout with a one-second clock,
   * so agikit asks for one second more than the value rounded up to whole seconds: the wait never
   * gives up early, and may last up to about 2 s longer. A leg that sends no audio frames at all
   * counts as sound to `WaitForNoise`. DTMF and `stop()` take effect once this wait is over.
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

/** Options of {@link FileRecorder.waitUntilFinished}. */
export interface RecordWaitOptions {
  /** How long to wait in ms (default 120000); `null` waits as long as it takes. */
  timeoutMs?: number | null;
}

/** How a format and rate are recorded. */
interface RecordPlan {
  /** `RECORD FILE`'s format. */
  readonly asteriskFormat: 'alaw' | 'ulaw' | 'wav' | 'wav16' | 'gsm';
  /** Sample rate of what Asterisk writes (for `endpos`). */
  readonly asteriskRate: number;
  /** Conversion agikit applies to the finished file, with the extension of the result. */
  readonly convert?: { readonly encoding: WavEncoding | 'oki'; readonly rate: number; readonly extension: string };
  /** Bytes per second and header bytes of the finished file (for `maxBytes`). */
  readonly bytesPerSecond: number;
  readonly headerBytes: number;
}

const WAV_HEADER = 44;
/** Header of a WAV file with a cbSize field and a fact chunk (A-law, µ-law). */
const WAV_FACT_HEADER = 58;
/** Header of an IMA ADPCM WAV file (cbSize, samples per block, fact chunk). */
const WAV_IMA_HEADER = 60;

/** How a format and rate will be recorded; throws {@link MediaSetupError} for combinations that cannot be. */
export function planRecording(format: RecordFileFormat, rate: number): RecordPlan {
  if (!Number.isInteger(rate) || rate < 4000 || rate > 48000) throw new MediaSetupError(`FileRecorder: unsupported rate ${rate} Hz`);
  const source = rate > 8000 ? { asteriskFormat: 'wav16' as const, asteriskRate: 16000 } : { asteriskFormat: 'wav' as const, asteriskRate: 8000 };
  const converted = (encoding: WavEncoding | 'oki', extension: string, bytesPerSecond: number, headerBytes: number): RecordPlan => ({
    ...source,
    convert: { encoding, rate, extension },
    bytesPerSecond,
    headerBytes,
  });
  switch (format) {
    case 'alaw':
    case 'ulaw':
      if (rate === 8000) return { asteriskFormat: format, asteriskRate: 8000, bytesPerSecond: 8000, headerBytes: 0 };
      return converted(format, 'wav', rate, WAV_FACT_HEADER);
    case 's16bit':
    case 'wav':
      if (rate === 8000) return { asteriskFormat: 'wav', asteriskRate: 8000, bytesPerSecond: 16000, headerBytes: WAV_HEADER };
      if (rate === 16000) return { asteriskFormat: 'wav16', asteriskRate: 16000, bytesPerSecond: 32000, headerBytes: WAV_HEADER };
      return converted('pcm16', 'wav', rate * 2, WAV_HEADER);
    case 'gsm':
      if (rate !== 8000) throw new MediaSetupError('FileRecorder: GSM is recorded at 8000 Hz only');
      return { asteriskFormat: 'gsm', asteriskRate: 8000, bytesPerSecond: 1650, headerBytes: 0 };
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

/** How close to the time limit a `(timeout)` end must be to count as the limit rather than silence. */
const LIMIT_TOLERANCE_MS = 250;
/** Sound `WaitForNoise` must hear before recording starts (ms). */
const NOISE_REQUIRED_MS = 60;
/** How often `stop()` asks Asterisk again for the stop digit if the recording has not ended. */
const STOP_RETRY_MS = 1000;

/** What the recorder runs for one job. */
interface RecordJobSpec {
  readonly plan: RecordPlan;
  /** `RECORD FILE`'s file name (no extension), as Asterisk sees it. */
  readonly asteriskBase: string;
  /** The same on agikit's side, when reachable. */
  readonly localBase: string | undefined;
  /** The finished file (with extension) on agikit's side, when reachable, else as Asterisk sees it. */
  readonly finalFile: string;
  readonly localFinal: string | undefined;
  readonly escapeDigits: string;
  readonly timeLimitMs: number | undefined;
  readonly sizeLimitMs: number | undefined;
  readonly silenceSeconds: number | undefined;
  readonly initialSilenceSeconds: number | undefined;
  readonly beep: boolean;
  readonly cipher: RecordingCipher | undefined;
}

const RECORD_WORDS: JobVocabulary<RecordCause, RecordState> = {
  owner: 'FileRecorder',
  noun: 'record',
  running: RecordState.RECORDING,
  idle: RecordState.IDLE,
  failed: RecordState.ERROR,
  none: RecordCause.NONE,
  hangup: RecordCause.HANGUP,
  error: RecordCause.ERROR,
};

/**
 * One record job: the initial-silence wait, `RECORD FILE`, then what agikit does with the finished
 * file. Stopped by having Asterisk receive the reserved stop digit over AMI.
 */
class RecordJob extends MediaJob<RecordCause, RecordState> {
  protected readonly haltRetryMs = STOP_RETRY_MS;
  audioDetected: boolean | null = null;
  private phase: 'waiting-for-audio' | 'recording' | 'finishing' = 'recording';
  /** `RECORD FILE` was sent: Asterisk has (or had) a file for this job. */
  private recordingStarted = false;

  constructor(
    private readonly agi: Agi,
    readonly spec: RecordJobSpec,
    private readonly stopDigit: string,
    private readonly ami: AmiClient | undefined,
  ) {
    super(RECORD_WORDS);
  }

  protected async execute(): Promise<RecordCause> {
    let cause: RecordCause;
    try {
      cause = await this.capture();
    } catch (error) {
      cause = this.failed(error);
    }
    // Asterisk keeps what it recorded whatever ended it (a hangup included): finish that file.
    if (this.recordingStarted && cause !== RecordCause.ERROR && this.spec.localBase !== undefined) {
      this.phase = 'finishing';
      try {
        await this.finishFile();
      } catch (error) {
        this.error = asError(error);
        if (cause !== RecordCause.HANGUP) cause = RecordCause.ERROR;
      }
    }
    return cause;
  }

  /** Asks Asterisk (AMI `PlayDTMF`, `Receive: yes`) to queue the stop digit, which ends `RECORD FILE`. */
  protected async halt(deadline: number): Promise<void> {
    if (this.phase !== 'recording' || !this.ami) return;
    try {
      await this.ami.playDtmf(this.agi.env.channel, this.stopDigit, { receive: true, timeoutMs: Math.max(1, deadline - Date.now()) });
    } catch (error) {
      // The channel may be gone (hangup) or the job may have ended meanwhile.
      if (!this.completed) this.agi.log.debug({ err: error }, 'AMI PlayDTMF for FileRecorder.stop failed');
    }
  }

  /** The AGI part: the initial-silence wait, then `RECORD FILE`, read into a cause. */
  private async capture(): Promise<RecordCause> {
    const spec = this.spec;
    if (spec.initialSilenceSeconds !== undefined) {
      this.phase = 'waiting-for-audio';
      await this.agi.exec('WaitForNoise', NOISE_REQUIRED_MS, 1, spec.initialSilenceSeconds);
      const status = await this.agi.getVariable('WAITSTATUS');
      if (this.stopRequested) {
        this.audioDetected = null;
        return RecordCause.ABORTED;
      }
      if (status === 'TIMEOUT') {
        this.audioDetected = false;
        return RecordCause.SILENCE;
      }
      if (status === 'HANGUP') throw new AgiHangupError(this.agi.hangupReason ?? 'dead-channel', 'WaitForNoise');
    }
    if (this.stopRequested) return RecordCause.ABORTED;
    this.phase = 'recording';
    const limits = [spec.timeLimitMs, spec.sizeLimitMs].filter((v): v is number => v !== undefined);
    const limitMs = limits.length > 0 ? Math.min(...limits) : undefined;
    const sentAt = Date.now();
    this.recordingStarted = true;
    let result: RecordFileResult;
    try {
      result = await this.agi.recordFile(
        spec.asteriskBase,
        spec.plan.asteriskFormat,
        spec.escapeDigits,
        limitMs ?? -1,
        { beep: spec.beep, ...(spec.silenceSeconds === undefined ? {} : { silenceSeconds: spec.silenceSeconds }) },
        { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS },
      );
    } catch (error) {
      // A hangup leaves what was recorded; any other failure means there is no file.
      if (!(error instanceof AgiHangupError)) this.recordingStarted = false;
      throw error;
    }
    const elapsedMs = Date.now() - sentAt;
    if (result.reason === 'dtmf' || result.reason === 'beep-interrupted') {
      if (this.stopRequested && result.digit === this.stopDigit) return RecordCause.ABORTED;
      this.digit = result.digit;
      return RecordCause.BARGEIN;
    }
    // "(timeout)": Asterisk reports its time limit and its silence limit alike. Silence is the answer
    // when the recording ended clearly before the time limit (measured from when agikit sent it).
    if (limitMs === undefined) return RecordCause.SILENCE;
    if (spec.silenceSeconds !== undefined && elapsedMs < limitMs - LIMIT_TOLERANCE_MS) return RecordCause.SILENCE;
    return spec.sizeLimitMs !== undefined && spec.sizeLimitMs < (spec.timeLimitMs ?? Infinity) ? RecordCause.SIZE : RecordCause.TIMEOUT;
  }

  /** Converts, analyses and encrypts the finished file (agikit's side of the media directory). */
  private async finishFile(): Promise<void> {
    const spec = this.spec;
    const { localBase, localFinal, plan } = spec;
    if (localBase === undefined || localFinal === undefined) return;
    const recorded = `${localBase}.${plan.asteriskFormat}`;
    let bytes: Buffer = await readFile(recorded);
    if (plan.convert) {
      const audio = resample(decodeAudioFile(bytes, 'wav'), plan.convert.rate);
      this.audioDetected = analyseLevels(audio).audioDetected;
      bytes = plan.convert.encoding === 'oki' ? encodeOkiAdpcm(audio.samples) : encodeWav(audio, plan.convert.encoding);
      await writeFile(localFinal, bytes);
      await rm(recorded, { force: true });
    } else if (plan.asteriskFormat !== 'gsm') {
      this.audioDetected = analyseLevels(decodeAudioFile(bytes, plan.asteriskFormat)).audioDetected;
    }
    if (spec.cipher) {
      const temp = `${localFinal}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, encryptRecording(bytes, spec.cipher));
      await rename(temp, localFinal);
    }
  }
}

/**
 * Records the caller, the way Aculab Cloud's `channel.FileRecorder` does: one job at a time, with a
 * {@link RecordState}, a {@link RecordCause} once the job ends, and
 * {@link audioDetectedInRecording}. Make one per call with the shared {@link MediaOptions}.
 *
 * ```ts
 * const recorder = new FileRecorder(agi, media);
 * const cause = await recorder.record('messages/msg-1', { fileFormat: 'wav', msMaxSilence: 2000, bargeIn: true });
 * if (recorder.audioDetectedInRecording()) await new FilePlayer(agi, media).play(recorder.recordedFile()!);
 * ```
 *
 * How it maps onto AGI: one `RECORD FILE` (after `WaitForNoise` for `msInitialSilence`); the options
 * say how each limit is enforced. `RECORD FILE` cannot be interrupted over AGI, so while a started
 * job records, the call's other commands wait behind it, and {@link stop} needs an AMI connection
 * ({@link MediaOptions.ami}). Everything agikit does with the finished file (format conversion,
 * `cipher`, audio detection) needs the media directory ({@link MediaOptions.directory}).
 *
 * File names: a relative name is taken relative to the media directory (without one, Asterisk puts it
 * under its sounds directory); an extension matching the format may be given or left out. agikit
 * creates missing directories in the media directory (Asterisk does not).
 */
export class FileRecorder {
  /** The states, as `FileRecorder.State.RECORDING` (Aculab's spelling). */
  static readonly State = RecordState;
  /** The causes, as `FileRecorder.Cause.SILENCE`. */
  static readonly Cause = RecordCause;

  private readonly mapping: PathMapping | undefined;
  private readonly stopDigit: string;
  private readonly jobs: JobSlot<RecordCause, RecordState, RecordJob>;

  constructor(
    private readonly agi: Agi,
    private readonly options: MediaOptions = {},
  ) {
    this.mapping = options.directory ? new PathMapping(options.directory) : undefined;
    this.stopDigit = options.stopDigit ?? 'D';
    if (!/^[0-9A-D*#]$/.test(this.stopDigit)) throw new AgiArgumentError(`stopDigit must be one DTMF digit, got ${JSON.stringify(this.stopDigit)}`);
    this.jobs = new JobSlot(agi, RECORD_WORDS);
  }

  /** `RECORDING` while a job runs; otherwise `IDLE`, or `ERROR` when the last job failed. */
  state(): RecordState {
    return this.jobs.state();
  }

  /** Why the last job ended; `NONE` while a job runs or before the first. */
  cause(): RecordCause {
    return this.jobs.cause();
  }

  /** The DTMF key that ended the last job (`BARGEIN`), or `null`. */
  digit(): string | null {
    return this.jobs.ended?.digit ?? null;
  }

  /** What made the last job end with `ERROR`, or `null`. */
  error(): Error | null {
    return this.jobs.ended?.error ?? null;
  }

  /**
   * Whether the last recording holds audio, computed from its samples: `true` when at least 60 ms of
   * 20 ms frames have an RMS level above 256 (Asterisk's default silence threshold), see
   * {@link analyseLevels}. `null` while a job runs, before the first, and when agikit cannot read
   * the file: no media directory, a GSM recording (agikit has no GSM decoder), or no file (an error).
   * `false` when no audio started within `msInitialSilence` (nothing was recorded).
   */
  audioDetectedInRecording(): boolean | null {
    return this.jobs.ended?.audioDetected ?? null;
  }

  /**
   * The last job's file, with extension: the local path when agikit can reach it (pass it to
   * `FilePlayer.play`), else the path Asterisk wrote. `null` while a job runs or before the first.
   */
  recordedFile(): string | null {
    return this.jobs.ended?.spec.finalFile ?? null;
  }

  /**
   * Records and resolves with the cause once the recording has ended.
   *
   * @throws AgiHangupError when the call has hung up
   * @throws MediaStateError when the channel is not answered or a job is already running
   * @throws MediaSetupError when the options need what is not configured (media directory for a
   *   converted format or `cipher`), or a format/rate that cannot be recorded
   */
  async record(file: string, options: RecordOptions = {}): Promise<RecordCause> {
    const job = await this.begin('record', file, { secondsTimeout: 120, ...options });
    return job.done;
  }

  /**
   * Starts recording and resolves `true` once `RECORD FILE` (or the `WaitForNoise` before it) has been
   * handed to the call: AGI sends no "recording has begun" acknowledgement. No time limit unless
   * `secondsTimeout` is given (`maxBytes` still applies).
   *
   * @throws as {@link record}
   */
  async start(file: string, options: RecordOptions = {}): Promise<boolean> {
    await this.begin('start', file, options);
    return true;
  }

  /**
   * Stops the running job (cause `ABORTED`): asks Asterisk over AMI to queue the reserved stop digit
   * ({@link MediaOptions.stopDigit}) on the channel (`PlayDTMF`, `Receive: yes`), which ends
   * `RECORD FILE` like a key press, and asks again every second until the job has ended. Resolves
   * `true` once it has, `false` if not within `timeoutMs` (default 5000). `true` at once when nothing
   * records. During a `msInitialSilence` wait, the job ends (`ABORTED`, nothing recorded) when the
   * wait does.
   *
   * @throws MediaSetupError when there is no AMI connection: `RECORD FILE` cannot be stopped over AGI
   * @throws AgiHangupError when the call has hung up and nothing records
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<boolean> {
    const job = await this.jobs.runningOrCheckCall('stop');
    if (!job) return true;
    if (!this.options.ami) {
      throw new MediaSetupError(
        'FileRecorder.stop: Asterisk cannot interrupt RECORD FILE through AGI; stopping a recording needs an AMI connection (MediaOptions.ami)',
      );
    }
    return job.stop(options);
  }

  /**
   * Waits until the running job ends and resolves with its cause, or with `TIMEOUT` when `timeoutMs`
   * (default 120000; `null`: no limit) passes first (the job goes on). With no job running, resolves
   * with the last job's cause.
   *
   * @throws AgiHangupError when the call has hung up and nothing records
   */
  async waitUntilFinished(options: RecordWaitOptions = {}): Promise<RecordCause> {
    const job = await this.jobs.runningOrCheckCall('waitUntilFinished');
    if (!job) return this.cause();
    const timeoutMs = options.timeoutMs === undefined ? 120_000 : options.timeoutMs;
    return (await job.wait(timeoutMs)) ? (job.result ?? RecordCause.NONE) : RecordCause.TIMEOUT;
  }

  private async begin(what: string, file: string, options: RecordOptions): Promise<RecordJob> {
    const spec = this.plan(file, options);
    return this.jobs.begin(what, async () => {
      // Asterisk does not create missing directories for RECORD FILE; agikit does, where it can.
      if (spec.localBase !== undefined) await mkdir(path.dirname(spec.localBase), { recursive: true });
      // The job sends its first command synchronously, so it is queued before start() returns.
      return new RecordJob(this.agi, spec, this.stopDigit, this.options.ami).start();
    });
  }

  /** Works out the file names, format and limits; throws for what cannot be done. */
  private plan(file: string, options: RecordOptions): RecordJobSpec {
    const format = options.fileFormat ?? 'alaw';
    const plan = planRecording(format, options.rate ?? 8000);
    const finalExtension = plan.convert?.extension ?? plan.asteriskFormat;
    const base = stripExtension(file, finalExtension);
    let localFinalBase: string | undefined;
    let asteriskFinalBase: string;
    if (this.mapping) {
      const resolved = this.mapping.resolve(base);
      localFinalBase = resolved.local;
      asteriskFinalBase = resolved.asterisk;
    } else {
      asteriskFinalBase = base;
    }
    if ((plan.convert || options.cipher) && localFinalBase === undefined) {
      const why = plan.convert ? `recording ${format} at ${options.rate ?? 8000} Hz is converted by agikit` : 'cipher encrypts the finished file';
      throw new MediaSetupError(`FileRecorder: ${why}, which needs the file in the media directory (MediaOptions.directory)`);
    }
    if (options.cipher && options.cipher.key.length !== 32) throw new MediaSetupError('FileRecorder: cipher.key must be 32 bytes (AES-256)');
    // A converted recording goes to a temporary name first; the finished file gets the real one.
    const temp = plan.convert ? `.agikit-recording-${randomBytes(4).toString('hex')}` : '';
    const seconds = options.secondsTimeout ?? 0;
    const maxBytes = options.maxBytes ?? 1_920_000;
    const msMaxSilence = options.msMaxSilence ?? 10_000;
    const msInitialSilence = options.msInitialSilence ?? 0;
    for (const [name, value] of Object.entries({ secondsTimeout: seconds, maxBytes, msMaxSilence, msInitialSilence })) {
      if (!(Number.isFinite(value) && value >= 0)) throw new AgiArgumentError(`FileRecorder: ${name} must be a number >= 0, got ${value}`);
    }
    const timeLimitMs = seconds > 0 ? Math.round(seconds * 1000) : undefined;
    const sizeLimit = maxBytes > 0 ? sizeLimitMs(maxBytes, plan) : undefined;
    const ami = this.options.ami !== undefined;
    const escape = (options.bargeIn ? ANY_DIGIT : '') + (ami && !(options.bargeIn && ANY_DIGIT.includes(this.stopDigit)) ? this.stopDigit : '');
    return {
      plan,
      asteriskBase: asteriskFinalBase + temp,
      localBase: localFinalBase === undefined ? undefined : localFinalBase + temp,
      finalFile: `${localFinalBase ?? asteriskFinalBase}.${finalExtension}`,
      localFinal: localFinalBase === undefined ? undefined : `${localFinalBase}.${finalExtension}`,
      escapeDigits: escape,
      timeLimitMs,
      sizeLimitMs: sizeLimit,
      silenceSeconds: msMaxSilence > 0 ? Math.ceil(msMaxSilence / 1000) : undefined,
      initialSilenceSeconds: msInitialSilence > 0 ? Math.ceil(msInitialSilence / 1000) + 1 : undefined,
      beep: options.beep ?? false,
      cipher: options.cipher,
    };
  }
}

/** Drops an extension that names the format (`msg.wav` → `msg`), keeping any other dots. */
function stripExtension(file: string, extension: string): string {
  if (file.endsWith(`.${extension}`)) return file.slice(0, -(extension.length + 1));
  return withoutAudioExtension(file);
}
