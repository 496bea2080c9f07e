import type { Agi } from '../agi/agi.js';
import { AgiHangupError } from '../errors.js';
import type { AgiHandler } from './router.js';

/**
 * How a call ended, as written to the status variable (`AGIKIT_STATUS`) for the dialplan:
 * `SUCCESS` (handler finished), `FAILURE` (handler threw), `HANGUP` (handler ended by the caller
 * hanging up: it threw `AgiHangupError`), `NOTFOUND` (no route), `BUSY` (over `maxConnections`).
 */
export type CallStatus = 'SUCCESS' | 'FAILURE' | 'HANGUP' | 'NOTFOUND' | 'BUSY';

/** What {@link runHandler} observed. */
export interface HandlerOutcome {
  status: CallStatus;
  /** What the handler threw, if it did. */
  error?: unknown;
}

/** Default for how long a handler may keep a hung-up call's session open (ms). */
export const DEFAULT_HANGUP_GRACE_MS = 30_000;

/**
 * Runs a handler to completion the same way for every transport: classifies how it ended, logs a
 * failure with the call's identity, and waits for `onHangup` cleanup. Never throws. The caller then
 * ends the session with the status (`agi.close(status)`).
 *
 * After a hangup Asterisk keeps the channel until the session closes, so a handler that lingers
 * longer than `hangupGraceMs` after the hangup has its session closed for it (its later commands
 * reject with `AgiSessionClosedError`); the handler itself is still awaited.
 */
export async function runHandler(agi: Agi, handler: AgiHandler, hangupGraceMs = DEFAULT_HANGUP_GRACE_MS): Promise<HandlerOutcome> {
  let finished = false;
  let graceTimer: NodeJS.Timeout | undefined;
  void agi.hungUp.then(() => {
    if (finished) return;
    graceTimer = setTimeout(() => {
      agi.log.warn({ hangupGraceMs }, 'handler still running after the hangup grace period; closing the session');
      void agi.terminate();
    }, hangupGraceMs);
  });
  let outcome: HandlerOutcome;
  try {
    await handler(agi);
    outcome = { status: 'SUCCESS' };
  } catch (error) {
    if (error instanceof AgiHangupError) {
      agi.log.info({ reason: error.reason }, 'handler ended by hangup');
      outcome = { status: 'HANGUP', error };
    } else {
      agi.log.error({ err: error }, 'handler failed');
      outcome = { status: 'FAILURE', error };
    }
  }
  await agi.hangupCleanup();
  finished = true;
  if (graceTimer) clearTimeout(graceTimer);
  return outcome;
}
