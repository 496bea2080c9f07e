/**
 * {@link FileRecorder}: Aculab Cloud's `channel.FileRecorder` on Asterisk, built on the typed AGI
 * commands (plus an optional AMI connection to stop a recording). The plan of a recording is in
 * record-plan.ts, the job that runs it in record-job.ts.
 *
 * @module
 */

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Agi } from '../agi/agi.js';
import { AgiArgumentError } from '../errors.js';
import { MediaSetupError } from './errors.js';
import { JobSlot } from './media-job.js';
import type { MediaOptions } from './options.js';
import { PathMapping } from './paths.js';
import { RECORD_WORDS, RecordCause, RecordJob, RecordState } from './record-job.js';
import { planJob, type RecordOptions } from './record-plan.js';

export { RecordCause, RecordState } from './record-job.js';
export { planRecording, sizeLimitMs, type RecordFileFormat, type RecordOptions } from './record-plan.js';

/** Options of {@link FileRecorder.waitUntilFinished}. */
export interface RecordWaitOptions {
  /** How long to wait in ms (default 120000); `null` waits as long as it takes. */
  timeoutMs?: number | null;
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
 * ({@link MediaOptions.ami}). Everything agikit does with the finished file (the WAV container of
 * A-law and µ-law, format conversion, cutting to `maxBytes`, `cipher`, audio detection) needs the
 * media directory ({@link MediaOptions.directory}).
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
   * ({@link MediaOptions.stopDigit}) on the channel (`PlayDTMF`, `Receive: yes`), once, which ends
   * `RECORD FILE` like a key press. When the recording ended by itself as the digit was on its way,
   * agikit reads the digit away (`WAIT FOR DIGIT`, 100 ms) so that the next command listening for
   * keys does not take it for the caller's (the job then keeps the cause it ended with). Resolves
   * `true` once it has, `false` if not within `timeoutMs` (default 5000). `true` when nothing
   * records. During a `msInitialSilence` wait, the job ends (`ABORTED`, nothing recorded) when the
   * wait does.
   *
   * @throws MediaSetupError when there is no AMI connection: `RECORD FILE` cannot be stopped over AGI
   * @throws AgiHangupError when the call has hung up and nothing records
   * @throws MediaStateError when nothing records and the channel is not answered (as Aculab's seeds say)
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
   * @throws MediaStateError when nothing records and the channel is not answered (as Aculab's seeds say)
   */
  async waitUntilFinished(options: RecordWaitOptions = {}): Promise<RecordCause> {
    const job = await this.jobs.runningOrCheckCall('waitUntilFinished');
    if (!job) return this.cause();
    const timeoutMs = options.timeoutMs === undefined ? 120_000 : options.timeoutMs;
    return (await job.wait(timeoutMs)) ? (job.result ?? RecordCause.NONE) : RecordCause.TIMEOUT;
  }

  private async begin(what: string, file: string, options: RecordOptions): Promise<RecordJob> {
    const spec = planJob(file, options, { mapping: this.mapping, ami: this.options.ami !== undefined, stopDigit: this.stopDigit });
    return this.jobs.begin(what, async () => {
      // Asterisk does not create missing directories for RECORD FILE; agikit does, where it can.
      if (spec.localBase !== undefined) await mkdir(path.dirname(spec.localBase), { recursive: true });
      // The job sends its first command synchronously, so it is queued before start() returns.
      return new RecordJob(this.agi, spec, this.stopDigit, this.options.ami).start();
    });
  }
}
