/**
 * The digit collection of a prompt, as a pure state machine: what to wait for next, and when the
 * collection is over. The prompt feeds it the keys `STREAM FILE`, `WAIT FOR DIGIT` or `RECORD FILE`
 * returned and the timeouts `WAIT FOR DIGIT` ran into; nothing here touches a call.
 *
 * Rules (Relay's, made exact): `initialTimeout` runs before the first key, `digitsTimeout` after
 * each key; a key in `digitsTerminators` ends the collection and is reported as the `terminator`,
 * not as part of the digits; reaching `digitsMax` digits ends it. A terminator pressed first ends
 * it with no digits (the caller chose to enter nothing, e.g. "press # to skip"): that is input, not
 * `no_input`.
 *
 * @module
 */

/** The digit rules of a prompt, in ms. */
export interface DigitRules {
  /** How many digits to collect at most (1 or more). */
  readonly max: number;
  /** Keys that end the collection (`''`: none). */
  readonly terminators: string;
  /** How long to wait for the first key. */
  readonly initialTimeoutMs: number;
  /** How long to wait for each further key. */
  readonly digitsTimeoutMs: number;
}

/** Why a collection ended. */
export type DigitsEnd =
  /** A terminator was pressed. */
  | 'terminator'
  /** `max` digits were collected. */
  | 'max'
  /** No further key came within `digitsTimeout` after at least one. */
  | 'digits-timeout'
  /** No key came within `initialTimeout`. */
  | 'no-input';

/** Where a collection stands: still collecting (wait `waitMs` for the next key), or over. */
export type DigitState =
  | { readonly done: false; readonly digits: string; readonly waitMs: number }
  | { readonly done: true; readonly digits: string; readonly terminator: string | null; readonly end: DigitsEnd };

/** A collection that has not seen a key yet. */
export function startDigits(rules: DigitRules): DigitState {
  return { done: false, digits: '', waitMs: rules.initialTimeoutMs };
}

/** The state after the caller pressed `key`. A collection that is over stays as it is. */
export function pressDigit(rules: DigitRules, state: DigitState, key: string): DigitState {
  if (state.done) return state;
  if (rules.terminators.includes(key)) return { done: true, digits: state.digits, terminator: key, end: 'terminator' };
  const digits = state.digits + key;
  if (digits.length >= rules.max) return { done: true, digits, terminator: null, end: 'max' };
  return { done: false, digits, waitMs: rules.digitsTimeoutMs };
}

/** The state after `waitMs` passed without a key. A collection that is over stays as it is. */
export function digitTimeout(state: DigitState): DigitState {
  if (state.done) return state;
  return { done: true, digits: state.digits, terminator: null, end: state.digits === '' ? 'no-input' : 'digits-timeout' };
}
