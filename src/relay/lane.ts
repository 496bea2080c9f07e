/**
 * The call's foreground lane: AGI runs one command at a time, so everything that drives the call's
 * AGI session (answer, a play, a prompt, a recording...) takes the lane for its whole run, and a
 * second one waits its turn. `{ queue: false }` refuses instead of waiting; `{ preempt: true }`
 * stops the holder first. Background work (AMI, helper channels) never takes it.
 *
 * @module
 */

import { AgiAbortError } from '../errors.js';
import { CallBusyError } from './errors.js';

/** What holds the lane: a name for messages, and how to make it let go early. */
export interface LaneHolder {
  readonly name: string;
  /** Asks the holder to end (e.g. stop a running play). Must not throw. */
  stop(): Promise<unknown>;
}

/** How a method waits for the lane. */
export interface LaneOptions {
  /** `false`: throw {@link CallBusyError} instead of waiting when the lane is held. Default `true`. */
  queue?: boolean;
  /** Stop whatever holds the lane (and everything queued before this) first. Default `false`. */
  preempt?: boolean;
  /** Gives up waiting (rejects with {@link AgiAbortError}) when aborted. */
  signal?: AbortSignal;
}

interface Waiter {
  readonly holder: LaneHolder;
  readonly grant: () => void;
}

/** One call's foreground lane: FIFO, one holder at a time. */
export class Lane {
  private current: LaneHolder | undefined;
  private readonly waiting: Waiter[] = [];
  private idleWaiters: Array<() => void> = [];

  /** What holds the lane now, if anything. */
  get holder(): LaneHolder | undefined {
    return this.current;
  }

  /** `true` while something holds the lane or waits for it. */
  get busy(): boolean {
    return this.current !== undefined || this.waiting.length > 0;
  }

  /** Resolves once nothing holds the lane or waits for it (at once if so now). */
  idle(): Promise<void> {
    if (!this.current && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Waits for the lane (per `options`) and resolves with a release function, which must be called
   * exactly once when the holder is done (later calls do nothing).
   */
  async acquire(holder: LaneHolder, options: LaneOptions = {}): Promise<() => void> {
    const { signal } = options;
    if (signal?.aborted) throw new AgiAbortError(holder.name, signal.reason);
    this.assertAvailable(holder.name, options);
    if (options.preempt) {
      for (const queued of this.waiting) void queued.holder.stop();
      if (this.current) void this.current.stop();
    }
    if (!this.current && this.waiting.length === 0) {
      this.current = holder;
      return this.releaser(holder);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        holder,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index !== -1) this.waiting.splice(index, 1);
        if (!this.current && this.waiting.length === 0) this.wakeIdle();
        reject(new AgiAbortError(holder.name, signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
    return this.releaser(holder);
  }

  /**
   * Takes the lane at once when nothing holds it or waits for it (and `signal` is not aborted):
   * the release function, as {@link acquire} gives; `undefined` otherwise (then {@link acquire}).
   * The common case, without a promise.
   */
  take(holder: LaneHolder, options: LaneOptions = {}): (() => void) | undefined {
    if (this.busy || options.signal?.aborted) return undefined;
    this.current = holder;
    return this.releaser(holder);
  }

  /**
   * Throws {@link CallBusyError} when a method with these options would be refused now (`queue: false`
   * while the lane is held): lets an `*Async` method refuse before it returns its action.
   */
  assertAvailable(method: string, options: Pick<LaneOptions, 'queue' | 'preempt'>): void {
    if (this.current && options.queue === false && !options.preempt) throw new CallBusyError(method, this.current.name);
  }

  /** Runs `work` holding the lane. */
  async run<T>(holder: LaneHolder, options: LaneOptions, work: () => Promise<T>): Promise<T> {
    const release = this.take(holder, options) ?? (await this.acquire(holder, options));
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(holder: LaneHolder): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.current !== holder) return;
      const next = this.waiting.shift();
      this.current = next?.holder;
      if (next) {
        next.grant();
        return;
      }
      this.wakeIdle();
    };
  }

  private wakeIdle(): void {
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of idle) resolve();
  }
}
