/**
 * What Relay methods resolve with, with the seed's field names, and the pure mappings from what
 * Asterisk reports (hangup causes, ...) to the seed's values.
 *
 * @module
 */

/**
 * The last event that completed an operation (the seed's `Relay.Event`): on Asterisk, the AGI reply
 * or AMI event that settled it, e.g. `{ name: 'agi.reply', payload: { command: 'STREAM FILE', code: 200, result: '0' } }`.
 */
export interface RelayEvent {
  readonly name: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Fields every Relay result has. */
export interface RelayResult {
  /** Whether the operation did what was asked. */
  readonly successful: boolean;
  /** The event that completed it, or `null` when none did (e.g. it was refused up front). */
  readonly event: RelayEvent | null;
}

/** Result of `answer()`. */
export type AnswerResult = RelayResult;

/** Why a call ended, with the seed's names. */
export type HangupReason = 'hangup' | 'cancel' | 'busy' | 'noAnswer' | 'decline' | 'error';

/** Result of `hangup()`. */
export interface HangupResult extends RelayResult {
  readonly reason: HangupReason;
}

/** Result of `stop()` on an action. */
export interface StopResult {
  readonly successful: boolean;
}

/** Result of `pause()`, `resume()` and `volume()` on a play or prompt action. */
export interface ControlResult {
  readonly successful: boolean;
}

/** Result of `record()`, and of the action `recordAsync()` returns. */
export interface RecordResult extends RelayResult {
  /**
   * `file://` URL of the recording, on agikit's side of the media directory (the seed's HTTPS URL:
   * agikit serves no files); `''` when nothing was recorded.
   */
  readonly url: string;
  /** Length of the recording in seconds (`0` when there is none). */
  readonly duration: number;
  /** Size of the recording file in bytes (`0` when there is none). */
  readonly size: number;
}

/** Result of `sendDigits()`, and of the action `sendDigitsAsync()` returns. */
export type SendDigitsResult = RelayResult;

/**
 * The seed's hangup reason for a Q.850 cause (Asterisk's `HANGUPCAUSE`, or the AMI `Hangup` event's
 * `Cause`): 17 is `busy`, 18 and 19 `noAnswer`, 21 `decline`; a normal clearing (16, or 0/unset as
 * Local channels report it) is `hangup` once the call was answered and `cancel` before; anything
 * else is `error`.
 */
export function hangupReasonFromCause(cause: number | null | undefined, answered: boolean): HangupReason {
  switch (cause ?? 0) {
    case 17:
      return 'busy';
    case 18:
    case 19:
      return 'noAnswer';
    case 21:
      return 'decline';
    case 0:
    case 16:
      return answered ? 'hangup' : 'cancel';
    default:
      return 'error';
  }
}

/** A result that was refused or cut short before any event completed it. */
export function unsuccessful<T extends object>(extra: T): T & RelayResult {
  return { successful: false, event: null, ...extra };
}
