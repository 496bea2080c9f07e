/**
 * What {@link FilePlayer} and {@link FileRecorder} share: the call-state rules of their methods and
 * small timing helpers.
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

/** Resolves after `ms` (never keeps the process alive on its own). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}

/**
 * Waits for `done`, for at most `timeoutMs` (`null`: no limit). Resolves `true` when `done` settled
 * first, `false` on timeout.
 */
export async function settledWithin(done: Promise<unknown>, timeoutMs: number | null): Promise<boolean> {
  if (timeoutMs === null) {
    await done.catch(() => undefined);
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
  });
  try {
    return await Promise.race([done.then(() => true as const, () => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
