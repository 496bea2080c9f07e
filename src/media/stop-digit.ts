/**
 * {@link StopDigit}: how a job ends a `RECORD FILE`, which AGI cannot interrupt. The job has
 * Asterisk receive a digit (AMI `PlayDTMF` with `Receive: yes`) that the command has among its escape
 * digits. When the command ends by itself while that digit is on its way, the digit stays queued on
 * the channel and would end the next command that listens for digits (a prompt would read it as the
 * caller's key); {@link StopDigit.drain} reads it away.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import { AgiHangupError } from '../errors.js';

/** How long a drain waits for a stop digit still on its way (ms): it was queued when AMI answered. */
export const STOP_DIGIT_DRAIN_MS = 100;

/** At most this many digits are read while draining (a caller's own key may come first). */
const MAX_DRAIN_READS = 3;

/** The stop digit of one job, sent at most once per command. */
export class StopDigit {
  /** Resolves `true` once Asterisk has queued the digit, `false` when sending it failed. */
  private queued: Promise<boolean> | undefined;

  constructor(readonly digit: string) {}

  /**
   * Has Asterisk receive the digit through `queue` (an AMI `PlayDTMF`, `Receive: yes`), once per
   * command: a call while a send runs or after one succeeded waits for it; after a failed one (it
   * rejects as `queue` does), the next call tries again.
   */
  async send(queue: () => Promise<unknown>): Promise<void> {
    if (this.queued) {
      await this.queued;
      return;
    }
    const sending = queue();
    const queued = sending.then(
      () => true,
      () => {
        if (this.queued === queued) this.queued = undefined;
        return false;
      },
    );
    this.queued = queued;
    await sending;
  }

  /**
   * Call after the command has ended on `endedOn` (its digit, `null`: not on a digit). When the stop
   * digit was queued and the command did not end on it, reads it away (`WAIT FOR DIGIT`, briefly,
   * until it comes). Then ready for the next command. A hangup meanwhile is no error.
   */
  async drain(agi: Agi, endedOn: string | null): Promise<void> {
    const queued = this.queued;
    this.queued = undefined;
    if (!queued || endedOn === this.digit || !(await queued)) return;
    try {
      for (let read = 0; read < MAX_DRAIN_READS; read++) {
        const digit = await agi.waitForDigit(STOP_DIGIT_DRAIN_MS);
        if (digit === null || digit === this.digit) return;
      }
    } catch (error) {
      if (!(error instanceof AgiHangupError)) throw error;
    }
  }
}
