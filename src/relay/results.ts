/**
 * What Relay methods resolve with, with the seed's field names, and the pure mappings from what
 * Asterisk reports (hangup causes, ...) to the seed's values.
 *
 * @module
 */

import type { Call } from './call.js';
import type { PhoneDevice } from './devices.js';
import type { Message } from './message.js';
import type { TapDescription, TapDevice } from './tap-params.js';

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

/**
 * Result of `play()` and its helpers (the seed's `PlayResult`): `successful` when every item played to
 * its end; `false` when the play was stopped, the call hung up, or an item could not be played (the
 * action's `state` is then `error`).
 */
export type PlayResult = RelayResult;

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
 * Result of `messaging.send()` (the seed's `Relay.Messaging.SendResult`): `successful` when Asterisk
 * took the message and handed it to PJSIP (state `sent`); not a delivery report.
 */
export interface SendResult {
  readonly successful: boolean;
  /** The message's id, also sent as the SIP header `X-Agikit-Message-Id`. */
  readonly messageId: string;
  /** The message in its last state: `sent`, or `failed` with its `reason`. */
  readonly message: Message;
}

/**
 * How a prompt ended (`PromptResult.type`). On success the kind of input, as the seed has it:
 * `digit` or `speech`. Otherwise why there is none, with Relay's names: `no_input` (nothing was
 * pressed or said before `initialTimeout`), `no_match` (speech was heard but the recognizer made
 * nothing of it), `error` (the prompt could not run: e.g. a media file Asterisk cannot play); and
 * agikit's two more: `stopped` (`stop()` or the method's `signal`) and `hangup` (the call ended).
 */
export type PromptResultType = 'digit' | 'speech' | 'no_input' | 'no_match' | 'error' | 'stopped' | 'hangup';

/** Result of `prompt()` and its helpers (the seed's `PromptResult`). */
export interface PromptResult extends RelayResult {
  /** `digit` or `speech` when input was collected (`successful`), otherwise why not (see {@link PromptResultType}). */
  readonly type: PromptResultType;
  /**
   * The digits collected (the terminator not included; `''` when a terminator was pressed first),
   * or the recognised text. Also set on a stopped prompt for the digits collected until then.
   * `null` when there is none.
   */
  readonly result: string | null;
  /** The key in `digitsTerminators` that ended the collection, else `null`. */
  readonly terminator: string | null;
  /** The recognizer's confidence (0..1) for a speech result, else `null`. */
  readonly confidence: number | null;
}

/** What a detector looks for (the seed's `detect_type`): an answering machine, digits, or a fax tone. */
export type DetectType = 'machine' | 'digit' | 'fax';

/**
 * Result of `detect()` and its helpers, and of the action `detectAsync()` and friends return (the
 * seed's `DetectResult`). `result` is `MACHINE`, `HUMAN` or `UNKNOWN` (a machine detector, also once
 * `waitForBeep` got `READY`), the digits detected in order, or `CED` / `CNG`; `null` when nothing was.
 * `successful` is `true` when the detector detected what was asked: a verdict (with `waitForBeep`
 * and a `MACHINE`, only once `READY` came; for `detectHuman` / `detectMachine`, only that verdict),
 * at least one digit, the fax tone. It is `false` at a timeout with nothing, when stopped before
 * anything, when the call hung up, or when the detector could not run (the action's state is then
 * `error`).
 */
export interface DetectResult extends RelayResult {
  /** The detector's type. */
  readonly type: DetectType;
  /** What it detected (see above), or `null`. */
  readonly result: string | null;
}

/**
 * Result of `tap()`, and of the action `tapAsync()` returns (the seed's `TapResult`). `successful`
 * when audio was tapped and the tap ended by `stop()`, the call's end or Asterisk's; `false` when it
 * could not start (the spy channel, MixMonitor or the target failed) or the target went away.
 */
export interface TapResult extends RelayResult {
  /** What was tapped: `{ type: 'audio', params: { direction } }`. */
  readonly tap: TapDescription;
  /** The device the target got the media from (Asterisk's RTP socket, or agikit's); `null` when it never started. */
  readonly sourceDevice: TapDevice | null;
  /** The target, with the codec and the ptime actually used (20 ms for RTP sent by Asterisk, whatever was asked). */
  readonly destinationDevice: TapDevice;
}

/**
 * Result of `faxSend()` / `faxReceive()`, and of the action their `*Async` forms return (the seed's
 * `FaxResult`). `successful` when res_fax reports `FAXSTATUS` `SUCCESS` (whatever the `EXEC`
 * returned: a far end hanging up after the last page is still a fax sent).
 */
export interface FaxResult extends RelayResult {
  /** `send` or `receive`. */
  readonly direction: 'send' | 'receive';
  /** This side's station id (`LOCALSTATIONID`); `''` when none was used. */
  readonly identity: string;
  /** The far end's station id (`REMOTESTATIONID`); `''` when none came. */
  readonly remoteIdentity: string;
  /**
   * Sent: the document as given. Received: the `file://` URL of the TIFF in the media directory
   * (`faxes/<controlId>.tif`), `''` when nothing was received.
   */
  readonly document: string;
  /** Pages sent or received (`FAXPAGES`). */
  readonly pages: number;
}

/**
 * Result of `connect()`, and of the action `connectAsync()` returns (the seed's `ConnectResult`).
 * `successful` once a device answered and the legs are bridged; `false` when no device answered
 * (busy, no answer, unreachable), when it was stopped first, or when the call hung up.
 */
export interface ConnectResult extends RelayResult {
  /**
   * The remote leg connected with the call: a {@link Call} known through AMI only (hangup,
   * `waitFor*`, state events, `tap`, `record`, `sendDigits`; methods that need its own AGI session
   * throw `CallNotControllableError` until `disconnect()` gives it one). `null` when unsuccessful,
   * and without AMI.
   */
  readonly call: Call | null;
  /** The device that answered, `null` when none did (or, without AMI, when `Dial` did not say). */
  readonly device: PhoneDevice | null;
  /** `DIALSTATUS` of the last `Dial` (`ANSWER`, `BUSY`, `NOANSWER`, `CHANUNAVAIL`, ...), `null` when none ran to its end. */
  readonly dialStatus: string | null;
}

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
