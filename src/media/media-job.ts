/**
 * What `FilePlayer` and `FileRecorder` share on top of {@link CallJob}: a job with Aculab's causes
 * ({@link MediaJob}), and the facade's "one job at a time" bookkeeping with Aculab's call-state rules
 * ({@link JobSlot}).
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import { AgiHangupError } from '../errors.js';
import { assertAnswered } from './call.js';
import { MediaStateError } from './errors.js';
import { CallJob } from './job.js';

/** The words a facade uses for its jobs: its name, and the states and causes the shared code sets. */
export interface JobVocabulary<C extends string, S extends string> {
  /** `FilePlayer`, in error messages. */
  readonly owner: string;
  /** `play`, in error messages. */
  readonly noun: string;
  /** State while a job runs (`PLAYING`). */
  readonly running: S;
  /** State after a job that did not fail, and before the first (`IDLE`). */
  readonly idle: S;
  /** State after a failed job (`ERROR`). */
  readonly failed: S;
  /** Cause while a job runs, or before the first (`NONE`). */
  readonly none: C;
  /** Cause of a job the hangup ended (`HANGUP`). */
  readonly hangup: C;
  /** Cause of a failed job (`ERROR`). */
  readonly error: C;
}

/**
 * A job of an Aculab facade: it ends with a cause, may carry the DTMF key that ended it, and keeps
 * the error that made it fail. A hangup ends it with the `HANGUP` cause; any other throw with
 * `ERROR` (and {@link MediaJob.error}).
 */
export abstract class MediaJob<C extends string, S extends string> extends CallJob<C, S> {
  /** The DTMF key that ended the job, or `null`. */
  digit: string | null = null;
  /** What made the job end with `ERROR`, or `null`. */
  error: Error | null = null;

  protected constructor(protected readonly words: JobVocabulary<C, S>) {
    super(words.running);
  }

  /** Ends the job with `ERROR` before it could start (its file could not be read, say). */
  failBeforeStart(error: unknown): this {
    this.error = asError(error);
    this.endWith(this.words.error);
    return this;
  }

  protected failed(error: unknown): C {
    if (error instanceof AgiHangupError) return this.words.hangup;
    this.error = asError(error);
    return this.words.error;
  }

  protected endState(cause: C): S {
    return cause === this.words.error ? this.words.failed : this.words.idle;
  }
}

/**
 * One job at a time on one call, with Aculab's rules: starting a job while one runs, or on a channel
 * that is not answered, throws {@link MediaStateError}; on a hung-up call, {@link AgiHangupError}.
 * Keeps the running job, then the last one for its cause, digit and error.
 */
export class JobSlot<C extends string, S extends string, J extends MediaJob<C, S>> {
  private job: J | undefined;
  private starting = false;

  constructor(
    private readonly agi: Agi,
    private readonly words: JobVocabulary<C, S>,
  ) {}

  /** The running job, if any. */
  get running(): J | undefined {
    return this.job && !this.job.completed ? this.job : undefined;
  }

  /** The last job once it has ended; `undefined` while one runs or starts, and before the first. */
  get ended(): J | undefined {
    return this.starting || !this.job?.completed ? undefined : this.job;
  }

  /** `running` while a job runs or starts; otherwise the last job's end state, or `idle`. */
  state(): S {
    if (this.starting) return this.words.running;
    return this.job?.state ?? this.words.idle;
  }

  /** The last job's cause; `none` while a job runs or before the first. */
  cause(): C {
    return this.ended?.result ?? this.words.none;
  }

  /**
   * Checks that no job runs and the call is answered, then makes the job with `create` (which
   * starts it, or ends it at once when it cannot) and keeps it. While this runs the state is
   * `running`, so a second begin() throws.
   *
   * @throws MediaStateError, AgiHangupError as the class says; and whatever `create` throws
   */
  async begin(what: string, create: () => J | Promise<J>): Promise<J> {
    if (this.running || this.starting) throw new MediaStateError(`${this.words.owner}.${what}: a ${this.words.noun} job is already running`);
    this.starting = true;
    try {
      await assertAnswered(this.agi, `${this.words.owner}.${what}`);
      const job = await create();
      this.job = job;
      return job;
    } finally {
      this.starting = false;
    }
  }

  /**
   * The running job for `stop()` and `waitUntilFinished()`. With none running, these check the call
   * as the Aculab seeds say (hung up: {@link AgiHangupError}; not answered: {@link MediaStateError},
   * asking Asterisk with `CHANNEL STATUS`) and resolve `undefined`. A running job needs no check: it
   * was started on an answered call, and a hangup ends it with `HANGUP`.
   */
  async runningOrCheckCall(what: string): Promise<J | undefined> {
    const job = this.running;
    if (job) return job;
    await assertAnswered(this.agi, `${this.words.owner}.${what}`);
    return this.running;
  }
}

/** `error` as an Error (a thrown non-Error is wrapped). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
