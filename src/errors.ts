/**
 * The errors of agikit's protocol and AGI layers, in one place. Every failure of a command, the
 * call or the wire is an {@link AgiError}; each failure mode has its own subclass so applications
 * can branch with `instanceof` instead of reading wire codes. Misuse of an API (a malformed
 * transcript, a bad server option) throws a `TypeError`, as Node's own APIs do. The media and AMI
 * layers keep theirs in `src/media/errors.ts` and `src/ami`, the testing kit in
 * `src/testing/errors.ts`.
 *
 * @module
 */

import type { AgiReply } from './protocol/reply.js';

/** Base class of every error agikit throws. */
export class AgiError extends Error {
  override name = 'AgiError';
}

/**
 * Why agikit considers the channel gone:
 * - `hangup-line`: Asterisk sent the out-of-band `HANGUP` line (FastAGI), or the stdio script got SIGHUP;
 * - `dead-channel`: Asterisk answered `511 Command Not Permitted on a dead channel or intercept routine`;
 * - `socket-closed`: the connection ended (EOF, reset, write error) before the command was answered.
 */
export type HangupReason = 'hangup-line' | 'dead-channel' | 'socket-closed';

/** The caller hung up, or the connection to Asterisk is gone. Never a silent `-1`. */
export class AgiHangupError extends AgiError {
  override name = 'AgiHangupError';
  constructor(
    readonly reason: HangupReason,
    /** The command that was refused or cut short, when there was one. */
    readonly command?: string,
  ) {
    super(command ? `channel hung up (${reason}) during: ${command}` : `channel hung up (${reason})`);
  }
}

/** Asterisk answered `510 Invalid or unknown command` (unknown command, or its module is not loaded). */
export class AgiInvalidCommandError extends AgiError {
  override name = 'AgiInvalidCommandError';
  constructor(
    readonly command: string,
    readonly reply: AgiReply,
  ) {
    super(`510 invalid or unknown command: ${command}`);
  }
}

/** Asterisk answered `520`: wrong number of arguments or an argument it could not parse. */
export class AgiUsageError extends AgiError {
  override name = 'AgiUsageError';
  constructor(
    readonly command: string,
    /** The usage text Asterisk sent between `520-` and `520 End of proper usage.`, or `''`. */
    readonly usage: string,
    readonly reply: AgiReply,
  ) {
    super(`520 invalid command syntax: ${command}${usage ? `\n${usage}` : ''}`);
  }
}

/** A command got no final reply within its `timeoutMs`; the session is closed because it is out of step. */
export class AgiTimeoutError extends AgiError {
  override name = 'AgiTimeoutError';
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to "${command}" within ${timeoutMs} ms`);
  }
}

/** A command was cancelled through its `signal`; the session is closed because it is out of step. */
export class AgiAbortError extends AgiError {
  override name = 'AgiAbortError';
  constructor(
    readonly command: string,
    override readonly cause?: unknown,
  ) {
    super(`command aborted: ${command}`);
  }
}

/**
 * A command ran and reported failure while the channel is still up (for example `STREAM FILE` of a
 * missing file gives `200 result=-1`). agikit checks that the channel is alive before throwing this,
 * so a failure caused by a hangup is always an {@link AgiHangupError} instead.
 */
export class AgiCommandError extends AgiError {
  override name = 'AgiCommandError';
  constructor(
    readonly command: string,
    readonly reply: AgiReply,
    detail?: string,
  ) {
    super(`command failed: ${command} -> ${reply.lines.join(' | ')}${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * An argument cannot be sent safely: it contains LF, CR or NUL (which would inject a second command),
 * the line would exceed what Asterisk reads in one go, or a value is out of range. Nothing was sent.
 */
export class AgiArgumentError extends AgiError {
  override name = 'AgiArgumentError';
}

/** Asterisk (or whatever is on the other end) sent something that is not AGI. */
export class AgiProtocolError extends AgiError {
  override name = 'AgiProtocolError';
}

/**
 * The command was stopped by {@link Agi.interrupt} before it produced a result (Asterisk stops
 * playback when new input arrives and then prints no reply for it).
 */
export class AgiInterruptedError extends AgiError {
  override name = 'AgiInterruptedError';
  constructor(readonly command: string) {
    super(`command interrupted: ${command}`);
  }
}

/** The session was ended by the application ({@link Agi.exit}) or by server shutdown; no more commands. */
export class AgiSessionClosedError extends AgiError {
  override name = 'AgiSessionClosedError';
  constructor(readonly command?: string) {
    super(command ? `AGI session already closed: ${command}` : 'AGI session already closed');
  }
}

/**
 * Raised by a command table decoder when Asterisk reports failure; never reaches the application.
 * `hangupPossible` failures (`result=-1` of a channel operation) make {@link Agi} check whether the
 * channel is still up: if not, the caller gets an {@link AgiHangupError}; if it is, `ifAlive` (when
 * given) is the result, else an {@link AgiCommandError}.
 *
 * @internal
 */
export class CommandFailure extends Error {
  constructor(
    readonly detail: string,
    readonly hangupPossible: boolean,
    readonly ifAlive?: { value: unknown },
  ) {
    super(detail);
  }
}
