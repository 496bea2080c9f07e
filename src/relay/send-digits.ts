/**
 * `sendDigits()` / `sendDigitsAsync()`: DTMF to the far end, digit by digit, with the pauses timed
 * in Node so `stop()` takes effect between any two digits.
 *
 * Each digit is a 100 ms tone followed by a 250 ms gap (SendDTMF's defaults); `w` waits 0.5 s and
 * `W` 1 s more (as `main/app.c` does). With AMI a digit is `PlayDTMF` (the call's lane stays free:
 * digits go out while the call plays or records); without AMI it is `EXEC SendDTMF` in the lane,
 * which the component holds until the last digit.
 *
 * @module
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { Agi } from '../agi/agi.js';
import { AgiAbortError, AgiHangupError } from '../errors.js';
import { agiEvent, type Call } from './call.js';
import type { ChannelAmi } from './channel-ami.js';
import { Action, Component, startAction, type MethodOptions } from './component.js';
import { CallNotControllableError, RelayArgumentError } from './errors.js';
import type { RelayEvent, SendDigitsResult } from './results.js';

/** `sending` until every digit went out (or it was stopped), then `finished`. */
export type SendDigitsState = 'sending' | 'finished';

/** One step of a digit string. */
export type DigitStep = { readonly kind: 'digit'; readonly digit: string } | { readonly kind: 'pause'; readonly ms: number };

/** Length of each tone (ms), Asterisk's default. */
export const TONE_MS = 100;
/** Gap after each tone (ms), SendDTMF's default. */
export const GAP_MS = 250;
/** The pauses `w` and `W` (ms). */
const PAUSE_MS: Readonly<Record<string, number>> = { w: 500, W: 1000 };
const DIGITS = '0123456789*#ABCD';
/** Longest digit string accepted. */
export const MAX_DIGITS_LENGTH = 1024;

/**
 * The steps of a digit string: `0-9 * # A-D` are tones, `w` a 0.5 s and `W` a 1 s pause.
 *
 * @throws RelayArgumentError naming the first character that is none of those (nothing is sent)
 */
export function parseDigits(digits: string): DigitStep[] {
  if (typeof digits !== 'string' || digits.length === 0) throw new RelayArgumentError(`sendDigits: digits must be a non-empty string, not ${JSON.stringify(digits)}`);
  if (digits.length > MAX_DIGITS_LENGTH) throw new RelayArgumentError(`sendDigits: at most ${MAX_DIGITS_LENGTH} characters, got ${digits.length}`);
  return [...digits].map((c, index): DigitStep => {
    if (DIGITS.includes(c)) return { kind: 'digit', digit: c };
    const ms = PAUSE_MS[c];
    if (ms !== undefined) return { kind: 'pause', ms };
    throw new RelayArgumentError(`sendDigits: invalid character ${JSON.stringify(c)} at position ${index + 1} of ${JSON.stringify(digits)} (allowed: ${DIGITS}, w, W)`);
  });
}

/** How long sending `steps` takes, in ms (tones, gaps and pauses). */
export function sendingMs(steps: readonly DigitStep[]): number {
  return steps.reduce((sum, step) => sum + (step.kind === 'pause' ? step.ms : TONE_MS + GAP_MS), 0);
}

/** A digit string being sent. */
class SendDigitsComponent extends Component<SendDigitsResult, SendDigitsState> {
  protected readonly haltRetryMs = 100;
  /** Wakes a pause when `stop()` is called. */
  private readonly wake = new AbortController();
  private readonly ami: ChannelAmi | undefined;

  constructor(
    call: Call,
    private readonly digits: string,
    private readonly steps: readonly DigitStep[],
    options: MethodOptions,
  ) {
    super(call, 'sendDigits', { digits }, 'sending', { queue: options.queue, preempt: options.preempt });
    this.ami = call.ami;
  }

  protected async execute(): Promise<SendDigitsResult> {
    try {
      const ami = this.ami;
      const sent = ami ? await this.send((digit) => ami.sendDigit(digit, TONE_MS)) : await this.inLane((agi) => this.send((digit) => sendOverAgi(agi, digit)));
      const event: RelayEvent = ami ? { name: 'ami.PlayDTMF', payload: { digits: this.digits, sent } } : agiEvent('EXEC', { application: 'SendDTMF', digits: this.digits, sent });
      return { successful: sent === this.digits, event };
    } catch (error) {
      const expected = error instanceof AgiAbortError || error instanceof AgiHangupError || error instanceof CallNotControllableError || !this.call.active;
      if (expected) this.call.log.debug({ err: error }, 'sendDigits ended early');
      else this.call.log.error({ err: error }, 'sendDigits failed');
      return { successful: false, event: null };
    }
  }

  /** Sends the steps with `sendDigit`, timing the gaps; resolves with the digits (and pauses) sent before a stop. */
  private async send(sendDigit: (digit: string) => Promise<void>): Promise<string> {
    let sent = '';
    for (const [index, step] of this.steps.entries()) {
      if (this.stopRequested) break;
      if (step.kind === 'digit') {
        await sendDigit(step.digit);
        await this.pause(GAP_MS);
      } else {
        await this.pause(step.ms);
      }
      sent += this.digits[index];
    }
    return sent;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => undefined);
  }

  protected failed(error: unknown): SendDigitsResult {
    this.call.log.error({ err: error }, 'sendDigits failed');
    return { successful: false, event: null };
  }

  protected endState(): SendDigitsState {
    return 'finished';
  }

  protected override stateChanged(state: SendDigitsState): void {
    if (state === 'finished') this.call.fireAction('sendDigits.finished', this.handle);
  }

  /** Wakes a pause (the loop stops before the next digit), and leaves the lane queue when queued. */
  protected override halt(deadline: number): void | Promise<void> {
    this.wake.abort();
    return super.halt(deadline);
  }

  /** Holding the lane: the loop checks `stopRequested` between digits; a digit being sent finishes first. */
  protected haltRunning(): void {}
}

/** One digit over AGI: `SendDTMF(<digit>,1,100)` (Node times the gap, so SendDTMF's own is 1 ms). */
async function sendOverAgi(agi: Agi, digit: string): Promise<void> {
  await agi.exec('SendDTMF', digit, 1, TONE_MS);
}

/** The seed's `SendDigitsAction`. */
export class SendDigitsAction extends Action<SendDigitsResult, SendDigitsState> {}

/**
 * Starts sending `digits` and returns the action.
 *
 * @throws RelayArgumentError for a character that is not a digit, `w` or `W` (nothing is sent)
 * @throws CallBusyError with `queue: false` when it needs the call's lane (no AMI) and something holds it
 */
export async function sendDigitsAsync(call: Call, digits: string, options: MethodOptions = {}): Promise<SendDigitsAction> {
  const steps = parseDigits(digits);
  // Over AMI the digits need no lane; over AGI they take it.
  return startAction(new SendDigitsComponent(call, digits, steps, options), (c) => new SendDigitsAction(c), options, !call.runtime.ami);
}

/** Sends `digits` and resolves once they have gone out. Throws as {@link sendDigitsAsync}. */
export async function sendDigits(call: Call, digits: string, options: MethodOptions = {}): Promise<SendDigitsResult> {
  return (await sendDigitsAsync(call, digits, options)).done;
}
