/**
 * One AGI command at a time: a FIFO queue with a single task in flight, and the race of a command
 * against its deadline and its `AbortSignal`.
 *
 * A command's `timeoutMs` counts from the moment it is issued, not from the moment it reaches the
 * head of the queue (where `p-queue` would start it): a caller who allows a command two seconds gets
 * an answer within two seconds however busy the call is. A command whose deadline passes, or whose
 * signal aborts, while it is still waiting is dropped without ever being sent. What happens when one
 * gives up after it was sent is the caller's business ({@link raceDeadline}'s `onGiveUp`): for
 * {@link Agi} the session is then out of step and closes.
 *
 * This runs for every command of every call, so the idle case with no deadline and no signal
 * allocates nothing beyond the task's own promise ({@link CommandQueue.claimIfIdle}).
 *
 * @module
 */

import { AgiAbortError, AgiTimeoutError, type AgiError } from '../errors.js';

/** A command's time allowance: its `timeoutMs` and the absolute deadline derived from it. */
export interface Budget {
  readonly timeoutMs: number;
  readonly deadline: number;
}

/**
 * The budget of a command issued now.
 *
 * @param timeoutMs - allowance in ms, or undefined for none
 * @returns the budget, or undefined
 */
export function budgetFrom(timeoutMs: number | undefined): Budget | undefined {
  return timeoutMs === undefined ? undefined : { timeoutMs, deadline: Date.now() + timeoutMs };
}

/**
 * Watches a deadline and a signal for a command: when the deadline passes or the signal aborts
 * (at once if it already has), `giveUp` gets an {@link AgiTimeoutError} or {@link AgiAbortError}.
 * At most once, and never after the returned disarm function has been called.
 *
 * @param what - the command, for the error
 * @param budget - its deadline, if any
 * @param signal - its signal, if any
 * @param giveUp - called with the error when it is time to give up
 * @returns disarm: stop watching
 */
export function armDeadline(
  what: string,
  budget: Budget | undefined,
  signal: AbortSignal | undefined,
  giveUp: (error: AgiError) => void,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const disarm = (): void => {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  const fire = (error: AgiError): void => {
    disarm();
    giveUp(error);
  };
  const onAbort = (): void => fire(new AgiAbortError(what, signal?.reason));
  if (budget !== undefined) {
    timer = setTimeout(() => fire(new AgiTimeoutError(what, budget.timeoutMs)), Math.max(0, budget.deadline - Date.now()));
  }
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return disarm;
}

/**
 * Settles as `work` does, unless the deadline passes or the signal aborts first: then it rejects
 * with {@link AgiTimeoutError} / {@link AgiAbortError} and calls `onGiveUp` with the same error
 * (`work` is left to settle on its own).
 *
 * @param work - the pending result
 * @param what - the command, for the error
 * @param budget - its deadline, if any
 * @param signal - its signal, if any
 * @param onGiveUp - what to do about the abandoned work
 * @returns the race's promise
 */
export function raceDeadline<T>(
  work: Promise<T>,
  what: string,
  budget: Budget | undefined,
  signal: AbortSignal | undefined,
  onGiveUp: (error: AgiError) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const disarm = armDeadline(what, budget, signal, (error) => {
      reject(error);
      onGiveUp(error);
    });
    work.then(
      (value) => {
        disarm();
        resolve(value);
      },
      (error: unknown) => {
        disarm();
        reject(error);
      },
    );
  });
}

/** Runs tasks one at a time, in the order they were queued. */
export class CommandQueue {
  private busy = false;
  /** Tasks waiting their turn (made when the first one has to wait: most sessions never queue). */
  private waiting: Array<() => void> | undefined;

  /** `true` when nothing is in flight or waiting. */
  get idle(): boolean {
    return !this.busy;
  }

  /**
   * The fast path: if nothing is in flight, mark the queue busy and return true; the caller then
   * starts its task and hands its promise to {@link releaseAfter}. No closure, no budget.
   */
  claimIfIdle(): boolean {
    if (this.busy) return false;
    this.busy = true;
    return true;
  }

  /**
   * Frees the queue for the next task once `run` settles, and returns `run`. Registered before the
   * caller's own continuation, so the next command is sent before the caller sees this one's result.
   */
  releaseAfter<T>(run: Promise<T>): Promise<T> {
    run.then(this.release, this.release);
    return run;
  }

  /**
   * Runs `task` when every earlier task has finished. A task whose deadline passes or whose signal
   * aborts while it is still waiting is dropped unstarted, and the promise rejects with
   * {@link AgiTimeoutError} / {@link AgiAbortError}; once started, the task enforces them itself
   * (it is given the budget).
   *
   * @param what - the command, for errors
   * @param budget - its deadline, counted from when it was issued
   * @param signal - its signal
   * @param task - starts the command
   * @returns the task's result
   */
  run<T>(what: string, budget: Budget | undefined, signal: AbortSignal | undefined, task: (budget: Budget | undefined) => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(new AgiAbortError(what, signal.reason));
    // No async wrapper: the queue moves on as soon as the task settles.
    if (this.claimIfIdle()) return this.releaseAfter(task(budget));
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        disarm();
        this.releaseAfter(task(budget)).then(resolve, reject);
      };
      (this.waiting ??= []).push(start);
      const disarm = armDeadline(what, budget, signal, (error) => {
        const index = this.waiting?.indexOf(start) ?? -1;
        if (index !== -1) this.waiting?.splice(index, 1);
        reject(error);
      });
    });
  }

  /**
   * Frees the queue now, for a task started after {@link claimIfIdle} whose end the caller sees
   * first-hand (the {@link Agi} releases as the reply is read, before anyone sees the result).
   */
  releaseNow(): void {
    this.release();
  }

  /** Starts the next waiting task, or marks the queue idle. */
  private readonly release = (): void => {
    const next = this.waiting?.shift();
    if (next) next();
    else this.busy = false;
  };
}
