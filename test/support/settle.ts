/**
 * Awaiting in tests: {@link settle} a promise into a value or an error, and bound every other wait
 * ({@link within}, {@link nextEvent}, {@link until}) so that a broken behaviour fails the test at
 * once with what was expected, instead of hanging until the runner's timeout.
 *
 * Not a test file: it only exports helpers.
 */
import { AssertionError } from 'node:assert';
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** The bound of a wait in a unit test: far above a correct run, far below the runner's timeout. */
export const WAIT_MS = 5000;

/** Settles a promise into its value or its error, for assertions on either. */
export async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await p };
  } catch (error) {
    return { error };
  }
}

/**
 * Resolves with `p`, or rejects with an AssertionError carrying `message` (say what was expected;
 * a function is called at the timeout, to show the state then) if `p` takes longer than `ms`. The
 * result may be awaited later than it is created: a timeout nobody awaits is not an unhandled rejection.
 */
export function within<T>(p: PromiseLike<T>, ms: number, message: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bounded = Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // "(waited N ms)" goes on the first line, before any output the message carries.
        const [first, ...rest] = (typeof message === 'function' ? message() : message).split('\n');
        reject(new AssertionError({ message: [`${first} (waited ${ms} ms)`, ...rest].join('\n') }));
      }, ms);
      // The bound never keeps a test file alive: what is awaited (a socket, a child) does that.
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
  bounded.catch(() => undefined);
  return bounded;
}

/** The first argument of the emitter's next `event`, or an AssertionError with `message` after `ms`. */
export function nextEvent<T = unknown>(emitter: EventEmitter, event: string, message: string, ms = WAIT_MS): Promise<T> {
  let listener: ((value: T) => void) | undefined;
  const next = new Promise<T>((resolve) => {
    listener = resolve;
    emitter.once(event, resolve);
  });
  const bounded = within(next, ms, message);
  bounded.catch(() => listener && emitter.removeListener(event, listener));
  return bounded;
}

/** Polls `condition` every few ms until it holds, or fails with `message` after `ms`. */
export async function until(condition: () => boolean, message: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new AssertionError({ message: `${message} (waited ${ms} ms)` });
    await sleep(5);
  }
}
