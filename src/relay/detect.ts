/**
 * `detect()` and its helpers (`detectAnsweringMachine`/`amd`, `detectHuman`, `detectMachine`,
 * `detectDigit`, `detectFax`, each with `*Async`): the {@link DetectAction} and the component behind
 * it. The parameters and the pure mappings are in detect-options.ts.
 *
 * Mechanisms (docs/relay-detect.md has the details and the limits):
 * - answering machine: `EXEC AMD` with the seed's parameters mapped onto AMD's, then `AMDSTATUS`;
 *   with `waitForBeep`, after a `MACHINE`, `EXEC WaitForTone` for a 1 kHz beep (`READY`). Both are
 *   blocking applications: they run on a "seat": for `*Async` with AMI a helper channel spying on
 *   the call (D4; the call's lane stays free), else the call's own AGI session in its lane (stopped
 *   by a Redirect that brings the call back, D3).
 * - digits: with AMI, `DTMFEnd` events the channel received (the lane stays free); without, a
 *   `WAIT FOR DIGIT` loop in the lane.
 * - fax tones: with AMI, a `TONE_DETECT` detector on the channel whose hit count agikit polls with
 *   `Getvar` (the lane stays free); without, `EXEC WaitForTone` in the lane.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import { AgiAbortError, AgiHangupError, AgiInterruptedError } from '../errors.js';
import { agiEvent, type Call } from './call.js';
import { Action, Component, startAction, type MethodOptions } from './component.js';
import {
  amdArguments,
  amdOutcome,
  BEEP_TONE,
  checkDetectParams,
  detectionResult,
  endsWith,
  FAX_TONES,
  toneCount,
  toneDetectFunctions,
  toneOutcome,
  waitForToneArguments,
  type DetectParams,
  type DetectPlan,
  type Detection,
  type MachineVerdict,
  type ToneSpec,
} from './detect-options.js';
import { CallNotControllableError, RelayCapabilityError, RelayError } from './errors.js';
import { pollEvery } from './poll.js';
import type { DetectResult, RelayEvent, StopResult } from './results.js';

/** `detecting` while it runs, then `finished` (whatever it found), or `error` when it could not run. */
export type DetectState = 'detecting' | 'finished' | 'error';

/** How often a `TONE_DETECT` detector's hit count is read (ms). */
export const TONE_POLL_MS = 200;
/** What an AGI command running a detector may take beyond the detector's own timeout (ms). */
const COMMAND_MARGIN_MS = 10_000;
/** How often `stop()` asks again while the detector has not ended (ms). */
const STOP_RETRY_MS = 200;

const HANGUP_EVENT: RelayEvent = { name: 'call.ended', payload: {} };

/** How a detector ended, for its result. */
type End = 'detected' | 'timeout' | 'stopped' | 'hangup' | 'error';

/** What the detector is doing now: what stopping it must do. */
type Phase = 'queued' | 'exec' | 'wait-digit' | 'background' | 'other';

// -------------------------------------------------------------------------------------------------
// The seams

/** The AMI a detector uses on its call (see {@link detectAmi}). */
interface DetectAmi {
  /** Calls `listener` with each DTMF digit the channel receives (`DTMFEnd`, `Direction: Received`); returns the function that stops it. */
  onReceivedDigit(listener: (digit: string, event: RelayEvent) => void): () => void;
  /** `Setvar` on the call's channel (e.g. `TONE_DETECT(...)`). */
  setVariable(name: string, value: string): Promise<void>;
  /** `Getvar` on the call's channel; unset reads as `''`. */
  getVariable(name: string): Promise<string>;
}

/** The call's AMI as the detectors use it (`call.ami`: one subscription per call), `undefined` without AMI. */
function detectAmi(call: Call): DetectAmi | undefined {
  const channel = call.ami;
  if (!channel) return undefined;
  return {
    onReceivedDigit: (listener) =>
      channel.onEvents(['DTMFEnd'], (event) => {
        const digit = event.get('Digit') ?? '';
        if (event.get('Direction') === 'Received' && digit !== '') listener(digit, { name: 'ami.DTMFEnd', payload: event.toObject() });
      }),
    setVariable: (name, value) => channel.setVariable(name, value),
    getVariable: (name) => channel.getVariable(name),
  };
}

/**
 * How an `EXEC`'d detector (AMD, WaitForTone) running on the call's own AGI session is stopped, or
 * `undefined` when nothing can: AGI cannot interrupt `EXEC`; an AMI Redirect that brings the call
 * straight back on a new session (`call.returnToAgi()`, D3) can, given AMI and this process's
 * FastAGI address.
 */
function execStopper(call: Call): (() => Promise<void>) | undefined {
  if (!call.runtime.ami || !call.runtime.owner) return undefined;
  return async () => {
    await call.returnToAgi();
  };
}

/** Where a blocking detector application runs (see {@link DetectComponent.onSeat}). */
interface Seat {
  /** The AGI session that runs it. */
  readonly agi: Agi;
  /** Ends the application while it runs; `undefined` when nothing can. */
  readonly interrupt: (() => Promise<void>) | undefined;
}

/** The calls whose single `TONE_DETECT` detector (one per channel) a detector of this process uses, and which. */
const toneDetectorUsers = new WeakMap<Call, string>();

// -------------------------------------------------------------------------------------------------
// The component

/** How a detector was asked for. */
interface DetectRequest {
  /** The method, for messages. */
  readonly method: string;
  readonly plan: DetectPlan;
  /** A blocking method (a digit detector then ends with its first digit). */
  readonly blocking: boolean;
  /** `detectHuman` / `detectMachine`: successful only with this verdict. */
  readonly expect: MachineVerdict | undefined;
}

/** One detector on a call. */
class DetectComponent extends Component<DetectResult, DetectState> {
  protected readonly haltRetryMs = STOP_RETRY_MS;
  private readonly detections: Detection[] = [];
  private phase: Phase = 'queued';
  private seat: Seat | undefined;
  private outcome: 'finished' | 'error' = 'finished';
  /** Wakes a background detector when `stop()` is called. */
  private readonly wake = new AbortController();
  private readonly ami: DetectAmi | undefined;

  constructor(
    call: Call,
    readonly request: DetectRequest,
    options: MethodOptions,
  ) {
    super(call, 'detect', payloadOf(request.plan), 'detecting', { queue: options.queue, preempt: options.preempt });
    this.ami = detectAmi(call);
  }

  /**
   * Whether it runs on a helper channel (D4) beside the call: `*Async` answering-machine detection
   * with AMI and this process's FastAGI address, so the call's own lane stays free.
   */
  get onHelper(): boolean {
    return !this.request.blocking && this.request.plan.type === 'machine' && this.ami !== undefined && this.call.runtime.owner !== undefined;
  }

  /** Whether it runs an `EXEC`'d application (AMD, WaitForTone) on the call's AGI session, which only {@link execStopper} can stop. */
  get runsExec(): boolean {
    const { type } = this.request.plan;
    return (type === 'machine' && !this.onHelper) || (type === 'fax' && !this.ami);
  }

  /** Whether it takes the call's lane: everything but the AMI detectors (digits, fax tones) and a detector on a helper. */
  get needsLane(): boolean {
    return (this.request.plan.type === 'machine' && !this.onHelper) || !this.ami;
  }

  protected async execute(): Promise<DetectResult> {
    const { plan } = this.request;
    const deadline = Date.now() + plan.timeout * 1000;
    const ami = this.ami;
    switch (plan.type) {
      case 'machine':
        return this.onSeat((seat) => this.answeringMachine(seat, plan, deadline));
      case 'digit':
        return ami ? this.digitsOverAmi(ami, plan.digits, deadline) : this.inLane((agi) => this.digitsOverAgi(agi, plan.digits, deadline));
      case 'fax':
        return ami ? this.toneOverAmi(ami, plan.tone, deadline) : this.onSeat((seat) => this.toneOnSeat(seat, plan.tone, deadline));
    }
  }

  protected failed(error: unknown): DetectResult {
    const interrupted = error instanceof AgiAbortError || error instanceof AgiInterruptedError || error instanceof AgiHangupError;
    if (this.stopRequested && interrupted) return this.conclude('stopped', null);
    // A helper's own session ending while the call is up is the helper failing, not a hangup.
    const callHungUp = this.onHelper ? !this.call.active : error instanceof AgiHangupError;
    if (callHungUp || (error instanceof CallNotControllableError && error.why === 'ended') || !this.call.active) {
      return this.conclude('hangup', HANGUP_EVENT);
    }
    this.call.log.warn({ err: error, controlId: this.controlId }, `${this.request.method} failed`);
    return this.conclude('error', { name: 'detect.error', payload: { message: error instanceof Error ? error.message : String(error) } });
  }

  protected endState(): DetectState {
    return this.outcome;
  }

  protected override stateChanged(state: DetectState): void {
    if (state === 'finished') this.call.fireAction('detect.finished', this.handle);
    else if (state === 'error') this.call.fireAction('detect.error', this.handle);
  }

  /** Wakes a background detector; a queued one leaves the queue, a running one is {@link haltRunning}. */
  protected override halt(deadline: number): void | Promise<void> {
    this.wake.abort();
    if (this.phase === 'background') return;
    // A helper holds no lane: what runs on it is stopped through its seat (or never starts).
    if (this.onHelper) return this.haltRunning();
    return super.halt(deadline);
  }

  /** `WAIT FOR DIGIT` is interrupted; an `EXEC`'d application ends only through its seat. */
  protected haltRunning(): void | Promise<void> {
    if (this.phase === 'wait-digit') this.call.agi?.interrupt();
    else if (this.phase === 'exec') return this.seat?.interrupt?.().catch((error: unknown) => this.call.log.debug({ err: error }, 'detect: stopping the application failed'));
  }

  /** Records a detection and emits `detect.update`; `true` when that ends the detector. */
  private update(detection: Detection): boolean {
    this.detections.push(detection);
    if (this.handle) this.call.fire('detect.update', this.handle as DetectAction, detection);
    return endsWith(this.request.plan, detection, this.request.blocking);
  }

  /** The result for how the detector ended (see `DetectResult` for what is successful). */
  private conclude(end: End, event: RelayEvent | null): DetectResult {
    if (end === 'error') this.outcome = 'error';
    const { plan, expect } = this.request;
    const result = detectionResult(plan, this.detections);
    let successful = result !== null && end !== 'hangup' && end !== 'error';
    if (successful && plan.type === 'machine') {
      if (plan.amd.waitForBeep && result === 'MACHINE') successful = this.detections.includes('READY');
      if (expect) successful &&= result === expect;
    }
    return { successful, event, type: plan.type, result };
  }

  // -------------------------------------------------------------------------------------------
  // Blocking applications: AMD, WaitForTone

  /**
   * Runs `work` on the seat of a blocking detector application: a helper channel spying on the call
   * ({@link onHelper}: the call's lane stays free, `stop()` hangs the helper up), else the call's own
   * AGI session, holding its lane (`stop()` through {@link execStopper}).
   */
  private async onSeat(work: (seat: Seat) => Promise<DetectResult>): Promise<DetectResult> {
    if (this.onHelper) {
      this.phase = 'exec';
      const helper = await this.call.runtime.helperChannel(this.call, { signal: this.wake.signal });
      this.seat = { agi: helper.agi, interrupt: () => helper.stop() };
      try {
        return await work(this.seat);
      } finally {
        this.seat = undefined;
        await helper.stop();
      }
    }
    return this.inLane(async (agi) => {
      this.seat = { agi, interrupt: execStopper(this.call) };
      try {
        return await work(this.seat);
      } finally {
        this.seat = undefined;
      }
    });
  }

  /** `AMD`, then (with `waitForBeep`, after a `MACHINE`) the beep. */
  private async answeringMachine(seat: Seat, plan: DetectPlan & { type: 'machine' }, deadline: number): Promise<DetectResult> {
    const { agi } = seat;
    this.phase = 'exec';
    await agi.exec('AMD', ...amdArguments(plan.amd), { timeoutMs: plan.timeout * 1000 + COMMAND_MARGIN_MS });
    this.phase = 'other';
    const status = await agi.getVariable('AMDSTATUS');
    const cause = await agi.getVariable('AMDCAUSE');
    const event = agiEvent('EXEC', { application: 'AMD', AMDSTATUS: status ?? null, AMDCAUSE: cause ?? null });
    if (this.stopRequested) return this.conclude('stopped', event);
    const outcome = amdOutcome(status);
    if (outcome.kind !== 'verdict') return this.conclude(outcome.kind, event);
    if (this.update(outcome.verdict)) return this.conclude('detected', event);
    // A machine, and the caller waits for its beep.
    const beep = await this.waitForTone(agi, BEEP_TONE, deadline);
    if (this.stopRequested) return this.conclude('stopped', beep.event);
    if (beep.outcome === 'detected' || beep.outcome === 'timeout') {
      this.update(beep.outcome === 'detected' ? 'READY' : 'NOT_READY');
      return this.conclude(beep.outcome, beep.event);
    }
    return this.conclude(beep.outcome, beep.event);
  }

  /** A fax tone with `WaitForTone` on the seat. */
  private async toneOnSeat(seat: Seat, tone: keyof typeof FAX_TONES, deadline: number): Promise<DetectResult> {
    const heard = await this.waitForTone(seat.agi, FAX_TONES[tone], deadline);
    if (heard.outcome !== 'detected') return this.conclude(this.stopRequested ? 'stopped' : heard.outcome, heard.event);
    this.update(tone);
    return this.conclude('detected', heard.event);
  }

  /** `EXEC WaitForTone` until `deadline`, then `WAITFORTONESTATUS`. */
  private async waitForTone(agi: Agi, tone: ToneSpec, deadline: number): Promise<{ outcome: ReturnType<typeof toneOutcome>; event: RelayEvent }> {
    const left = deadline - Date.now();
    if (left <= 0 || this.stopRequested) return { outcome: 'timeout', event: timeoutEvent(this.request.plan) };
    this.phase = 'exec';
    await agi.exec('WaitForTone', ...waitForToneArguments(tone, left), { timeoutMs: left + COMMAND_MARGIN_MS });
    this.phase = 'other';
    const status = await agi.getVariable('WAITFORTONESTATUS');
    return { outcome: toneOutcome(status), event: agiEvent('EXEC', { application: 'WaitForTone', frequency: tone.frequency, WAITFORTONESTATUS: status ?? null }) };
  }

  // -------------------------------------------------------------------------------------------
  // Digits

  /** Digits from `DTMFEnd` events (received on the channel), in the background. */
  private digitsOverAmi(ami: DetectAmi, digits: string, deadline: number): Promise<DetectResult> {
    return this.inBackground(deadline, (settle) =>
      ami.onReceivedDigit((digit, event) => {
        if (digits.includes(digit) && this.update(digit)) settle('detected', event);
      }),
    );
  }

  /** Digits with a `WAIT FOR DIGIT` loop in the lane. */
  private async digitsOverAgi(agi: Agi, digits: string, deadline: number): Promise<DetectResult> {
    let event: RelayEvent | null = null;
    for (;;) {
      const left = deadline - Date.now();
      if (this.stopRequested) return this.conclude('stopped', event);
      if (left <= 0) return this.conclude('timeout', timeoutEvent(this.request.plan));
      this.phase = 'wait-digit';
      let key: string | null;
      try {
        key = await agi.waitForDigit(left, { timeoutMs: left + COMMAND_MARGIN_MS });
      } catch (error) {
        if (error instanceof AgiInterruptedError && this.stopRequested) return this.conclude('stopped', event);
        throw error;
      } finally {
        this.phase = 'other';
      }
      // An interrupted WAIT FOR DIGIT may also come back as "no key": the stop decides.
      if (this.stopRequested) return this.conclude('stopped', event);
      if (key === null || !digits.includes(key)) continue;
      event = agiEvent('WAIT FOR DIGIT', { digit: key });
      if (this.update(key)) return this.conclude('detected', event);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Fax tones over AMI

  /** A fax tone with a `TONE_DETECT` detector on the channel, its hit count polled. */
  private async toneOverAmi(ami: DetectAmi, tone: keyof typeof FAX_TONES, deadline: number): Promise<DetectResult> {
    const user = toneDetectorUsers.get(this.call);
    if (user !== undefined) throw new RelayError(`${this.request.method}: the call's tone detector (TONE_DETECT, one per channel) is in use by detect ${user}`);
    toneDetectorUsers.set(this.call, this.controlId);
    const functions = toneDetectFunctions(FAX_TONES[tone]);
    try {
      const before = toneCount(await ami.getVariable(functions.count));
      await ami.setVariable(functions.start, '');
      return await this.inBackground(deadline, (settle) =>
        pollEvery(TONE_POLL_MS, async (active) => {
          const value = await ami.getVariable(functions.count).catch(() => undefined);
          if (value === undefined || toneCount(value) <= before || !active()) return false;
          this.update(tone);
          settle('detected', { name: 'ami.Getvar', payload: { Variable: functions.count, Value: value } });
          return true;
        }),
      );
    } finally {
      if (toneDetectorUsers.get(this.call) === this.controlId) toneDetectorUsers.delete(this.call);
      await ami.setVariable(functions.remove, '').catch((error: unknown) => this.call.log.debug({ err: error }, 'detect: removing TONE_DETECT failed (the channel is gone?)'));
    }
  }

  /**
   * Runs a background detector until `watch` settles it, `deadline` passes, `stop()` is called or
   * the call ends. `watch` starts it and returns the function that ends it.
   */
  private async inBackground(deadline: number, watch: (settle: (end: End, event: RelayEvent | null) => void) => () => void): Promise<DetectResult> {
    this.phase = 'background';
    const cleanups: Array<() => void> = [];
    try {
      const { end, event } = await new Promise<{ end: End; event: RelayEvent | null }>((resolve) => {
        const settle = (end: End, event: RelayEvent | null): void => resolve({ end, event });
        const timer = setTimeout(() => settle('timeout', timeoutEvent(this.request.plan)), Math.max(0, deadline - Date.now()));
        cleanups.push(() => clearTimeout(timer));
        const onStop = (): void => settle('stopped', { name: 'detect.stop', payload: { controlId: this.controlId } });
        if (this.stopRequested) onStop();
        this.wake.signal.addEventListener('abort', onStop, { once: true });
        cleanups.push(() => this.wake.signal.removeEventListener('abort', onStop));
        const onEnding = (): void => settle('hangup', HANGUP_EVENT);
        if (!this.call.active) onEnding();
        this.call.on('ending', onEnding);
        cleanups.push(() => this.call.off('ending', onEnding));
        cleanups.push(watch(settle));
      });
      return this.conclude(end, event);
    } finally {
      for (const cleanup of cleanups) cleanup();
      this.phase = 'other';
    }
  }
}

/** The seed's payload of a detector: its type and parameters. */
function payloadOf(plan: DetectPlan): Record<string, unknown> {
  switch (plan.type) {
    case 'machine':
      return { type: plan.type, params: { ...plan.amd } };
    case 'digit':
      return { type: plan.type, params: { timeout: plan.timeout, digits: plan.digits } };
    case 'fax':
      return { type: plan.type, params: { timeout: plan.timeout, tone: plan.tone } };
  }
}

/** The event of a detector that ran to its timeout. */
function timeoutEvent(plan: DetectPlan): RelayEvent {
  return { name: 'detect.timeout', payload: { timeout: plan.timeout } };
}

// -------------------------------------------------------------------------------------------------
// The action and the methods

/** The seed's `DetectAction`: a detector running on the call. */
export class DetectAction extends Action<DetectResult, DetectState> {
  constructor(private readonly detector: DetectComponent) {
    super(detector);
  }

  /** The detector's type. */
  get type(): DetectResult['type'] {
    return this.detector.request.plan.type;
  }

  /**
   * Stops the detector: its result keeps what it detected until then (an `*Async` digit detector is
   * successful with the digits it collected).
   *
   * @throws RelayCapabilityError when the detector runs an `EXEC`'d application on the call (AMD;
   *   a fax tone without AMI) and nothing can stop it: AGI cannot interrupt `EXEC`
   */
  override async stop(): Promise<StopResult> {
    if (!this.completed) assertStoppable(this.detector, 'DetectAction.stop');
    return super.stop();
  }
}

function assertStoppable(component: DetectComponent, method: string): void {
  if (component.runsExec && !execStopper(component.call)) {
    const application = component.request.plan.type === 'machine' ? 'AMD' : 'WaitForTone';
    throw new RelayCapabilityError('ami', method, `AGI cannot interrupt the EXEC'd ${application}; stopping it takes an AMI Redirect that brings the call back to agikit`);
  }
}

/**
 * Starts a detector and returns its action.
 *
 * @param method - the method's name, for messages
 * @param expect - `detectHuman` / `detectMachine`: successful only with this verdict
 * @throws RelayArgumentError for bad parameters (nothing is started)
 * @throws RelayCapabilityError for a `signal` when nothing could stop the detector (see {@link DetectAction.stop})
 * @throws CallNotControllableError when the detector needs the call's AGI and it has none
 * @throws CallBusyError with `queue: false` when it needs the call's lane and something holds it
 */
export async function detectAsync(call: Call, method: string, params: DetectParams, options: MethodOptions = {}, expect?: MachineVerdict): Promise<DetectAction> {
  return start(call, { method, plan: checkDetectParams(method, params), blocking: false, expect }, options);
}

/** Runs a detector and resolves with its result once it has ended. Throws as {@link detectAsync}. */
export async function detect(call: Call, method: string, params: DetectParams, options: MethodOptions = {}, expect?: MachineVerdict): Promise<DetectResult> {
  return start(call, { method, plan: checkDetectParams(method, params), blocking: true, expect }, options).done;
}

function start(call: Call, request: DetectRequest, options: MethodOptions): DetectAction {
  const component = new DetectComponent(call, request, options);
  if (options.signal) assertStoppable(component, `${request.method}({ signal })`);
  if (component.needsLane && !call.agi && !call.ended) throw new CallNotControllableError(request.method, 'no-agi');
  return startAction(component, (c) => new DetectAction(c), options, component.needsLane);
}
