/**
 * Errors of the AMI layer ({@link AmiClient}). Like every agikit error they extend
 * {@link AgiError}; all of them extend {@link AmiError}, so `instanceof AmiError` catches the
 * layer as a whole.
 *
 * Whether an action may have run on Asterisk is part of each error, because that decides whether
 * retrying is safe (an `Originate` must not run twice):
 * - never sent: {@link AmiArgumentError}, {@link AmiTimeoutError} with `sent: false`,
 *   {@link AmiClosedError} with `sent: false`;
 * - sent, outcome unknown: {@link AmiConnectionLostError}, {@link AmiTimeoutError} with
 *   `sent: true`, {@link AmiClosedError} with `sent: true`;
 * - refused by Asterisk: {@link AmiActionError}.
 *
 * @module
 */

import { AgiError } from '../errors.js';
import type { AmiMessage } from './message.js';

/** Base class of the AMI layer's errors. */
export class AmiError extends AgiError {
  override name = 'AmiError';
}

/** Asterisk answered an action with `Response: Error`. */
export class AmiActionError extends AmiError {
  override name = 'AmiActionError';
  constructor(
    readonly action: string,
    readonly response: AmiMessage,
  ) {
    super(`AMI ${action} failed: ${response.get('Message') ?? 'no message'}`);
  }
}

/**
 * `true` when `error` is Asterisk refusing an action because its channel does not exist (any more):
 * `Message: No such channel` (Hangup, Redirect, Getvar...).
 */
export function isNoSuchChannel(error: unknown): boolean {
  return error instanceof AmiActionError && /^no such channel/i.test(error.response.get('Message') ?? '');
}

/** Asterisk refused the `Login` (wrong user or secret, or an address the user may not log in from). */
export class AmiLoginError extends AmiActionError {
  override name = 'AmiLoginError';
}

/**
 * No TCP connection or no greeting: refused, unreachable, closed before the greeting, or connecting
 * and logging in took longer than `connectTimeoutMs`.
 */
export class AmiConnectError extends AmiError {
  override name = 'AmiConnectError';
}

/**
 * What Asterisk sent is not AMI the client can take: a line or a message beyond the configured
 * {@link AmiInputLimits}. The client drops the connection (its framing can no longer be trusted)
 * and reconnects.
 */
export class AmiProtocolError extends AmiError {
  override name = 'AmiProtocolError';
  constructor(
    /** Which bound was exceeded. */
    readonly limit: 'line-bytes' | 'message-bytes' | 'message-fields',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The connection ended while the action was on it. The action was sent and may have run (an
 * `Originate` may have placed its call): it is never resent by the client.
 */
export class AmiConnectionLostError extends AmiError {
  override name = 'AmiConnectionLostError';
  constructor(
    readonly action: string,
    /**
     * `true` if Asterisk had already answered (an `Originate` was queued, an event list had
     * started) and only the rest (`OriginateResponse`, the list's end) was lost.
     */
    readonly answered: boolean,
    /** Why the connection ended. */
    override readonly cause: AmiError,
  ) {
    super(`AMI connection lost ${answered ? 'before the end of' : 'before the response to'} ${action}: ${cause.message}`);
  }
}

/**
 * The action's deadline (`timeoutMs`, counted from the call) passed. With `sent: false` the client
 * was disconnected the whole time and never sent it; with `sent: true` it may have run.
 */
export class AmiTimeoutError extends AmiError {
  override name = 'AmiTimeoutError';
  constructor(
    readonly action: string,
    readonly timeoutMs: number,
    readonly sent: boolean,
  ) {
    super(
      sent
        ? `AMI ${action}: no response within ${timeoutMs} ms`
        : `AMI ${action}: not connected within ${timeoutMs} ms, the action was not sent`,
    );
  }
}

/**
 * The client was closed ({@link AmiClient.close}, or it gave up reconnecting) before the action
 * finished. `sent` says whether it had been sent.
 */
export class AmiClosedError extends AmiError {
  override name = 'AmiClosedError';
  constructor(
    readonly action: string,
    readonly sent: boolean,
    /** Why the client closed, when it was not {@link AmiClient.close}. */
    override readonly cause?: AmiError,
  ) {
    super(`AMI client closed${cause ? ` (${cause.message})` : ''}: ${action} ${sent ? 'was cut short' : 'was not sent'}`);
  }
}

/** An action's fields cannot be sent: a line break in a key or value, or a field the client owns. Nothing was sent. */
export class AmiArgumentError extends AmiError {
  override name = 'AmiArgumentError';
}
