/**
 * {@link FilePlayer}: Aculab Cloud's `channel.FilePlayer` on Asterisk, built on the typed AGI
 * commands.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import { AgiHangupError, AgiInterruptedError } from '../errors.js';
import { ANY_DIGIT } from '../protocol/encode.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from './call.js';
import { MediaSetupError } from './errors.js';
import { DEFAULT_STOP_TIMEOUT_MS } from './job.js';
import { JobSlot, MediaJob, type JobVocabulary } from './media-job.js';
import type { MediaOptions } from './options.js';
import { PathMapping } from './paths.js';
import { preparePlayable, type Playable } from './playable.js';
import type { TtsOptions } from './tts.js';

/** States of a {@link FilePlayer}. */
export const PlayState = {
  /** No play job is running. */
  IDLE: 'IDLE',
  /** A play job is running. */
  PLAYING: 'PLAYING',
  /** The last play job failed (its cause is `ERROR`). */
  ERROR: 'ERROR',
} as const;
/** One of {@link PlayState}'s values. */
export type PlayState = (typeof PlayState)[keyof typeof PlayState];

/** Why a play job ended ({@link FilePlayer.cause}). */
export const PlayCause = {
  /** A job is running, or none has run. */
  NONE: 'NONE',
  /** The file played to its end. */
  END: 'END',
  /** A DTMF key stopped it (`bargeIn`); the key is {@link FilePlayer.digit}. */
  BARGEIN: 'BARGEIN',
  /** {@link FilePlayer.stop} stopped it. */
  ABORTED: 'ABORTED',
  /** The call hung up. */
  HANGUP: 'HANGUP',
  /** `play()`'s time allowance ran out, or a `waitUntilFinished()` timed out. */
  TIMEOUT: 'TIMEOUT',
  /** The file is missing or unplayable, or the command failed; see {@link FilePlayer.error}. */
  ERROR: 'ERROR',
} as const;
/** One of {@link PlayCause}'s values. */
export type PlayCause = (typeof PlayCause)[keyof typeof PlayCause];

/** Options of {@link FilePlayer.play} and {@link FilePlayer.start}. */
export interface PlayOptions {
  /** Any DTMF key stops playback (cause `BARGEIN`, the key in {@link FilePlayer.digit}). Default `false`. */
  bargeIn?: boolean;
}

/** Options of {@link FilePlayer.start}. */
export interface StartPlayOptions extends PlayOptions {
  /** Play the file again and again until stopped, barged into or hung up. Default `false`. */
  loop?: boolean;
}

/** Options of {@link FilePlayer.say} and {@link FilePlayer.sayStart}. */
export interface SayOptions extends PlayOptions, TtsOptions {}

/** Options of {@link FilePlayer.waitUntilFinished}. */
export interface WaitOptions {
  /**
   * How long to wait in ms; `null` waits as long as it takes. Default: the estimated remaining play
   * time (the file's duration, less what has played, plus 10 % and 1 s of slack), or as long as it
   * takes when the duration is unknown (an Asterisk sound name agikit cannot read) or the job loops.
   */
  timeoutMs?: number | null;
}

/** How much longer than a file's duration playing it may take before it counts as late. */
function allowanceMs(durationMs: number): number {
  return durationMs * 1.1 + 1000;
}

/** How often a stop interrupts `STREAM FILE` again while the job has not ended (ms). */
const INTERRUPT_RETRY_MS = 50;

const PLAY_WORDS: JobVocabulary<PlayCause, PlayState> = {
  owner: 'FilePlayer',
  noun: 'play',
  running: PlayState.PLAYING,
  idle: PlayState.IDLE,
  failed: PlayState.ERROR,
  none: PlayCause.NONE,
  hangup: PlayCause.HANGUP,
  error: PlayCause.ERROR,
};

/**
 * One play job: `STREAM FILE` of a prepared file (again and again when looping), stopped through
 * {@link Agi.interrupt}.
 */
class PlayJob extends MediaJob<PlayCause, PlayState> {
  protected readonly haltRetryMs = INTERRUPT_RETRY_MS;
  /** The time allowance of a blocking play ran out; the job is being stopped with `TIMEOUT`. */
  private timedOut = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly agi: Agi,
    private readonly playable: Playable,
    private readonly bargeIn: boolean,
    private readonly loop: boolean,
  ) {
    super(PLAY_WORDS);
  }

  /** Estimated ms until the job ends by itself; `null` when unknown or never (looping). */
  remainingMs(): number | null {
    if (this.loop || this.playable.durationMs === undefined) return null;
    return Math.max(0, allowanceMs(this.playable.durationMs) - (Date.now() - this.startedAt));
  }

  /** Waits out a blocking job within its allowance; past it, stops the job (cause `TIMEOUT`). */
  async finishWithinAllowance(): Promise<PlayCause> {
    if (!(await this.wait(this.remainingMs()))) {
      this.timedOut = true;
      await this.haltWithin(DEFAULT_STOP_TIMEOUT_MS);
    }
    return this.result ?? PlayCause.NONE;
  }

  /** Runs `STREAM FILE` (repeatedly when looping) and reads how it ended. */
  protected async execute(): Promise<PlayCause> {
    const escape = this.bargeIn ? ANY_DIGIT : '';
    try {
      for (;;) {
        const result = await this.agi.streamFile(this.playable.file, escape, undefined, { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS });
        if (result.digit !== null) {
          this.digit = result.digit;
          return PlayCause.BARGEIN;
        }
        // It played to the end. A looping job goes round again unless it was told to stop.
        if (!this.loop) return PlayCause.END;
        if (this.stopRequested) return PlayCause.ABORTED;
        if (this.timedOut) return PlayCause.TIMEOUT;
      }
    } catch (error) {
      if (error instanceof AgiInterruptedError) return this.stopRequested ? PlayCause.ABORTED : PlayCause.TIMEOUT;
      throw error;
    }
  }

  /**
   * {@link Agi.interrupt} does nothing while the command is still queued (or between loop
   * iterations), hence the retries.
   */
  protected halt(): void {
    this.agi.interrupt();
  }
}

/**
 * Plays files and synthesized speech to the caller, the way Aculab Cloud's `channel.FilePlayer` does:
 * one job at a time, with a {@link PlayState}, and a {@link PlayCause} once the job ends. Make one per
 * call with the shared {@link MediaOptions}.
 *
 * ```ts
 * const player = new FilePlayer(agi, media);
 * const cause = await player.play('welcome.wav', { bargeIn: true });
 * if (cause === PlayCause.BARGEIN) console.log('pressed', player.digit());
 * ```
 *
 * How it maps onto AGI:
 * - Playing is `STREAM FILE` (escape digits `0-9*#` with `bargeIn`). Files Asterisk cannot play as
 *   they are (A-law, µ-law, IMA/OKI ADPCM, 8-bit or float WAV, 6/11/11.025/16/22.05 kHz...) are converted
 *   by agikit to 8 kHz 16-bit WAV in the media directory first, which needs
 *   {@link MediaOptions.directory}; see {@link preparePlayable} for the exact rules.
 * - `stop()` uses {@link Agi.interrupt}: agikit sends a second command while `STREAM FILE` runs,
 *   which Asterisk answers by stopping playback. No AMI is needed.
 * - `loop` issues `STREAM FILE` again each time the file ends.
 * - AGI runs one command at a time: while a started job plays, the call's other commands wait
 *   behind it (they run between loop iterations), and a job started while another command runs
 *   begins after it.
 * - AGI acknowledges a command only when it ends, so `start()` resolves once the command has been
 *   handed to the call's command queue (sent at once when the call is idle), not on a
 *   "playback has begun" event.
 */
export class FilePlayer {
  /** The states, as `FilePlayer.State.PLAYING` (Aculab's spelling). */
  static readonly State = PlayState;
  /** The causes, as `FilePlayer.Cause.BARGEIN`. */
  static readonly Cause = PlayCause;

  private readonly mapping: PathMapping | undefined;
  private readonly jobs: JobSlot<PlayCause, PlayState, PlayJob>;

  constructor(
    private readonly agi: Agi,
    private readonly options: MediaOptions = {},
  ) {
    this.mapping = options.directory ? new PathMapping(options.directory) : undefined;
    this.jobs = new JobSlot(agi, PLAY_WORDS);
  }

  /** `PLAYING` while a job runs; otherwise `IDLE`, or `ERROR` when the last job failed. */
  state(): PlayState {
    return this.jobs.state();
  }

  /** Why the last job ended; `NONE` while a job runs or before the first. */
  cause(): PlayCause {
    return this.jobs.cause();
  }

  /** The DTMF key that barged into the last job, or `null`. */
  digit(): string | null {
    return this.jobs.ended?.digit ?? null;
  }

  /** What made the last job end with `ERROR` (e.g. the `AgiCommandError` of a missing file), or `null`. */
  error(): Error | null {
    return this.jobs.ended?.error ?? null;
  }

  /**
   * Plays a file and resolves with the cause once it has ended. The time allowed is the file's
   * duration plus 10 % and 1 s (when agikit can read the file; otherwise no limit); past that,
   * playback is stopped and the cause is `TIMEOUT`.
   *
   * @param file - an Asterisk sound name (`hello-world`), or a file with extension, absolute or
   *   relative to the media directory (`prompts/welcome.wav`)
   * @throws AgiHangupError when the call has hung up
   * @throws MediaStateError when the channel is not answered or a job is already running
   * @throws MediaSetupError when the file needs converting and agikit cannot reach it
   */
  async play(file: string, options: PlayOptions = {}): Promise<PlayCause> {
    const job = await this.begin('play', () => this.prepare(file), options.bargeIn ?? false, false);
    return job.finishWithinAllowance();
  }

  /**
   * Starts playing a file and resolves `true` once `STREAM FILE` has been handed to the call (AGI
   * sends no "playback has begun" acknowledgement), or `false` when the job ended at once (cause
   * `ERROR`: the file could not be prepared). Follow with {@link waitUntilFinished} or {@link stop}.
   *
   * @throws AgiHangupError, MediaStateError, MediaSetupError as {@link play}
   */
  async start(file: string, options: StartPlayOptions = {}): Promise<boolean> {
    const job = await this.begin('start', () => this.prepare(file), options.bargeIn ?? false, options.loop ?? false);
    return job.result !== PlayCause.ERROR;
  }

  /**
   * Says `text` with the text to speech provider ({@link MediaOptions.tts}) and resolves with the cause
   * once it has been said. Language defaults to the channel's (`agi_language`).
   *
   * @throws MediaSetupError when no text to speech provider is configured
   * @throws AgiHangupError, MediaStateError as {@link play}
   */
  async say(text: string, options: SayOptions = {}): Promise<PlayCause> {
    const job = await this.begin('say', () => this.synthesize(text, options), options.bargeIn ?? false, false);
    return job.finishWithinAllowance();
  }

  /** Starts saying `text` (see {@link say} and {@link start}). */
  async sayStart(text: string, options: SayOptions = {}): Promise<boolean> {
    const job = await this.begin('sayStart', () => this.synthesize(text, options), options.bargeIn ?? false, false);
    return job.result !== PlayCause.ERROR;
  }

  /**
   * Stops the running job (cause `ABORTED`) and resolves `true` once it has stopped, or `false` if it
   * has not within `timeoutMs` (default 5000). `true` when nothing plays (once the call is checked,
   * see below). A job whose `STREAM FILE` is still queued behind another command stops as soon as it
   * is sent. It works through {@link Agi.interrupt}, which stops whichever interruptible command the
   * call is running: do not run your own `getData`/`waitForDigit` concurrently with a playing job.
   *
   * @throws AgiHangupError when the call has hung up and nothing plays
   * @throws MediaStateError when nothing plays and the channel is not answered (as Aculab's seeds say)
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<boolean> {
    const job = await this.jobs.runningOrCheckCall('stop');
    return job ? job.stop(options) : true;
  }

  /**
   * Waits until the running job ends and resolves with its cause, or with `TIMEOUT` when
   * `timeoutMs` passes first (the job then keeps playing: stop it, or wait again). With no job
   * running, resolves with the last job's cause (`NONE` if there was none).
   *
   * @throws AgiHangupError when the call has hung up and nothing plays
   * @throws MediaStateError when nothing plays and the channel is not answered (as Aculab's seeds say)
   */
  async waitUntilFinished(options: WaitOptions = {}): Promise<PlayCause> {
    const job = await this.jobs.runningOrCheckCall('waitUntilFinished');
    if (!job) return this.cause();
    const timeoutMs = options.timeoutMs === undefined ? job.remainingMs() : options.timeoutMs;
    return (await job.wait(timeoutMs)) ? (job.result ?? PlayCause.NONE) : PlayCause.TIMEOUT;
  }

  /** Checks the call, prepares the file, and starts the job; resolves once its command is queued. */
  private async begin(what: string, prepare: () => Promise<Playable>, bargeIn: boolean, loop: boolean): Promise<PlayJob> {
    return this.jobs.begin(what, async () => {
      let playable: Playable;
      try {
        playable = await prepare();
      } catch (error) {
        if (error instanceof MediaSetupError || error instanceof AgiHangupError) throw error;
        // The file exists but cannot be read as audio: the job fails like a missing file.
        return new PlayJob(this.agi, { file: '', converted: false }, bargeIn, loop).failBeforeStart(error);
      }
      return new PlayJob(this.agi, playable, bargeIn, loop).start();
    });
  }

  private async prepare(file: string): Promise<Playable> {
    return preparePlayable(file, this.mapping);
  }

  private async synthesize(text: string, options: SayOptions): Promise<Playable> {
    const tts = this.options.tts;
    if (!tts) throw new MediaSetupError('FilePlayer.say: no text to speech provider (MediaOptions.tts)');
    const speech = await tts.synthesize(text, { language: options.language ?? this.agi.env.language, ...(options.voice ? { voice: options.voice } : {}) });
    return { file: speech.file, converted: false, ...(speech.durationMs === undefined ? {} : { durationMs: speech.durationMs }) };
  }
}
