/**
 * The events a {@link Call} emits, with the seed's names: state events, and one family per kind of
 * action (`play.*`, `record.*`, `prompt`, `sendDigits.finished`, ...). Listeners get the action the
 * event is about.
 *
 * @module
 */

import type { CallState } from './state.js';
import type { Action } from './component.js';
import type { ConnectAction } from './connect.js';
import type { DetectAction } from './detect.js';
import type { FaxAction } from './fax.js';
import type { PlayAction } from './play.js';
import type { PromptAction } from './prompt.js';
import type { RelayResult } from './results.js';
import type { TapAction } from './tap.js';

/** Any action, as event listeners receive it. */
export type AnyAction = Action<RelayResult, string>;

/** Event name → listener arguments, for `call.on(name, listener)`. */
export interface CallEvents {
  /** Every state change: the new state and the one before. */
  stateChange: [state: CallState, previous: CallState];
  created: [];
  ringing: [];
  answered: [];
  ending: [];
  ended: [];

  'play.stateChange': [action: PlayAction];
  'play.playing': [action: PlayAction];
  'play.paused': [action: PlayAction];
  'play.error': [action: PlayAction];
  'play.finished': [action: PlayAction];

  'record.stateChange': [action: AnyAction];
  'record.recording': [action: AnyAction];
  'record.no_input': [action: AnyAction];
  'record.finished': [action: AnyAction];

  /** A prompt has ended (the seed has this one event for prompts). */
  prompt: [action: PromptAction];

  'sendDigits.finished': [action: AnyAction];

  /** Every change of a connect's state. */
  'connect.stateChange': [action: ConnectAction];
  /** A connect started calling its devices. */
  'connect.connecting': [action: ConnectAction];
  /** A device answered: the call and the remote leg (`action.result.call`) are bridged. */
  'connect.connected': [action: ConnectAction];
  /** No device answered (the last `Dial` ended busy, unanswered or failed). */
  'connect.failed': [action: ConnectAction];
  /** The bridge has ended (the caller is free again), or the connect was stopped before anyone answered. */
  'connect.disconnected': [action: ConnectAction];

  /** A tap has started: audio flows to the target. */
  'tap.tapping': [action: TapAction];
  /** A tap has ended (its result is on the action). */
  'tap.finished': [action: TapAction];
  /**
   * A detector reported something (`detection`): a digit, an AMD verdict (`MACHINE`, `HUMAN`,
   * `UNKNOWN`), `READY` or `NOT_READY` after a `MACHINE` with `waitForBeep`, a fax tone (`CED`, `CNG`).
   */
  'detect.update': [action: DetectAction, detection: string];
  /** A detector has ended (whatever ended it: its result says what it found). */
  'detect.finished': [action: DetectAction];
  /** A detector could not run (e.g. Asterisk lacks app_amd); its result is unsuccessful. */
  'detect.error': [action: DetectAction];

  /** A fax's state changed (`faxing`, `finished`, `error`: see `FaxState`). */
  'fax.stateChange': [action: FaxAction];
  /** A fax page has been sent or received: `pages` is how many are done. */
  'fax.page': [action: FaxAction, pages: number];
  /** A fax has ended: sent or received (`FAXSTATUS` `SUCCESS`), or stopped. */
  'fax.finished': [action: FaxAction];
  /** A fax failed: res_fax reported a failure, the call hung up, or it could not start. */
  'fax.error': [action: FaxAction];
}

/** A name {@link CallEvents} knows. */
export type CallEventName = keyof CallEvents;
