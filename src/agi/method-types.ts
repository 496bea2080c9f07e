import type { CommandSpec } from './commands.js';

/** Per-call options every command method accepts as its last argument. */
export interface CommandOptions {
  /**
   * Longest time to wait for the final reply, in ms, counted from the call (time queued behind earlier
   * commands included). On expiry the call rejects with `AgiTimeoutError`; if the command was already
   * sent, the session is closed, because a late reply would put it out of step.
   */
  timeoutMs?: number;
  /** Cancels the call: rejects with `AgiAbortError`; if the command was already sent, the session is closed. */
  signal?: AbortSignal;
}

/** A command method's parameters: the table entry's arguments, then an optional {@link CommandOptions}. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CommandArgs<S> = S extends CommandSpec<infer A, any>
  ? number extends A['length']
    ? A | [...A, CommandOptions]
    : [...A, options?: CommandOptions]
  : never;

/** A command method's resolved value, as its table entry decodes it. */
export type CommandResult<S> = S extends CommandSpec<infer _A, infer R> ? R : never;
