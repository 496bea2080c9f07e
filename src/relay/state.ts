/**
 * The Relay call states and how a call moves through them. Pure: {@link Call} feeds it what AGI and
 * AMI report and emits the changes it returns.
 *
 * @module
 */

/** A Relay call state, in the order a call goes through them. */
export type CallState = 'none' | 'created' | 'ringing' | 'answered' | 'ending' | 'ended';

/** Every state, in order. */
export const CALL_STATES: readonly CallState[] = ['none', 'created', 'ringing', 'answered', 'ending', 'ended'];

const ORDER: Readonly<Record<CallState, number>> = { none: 0, created: 1, ringing: 2, answered: 3, ending: 4, ended: 5 };

/**
 * The states a call passes on its way from `from` to `to`, each one a `stateChange`. Every call
 * emits `created` first, whatever was learnt first (AMI delivers `Newchannel` through Stasis, so a
 * `Getvar` answer saying Up can come before it). A call that is seen answered straight after it was
 * created does not pretend it rang; one that ends without an `ending` signal still emits `ending`
 * first, so `waitForEnding` never misses the end. Empty when `to` is not ahead of `from`: states
 * never go back.
 */
export function statesBetween(from: CallState, to: CallState): CallState[] {
  if (ORDER[to] <= ORDER[from]) return [];
  const steps: CallState[] = from === 'none' && to !== 'created' ? ['created'] : [];
  if (to === 'ended' && ORDER[from] < ORDER.ending) steps.push('ending');
  steps.push(to);
  return steps;
}

/** `true` when a call in `state` has already passed (or is in) `wanted`. */
export function reached(state: CallState, wanted: CallState): boolean {
  return ORDER[state] >= ORDER[wanted];
}

/**
 * Whether a call that ends in `state` can never reach `wanted` any more (so `waitFor(wanted)`
 * resolves `false`): an ended call will not ring, a call that ends before it was answered never
 * will be.
 */
export function unreachable(state: CallState, wanted: CallState): boolean {
  return (state === 'ending' || state === 'ended') && ORDER[wanted] < ORDER.ending;
}
