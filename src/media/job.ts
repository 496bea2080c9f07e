/**
 * {@link CallJob}: the one abstraction for a thing that runs on a call and can be awaited or
 * controlled. `FilePlayer`'s play job and `FileRecorder`'s record job are built on it, and so are the
 * Relay actions of the layer above (play, prompt, record, detect...).
 *
 * A job has a {@link CallJob.state} (its own vocabulary), and once it has ended, `completed` and a
 * {@link CallJob.result}; {@link CallJob.done} resolves with that result and never rejects. A
 * blocking method awaits `done`; an `*Async`/`start` method returns the job (or what it says about
 * it). {@link CallJob.stop} asks it to end and waits until it has.
 *
 * A subclass says what the work is ({@link CallJob.execute}), what a failure means
 * ({@link CallJob.failed}), the state it ends in ({@link CallJob.endState}) and how to make running
 * work end ({@link CallJob.halt}). It adds its own controls the same way: pause, resume or volume
 * are methods of the subclass that act on the running work and move {@link CallJob.setState}.
 *
 * @module
 */

/** How long {@link CallJob.stop} waits for the job to end by default (ms). */
export const DEFAULT_STOP_TIMEOUT_MS = 5000;

/** A thing running on a call: started once, ended once, with a state and then a result. */
export abstract class CallJob<R, S extends string = string> {
  /** Resolves with the result once the job has ended (whatever ended it). Never rejects. */
  readonly done: Promise<R>;
  private stateValue: S;
  private resultValue: R | undefined;
  private completedValue = false;
  private stopRequestedValue = false;
  private started = false;
  private resolveDone!: (result: R) => void;

  protected constructor(initialState: S) {
    this.stateValue = initialState;
    this.done = new Promise<R>((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** The job's state, in the subclass's vocabulary. */
  get state(): S {
    return this.stateValue;
  }

  /** `true` once the job has ended. */
  get completed(): boolean {
    return this.completedValue;
  }

  /** The result once the job has ended, `undefined` until then. */
  get result(): R | undefined {
    return this.resultValue;
  }

  /** `true` once {@link stop} has been called: the work reads it to tell a stop from other ends. */
  get stopRequested(): boolean {
    return this.stopRequestedValue;
  }

  /**
   * Starts the work and returns the job. The work runs synchronously up to its first `await`, so
   * whatever command it sends first is queued on the call before `start()` returns.
   */
  start(): this {
    if (this.started) throw new Error('a CallJob is started once');
    this.started = true;
    void this.run();
    return this;
  }

  /**
   * Asks the job to end ({@link halt}, repeated until it has) and resolves `true` once it has ended,
   * or `false` if it has not within `timeoutMs` (default 5000). `true` at once when it already has.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<boolean> {
    if (this.completedValue) return true;
    this.stopRequestedValue = true;
    return this.haltWithin(options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
  }

  /** Resolves `true` once the job has ended, or `false` when `timeoutMs` passes first (`null`: no limit). */
  async wait(timeoutMs: number | null): Promise<boolean> {
    if (this.completedValue) return true;
    if (timeoutMs === null) {
      await this.done;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([this.done.then(() => true as const), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The work. Its value is the result; a throw becomes the result {@link failed} gives. */
  protected abstract execute(): Promise<R>;

  /** The result of work that threw `error`. */
  protected abstract failed(error: unknown): R;

  /** The state the job is in once it has ended with `result`. */
  protected abstract endState(result: R): S;

  /**
   * One attempt at making the running work end (interrupt a command, ask Asterisk over AMI...).
   * Repeated every {@link haltRetryMs} until the job has ended; `deadline` (epoch ms) is when the
   * caller gives up. It must not throw.
   */
  protected abstract halt(deadline: number): void | Promise<void>;

  /** How often {@link halt} is repeated while the job has not ended (ms). */
  protected abstract readonly haltRetryMs: number;

  /** Moves the job to another state while it runs (e.g. a pause). */
  protected setState(state: S): void {
    const previous = this.stateValue;
    this.stateValue = state;
    if (state !== previous) this.stateChanged(state, previous);
  }

  /**
   * Called after every change of {@link state}, including the one to the end state (after
   * `completed` and `result` are set): where a subclass emits its events. Must not throw.
   */
  protected stateChanged(_state: S, _previous: S): void {}

  /** Ends the job with `result`, the work not having run (it failed before it could start). */
  protected endWith(result: R): void {
    this.started = true;
    this.finish(result);
  }

  /** Halts the job until it has ended; resolves `false` if it has not within `timeoutMs`. */
  protected async haltWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.completedValue) {
      await this.halt(deadline);
      const left = deadline - Date.now();
      if (left <= 0) return this.completedValue;
      await this.wait(Math.min(this.haltRetryMs, left));
    }
    return true;
  }

  private async run(): Promise<void> {
    let result: R;
    try {
      result = await this.execute();
    } catch (error) {
      result = this.failed(error);
    }
    this.finish(result);
  }

  private finish(result: R): void {
    if (this.completedValue) return;
    this.resultValue = result;
    const previous = this.stateValue;
    this.stateValue = this.endState(result);
    this.completedValue = true;
    this.resolveDone(result);
    this.stateChanged(this.stateValue, previous);
  }
}
