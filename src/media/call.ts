/**
 * The call-state rules of the media layer's methods (Aculab's: a hung-up call and a channel that is
 * not answered both refuse), and the time allowance of media commands.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import { ChannelState } from '../agi/results.js';
import { AgiHangupError } from '../errors.js';
import { MediaStateError } from './errors.js';

/**
 * Time allowance given to media commands (`STREAM FILE`, `RECORD FILE`) so that a session-wide
 * `commandTimeoutMs` never abandons them: they last as long as the media does. Node's largest timer.
 */
export const MEDIA_COMMAND_TIMEOUT_MS = 2_147_483_647;

/**
 * The call-state rules of the Aculab API: a hung-up call throws {@link AgiHangupError}; a channel
 * that is not answered throws {@link MediaStateError}. Asks Asterisk (`CHANNEL STATUS`).
 */
export async function assertAnswered(agi: Agi, what: string): Promise<void> {
  assertNotHungUp(agi, what);
  const state = await agi.channelStatus();
  if (state !== ChannelState.Up) {
    throw new MediaStateError(`${what}: the channel is not answered (channel state ${state}); answer() first`);
  }
}

/** Throws {@link AgiHangupError} when the call has hung up. */
export function assertNotHungUp(agi: Agi, what: string): void {
  if (agi.hangupReason) throw new AgiHangupError(agi.hangupReason, what);
}
