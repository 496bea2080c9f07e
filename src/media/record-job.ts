/**
 * One record job of {@link FileRecorder}: the initial-silence wait, `RECORD FILE`, and what agikit
 * does with the finished file (WAV container, conversion, cutting to `maxBytes`, audio detection,
 * encryption). The states and causes it ends with are Aculab's.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Agi } from '../agi/agi.js';
import type { RecordFileResult } from '../agi/results.js';
import type { AmiClient } from '../ami/client.js';
import { AgiHangupError } from '../errors.js';
import { analyseLevels, encodeOkiAdpcm, encodeWav, resample, wavIsComplete, wrapWav } from './audio.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from './call.js';
import { encryptRecording } from './cipher.js';
import { StopDigit } from './stop-digit.js';
import { decodeAudioFile, truncateAudioFile } from './formats.js';
import { asError, MediaJob, type JobVocabulary } from './media-job.js';
import { asteriskFileBytes, type RecordJobSpec } from './record-plan.js';

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

/** Longest wait for Asterisk to finish writing a recording after it answered `RECORD FILE` (ms). */
const FILE_SETTLE_MS = 2000;

/** How close to the time limit a `(timeout)` end must be to count as the limit rather than silence. */
const LIMIT_TOLERANCE_MS = 250;
/** Sound `WaitForNoise` must hear before recording starts (ms). */
const NOISE_REQUIRED_MS = 60;
/** How often `stop()` asks Asterisk again for the stop digit if the recording has not ended. */
const STOP_RETRY_MS = 1000;

export const RECORD_WORDS: JobVocabulary<RecordCause, RecordState> = {
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
export class RecordJob extends MediaJob<RecordCause, RecordState> {
  protected readonly haltRetryMs = STOP_RETRY_MS;
  audioDetected: boolean | null = null;
  private phase: 'waiting-for-audio' | 'recording' | 'finishing' = 'recording';
  /** `RECORD FILE` was sent: Asterisk has (or had) a file for this job. */
  private recordingStarted = false;
  /** `RECORD FILE`'s `endpos` (samples written), when it answered. */
  private endpos: number | undefined;

  /** What ends `RECORD FILE` on `stop()` (over AMI). */
  private readonly stopKey: StopDigit;

  constructor(
    private readonly agi: Agi,
    readonly spec: RecordJobSpec,
    stopDigit: string,
    private readonly ami: AmiClient | undefined,
  ) {
    super(RECORD_WORDS);
    this.stopKey = new StopDigit(stopDigit);
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
        // Cut to maxBytes: Asterisk stops at the time limit's frame, which may be one too many.
        if ((await this.finishFile()) && cause !== RecordCause.HANGUP) cause = RecordCause.SIZE;
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
    const ami = this.ami;
    try {
      await this.stopKey.send(() => ami.playDtmf(this.agi.env.channel, this.stopKey.digit, { receive: true, timeoutMs: Math.max(1, deadline - Date.now()) }));
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
    this.phase = 'finishing';
    await this.stopKey.drain(this.agi, result.digit);
    this.endpos = result.endpos;
    if (result.reason === 'dtmf' || result.reason === 'beep-interrupted') {
      if (this.stopRequested && result.digit === this.stopKey.digit) return RecordCause.ABORTED;
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
  private async finishFile(): Promise<boolean> {
    const { localBase, localFinal, plan, maxFileBytes, cipher } = this.spec;
    if (localBase === undefined || localFinal === undefined) return false;
    const recorded = `${localBase}.${plan.asteriskFormat}`;
    const original = await this.readRecording(recorded);
    let bytes = original;
    if (plan.convert) {
      const audio = resample(decodeAudioFile(bytes, 'wav'), plan.convert.rate);
      this.audioDetected = analyseLevels(audio).audioDetected;
      bytes = plan.convert.encoding === 'oki' ? encodeOkiAdpcm(audio.samples) : encodeWav(audio, plan.convert.encoding);
    } else if (plan.asteriskFormat !== 'gsm') {
      this.audioDetected = analyseLevels(decodeAudioFile(bytes, plan.asteriskFormat)).audioDetected;
    }
    if (plan.wrap) bytes = wrapWav(bytes, plan.wrap, plan.asteriskRate);
    const fitted = maxFileBytes === undefined ? bytes : truncateAudioFile(bytes, plan.extension, maxFileBytes);
    const finished = cipher ? encryptRecording(fitted, cipher) : fitted;
    if (finished !== original) {
      // A new file renamed into place: Asterisk may still hold the one it wrote open.
      const temp = `${localFinal}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, finished);
      await rename(temp, localFinal);
    }
    if (recorded !== localFinal) await rm(recorded, { force: true });
    return fitted.length < bytes.length;
  }

  /**
   * Reads Asterisk's file once it is complete. Asterisk answers `RECORD FILE` before it closes the
   * file (flushing the last frames and, for WAV, writing the sizes into the header), so agikit waits,
   * briefly, until the file holds what `endpos` says and a WAV header matches its data.
   */
  private async readRecording(file: string): Promise<Buffer> {
    const format = this.spec.plan.asteriskFormat;
    const expected = this.endpos === undefined ? 0 : asteriskFileBytes(format, this.endpos);
    const deadline = Date.now() + FILE_SETTLE_MS;
    for (;;) {
      const bytes = await readFile(file);
      const complete = bytes.length >= expected && (!format.startsWith('wav') || wavIsComplete(bytes));
      if (complete || Date.now() >= deadline) return bytes;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

