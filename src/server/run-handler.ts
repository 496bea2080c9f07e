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

/**
 * Runs a handler to completion the same way for every transport: classifies how it ended, logs a
 * failure with the call's identity, and waits for `onHangup` cleanup. Never throws. The caller then
 * ends the session with the status (`agi.close(status)`).
 */
export async function runHandler(agi: Agi, handler: AgiHandler): Promise<HandlerOutcome> {
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
  return outcome;
}
