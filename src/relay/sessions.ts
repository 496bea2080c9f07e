/**
 * {@link CallSessions}: the AGI sessions of one call (D1 of relay-on-asterisk.md: a call is not an
 * AGI session). A session attaches to the call; it may end without the call ending (an AMI Redirect,
 * a fax-detect goto, a disconnect), and the call then comes back through `[relay-resume]` on a new
 * session, which attaches to the same call. Meanwhile whatever needs the call's AGI waits for it.
 *
 * How a session's `HANGUP` line is read:
 * - after a Redirect this process sent ({@link CallSessions.leave}): the session went away and the call
 *   is expected back (no `ending`);
 * - otherwise the channel's location is read on the dead session (`${CONTEXT}`, `${EXTEN}`,
 *   `${PRIORITY}` and `${HANGUPCAUSE}` in one `GET FULL VARIABLE`: an async goto moves the channel
 *   before AGI notices, a hangup does not): moved into `[relay-resume]` is a call sent back from
 *   outside (e.g. res_fax's fax detection), expected back too; moved anywhere else is a call that
 *   left agikit for another part of the dialplan (released); not moved is a hangup (`ending`, then
 *   `ended` with `HANGUPCAUSE`).
 *
 * A call expected back that does not come within the resume bound is, with AMI, known through AMI
 * only from then on (still followed to its end), and without AMI counted as ended (reason `error`):
 * either way it is logged.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import type { Call } from './call.js';
import type { DialplanTarget } from './channel-ami.js';
import { RELAY_CONTEXTS, RELAY_VARIABLES } from './dialplan.js';
import { CallNotControllableError, RelayError } from './errors.js';
import { settledWithin } from './wait.js';

/** Where a channel was when its AGI session saw `HANGUP`, read on the dead session. */
export interface HangupProbe {
  readonly context: string;
  readonly exten: string;
  readonly priority: number;
  /** `HANGUPCAUSE`, `null` when unset. */
  readonly cause: number | null;
}

/** Where a session ran: its `agi_context`, `agi_extension`, `agi_priority`. */
export interface SessionLocation {
  readonly context: string;
  readonly extension: string;
  readonly priority: number;
}

/**
 * What a `HANGUP` on a session means, from where the session ran and where the channel is now:
 * `resume` (sent to `[relay-resume]`: it comes back), `elsewhere` (sent to another part of the
 * dialplan), `hangup` (it did not move), `unknown` (the location could not be read). Pure.
 */
export function classifyHangup(ran: SessionLocation, probe: HangupProbe | null): 'resume' | 'elsewhere' | 'hangup' | 'unknown' {
  if (!probe) return 'unknown';
  const moved = probe.context !== ran.context || probe.exten !== ran.extension || probe.priority !== ran.priority;
  if (!moved) return 'hangup';
  return probe.context === RELAY_CONTEXTS.resume ? 'resume' : 'elsewhere';
}

/** The expression {@link parseHangupProbe} reads. */
export const HANGUP_PROBE_EXPRESSION = '${CONTEXT}|${EXTEN}|${PRIORITY}|${HANGUPCAUSE}';

/** Reads the reply to {@link HANGUP_PROBE_EXPRESSION}; `null` when it is not one. Pure. */
export function parseHangupProbe(value: string | undefined): HangupProbe | null {
  const parts = value?.split('|');
  if (!parts || parts.length !== 4) return null;
  const [context, exten, priority, cause] = parts as [string, string, string, string];
  const code = Number.parseInt(cause, 10);
  return { context, exten, priority: Number.parseInt(priority, 10), cause: Number.isNaN(code) ? null : code };
}

/** The target of Redirects that expect the call back. */
export const RESUME_TARGET: DialplanTarget = { context: RELAY_CONTEXTS.resume, exten: 's', priority: 1 };

/** How long a dead session may take to tell where its channel is (ms). */
const PROBE_TIMEOUT_MS = 2000;
/** How long a Redirect may take to end the session it takes the call out of (ms). */
const LEAVE_TIMEOUT_MS = 5000;
/** With AMI, how long the end of a call whose session was lost may take to show (ms). */
const LOST_SESSION_END_MS = 5000;

/** Options of {@link CallSessions.leave}. */
export interface LeaveOptions {
  /** How long the call may stay away before it counts as lost (default: the runtime's `resumeTimeoutMs`). */
  resumeWithinMs?: number;
}

interface Hold {
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function hold(): Hold {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => undefined);
  return { done, resolve, reject };
}

/** The AGI sessions of one call; see the module comment. */
export class CallSessions {
  private current: Agi | null = null;
  /** The session a Redirect sent by this process is taking the call out of. */
  private leaving: Agi | null = null;
  /** Set while the call is away from AGI and expected back. */
  private away: NodeJS.Timeout | undefined;
  /** What each attached session's route handler waits for before it ends the session. */
  private readonly holds = new Map<Agi, Hold>();
  /** Called whenever the session changes or the call ends. */
  private changeWaiters: Array<() => void> = [];
  private ownerWritten = false;
  private releasedValue = false;
  /** An application runs the call: hung-up sessions are held until it is done ({@link release}). */
  private applicationRuns = false;

  constructor(private readonly call: Call) {}

  /** The attached session, or `null`. */
  get agi(): Agi | null {
    return this.current;
  }

  /** `true` while the call is away from AGI and expected back (or a Redirect is taking it away). */
  get awaiting(): boolean {
    return this.away !== undefined || this.leaving !== null;
  }

  /** `true` once released to the dialplan. */
  get released(): boolean {
    return this.releasedValue;
  }

  /** An application runs the call from now on: it {@link release}s the call when it is done. */
  applicationStarted(): void {
    this.applicationRuns = true;
  }

  /**
   * Attaches a session (the first one, or one that came back); `false` (nothing attached) when the
   * call has ended or was released.
   */
  attach(agi: Agi): boolean {
    if (this.call.ended || this.releasedValue) return false;
    const previous = this.current;
    if (previous && previous !== agi) {
      this.call.log.warn('a second AGI session for this call: the first one is let go');
      this.letGo(previous);
    }
    this.current = agi;
    this.holds.set(agi, hold());
    this.clearAway();
    agi.onHangup(() => this.hungUp(agi));
    this.changed();
    return true;
  }

  /**
   * Resolves when the route handler of `agi` should end the session: it went away (Redirect), the
   * call was released, or it ended (released by the application, when one runs it). Rejects with
   * the application's error when it failed while this session was attached.
   */
  done(agi: Agi): Promise<void> {
    return this.holds.get(agi)?.done ?? Promise.resolve();
  }

  /** The session for a method that needs it now; throws {@link CallNotControllableError} when there is none. */
  require(method: string): Agi {
    const agi = this.current;
    if (agi && !agi.closed) return agi;
    throw this.notControllable(method, agi);
  }

  /**
   * The session to drive the call with: the attached one, or, while the call is away from AGI, the
   * one it comes back on (bounded by the resume timeout).
   *
   * @throws CallNotControllableError when there is none (ended, or known through AMI only)
   */
  forLane(method: string): Promise<Agi> {
    // The attached session, usually: no async frame for it.
    const agi = this.current;
    if (agi && agi !== this.leaving && !agi.closed) return Promise.resolve(agi);
    return this.forLaneLater(method);
  }

  private async forLaneLater(method: string): Promise<Agi> {
    for (;;) {
      const agi = this.current;
      if (agi && agi !== this.leaving && !agi.closed) return agi;
      if (!this.awaiting || this.call.ended) throw this.notControllable(method, agi);
      await this.nextChange();
    }
  }

  /** Throws {@link CallNotControllableError} (`no-agi`) for a method that needs AGI on a call that has none and expects none. */
  assertControllable(method: string): void {
    if (!this.current && !this.awaiting && !this.call.ended) throw new CallNotControllableError(method, 'no-agi');
  }

  /**
   * Takes the call out of its AGI session with an AMI Redirect to `to` (writing `RELAY_OWNER` first:
   * always for `[relay-resume]`, and for any other context when this process's address is known) and resolves once the session has let go. The call is expected
   * back through `[relay-resume]` within `resumeWithinMs`.
   *
   * @throws RelayCapabilityError without AMI, or (for `[relay-resume]`) without a FastAGI address
   * @throws CallNotControllableError when the call has no session to leave
   */
  async leave(to: DialplanTarget, options: LeaveOptions = {}): Promise<void> {
    const ami = this.call.requireAmi('Call.leaveAgi');
    const agi = this.current;
    if (this.leaving) throw new RelayError('leaveAgi: the call is already leaving its AGI session');
    if (!agi || agi.closed || agi.hangupReason) throw this.notControllable('leaveAgi', agi);
    // [relay-resume] needs RELAY_OWNER; another context may end in Goto(relay-resume,s,1), so the
    // owner is written for it too whenever this process knows its address.
    if (to.context === RELAY_CONTEXTS.resume || this.call.runtime.owner !== undefined) await this.writeOwner('Call.leaveAgi');
    this.leaving = agi;
    this.resumeWithinMs = options.resumeWithinMs;
    try {
      await ami.redirect(to);
    } catch (error) {
      if (this.leaving === agi) this.leaving = null;
      throw error;
    }
    const left = await this.changeWithin(() => this.current !== agi || this.call.ended, LEAVE_TIMEOUT_MS);
    if (!left) {
      if (this.leaving === agi) this.leaving = null;
      throw new RelayError(`leaveAgi: the Redirect was accepted but the AGI session did not end within ${LEAVE_TIMEOUT_MS} ms`);
    }
  }

  /** A session is expected within `withinMs` (an answered outbound call's, from `[relay-dial]`): methods that need AGI wait for it meanwhile. */
  expect(withinMs: number): void {
    if (!this.current && !this.call.ended) this.startAway(withinMs);
  }

  /** Resolves `true` once the call has an AGI session again (at once if it has one and is not leaving it), `false` if it ends or is lost first. */
  async reattached(): Promise<boolean> {
    while (this.awaiting && !this.call.ended) await this.nextChange();
    return this.current !== null && !this.call.ended;
  }

  /**
   * Sends the call through `[relay-resume]` so that it runs a fresh AGI session attached to this
   * call: an attached call leaves its session first (which stops an `EXEC`'d application: D3); a call
   * known through AMI only becomes controllable. `true` once attached. While the call is already on
   * its way back, this only waits (a stop retried sends no second Redirect).
   */
  async returnToAgi(options: LeaveOptions = {}): Promise<boolean> {
    const ami = this.call.requireAmi('Call.returnToAgi');
    if (this.call.ended) return false;
    if (this.current && !this.leaving) {
      await this.leave(RESUME_TARGET, options);
    } else if (!this.awaiting) {
      await this.writeOwner('Call.returnToAgi');
      this.startAway(options.resumeWithinMs);
      try {
        await ami.redirect(RESUME_TARGET);
      } catch (error) {
        this.clearAway();
        throw error;
      }
    }
    return this.reattached();
  }

  /** `RELAY_OWNER` is on the channel already (an Originate variable of a call this process placed). */
  ownerSet(): void {
    this.ownerWritten = true;
  }

  /**
   * Writes `RELAY_OWNER` (this process's FastAGI URL) on the channel, once per call: what
   * `[relay-resume]` reads to come back here. Over AMI, else through the attached session.
   */
  async writeOwner(method: string): Promise<void> {
    if (this.ownerWritten) return;
    const owner = this.call.runtime.requireOwner(method);
    if (this.call.ami) await this.call.ami.setVariable(RELAY_VARIABLES.owner, owner);
    else await this.require(method).setVariable(RELAY_VARIABLES.owner, owner);
    this.ownerWritten = true;
  }

  /**
   * The application is done with the call (or the call left agikit): the attached session's handler
   * ends it (rejecting with `error`, the application's failure, if given), and the call goes on in the
   * dialplan. A call that comes back after this is not attached.
   */
  release(error?: unknown): void {
    if (this.releasedValue) return;
    this.releasedValue = true;
    this.clearAway();
    const agi = this.current;
    if (error !== undefined && !agi) this.call.log.error({ err: error }, 'the application failed while the call was away from AGI');
    for (const [session, held] of this.holds) {
      if (session === agi && error !== undefined) held.reject(error);
      else held.resolve();
    }
    this.holds.clear();
    this.current = null;
    this.leaving = null;
    this.changed();
  }

  /** The call has ended: waiting stops; without an application, the session ends now. */
  callEnded(): void {
    this.clearAway();
    if (!this.applicationRuns) this.release();
    this.changed();
  }

  // ---------------------------------------------------------------------------------------------

  private resumeWithinMs: number | undefined;

  private async hungUp(agi: Agi): Promise<void> {
    if (this.current !== agi) return;
    if (this.leaving === agi) {
      this.goAway(agi);
      return;
    }
    let probe: HangupProbe | null = null;
    try {
      probe = parseHangupProbe(await agi.getFullVariable(HANGUP_PROBE_EXPRESSION, undefined, { timeoutMs: PROBE_TIMEOUT_MS }));
    } catch {
      // The session closed first: AMI (if any) or the default reason tells.
    }
    if (this.current !== agi) return;
    const { env } = agi;
    switch (classifyHangup({ context: env.context, extension: env.extension, priority: env.priority }, probe)) {
      case 'resume':
        this.call.log.info('the call was sent to [relay-resume] from outside agikit: it comes back');
        this.goAway(agi);
        return;
      case 'elsewhere':
        this.call.log.info({ to: `${probe?.context},${probe?.exten},${probe?.priority}` }, 'the call left AGI for another part of the dialplan: released');
        this.call.release();
        return;
      case 'hangup':
        this.call.advance('ending');
        this.call.endWith(probe?.cause ?? null);
        return;
      case 'unknown':
        this.call.advance('ending');
        if (this.call.ami?.following) this.endUnlessAmiTells();
        else this.call.endWith(null);
    }
  }

  /** The session was lost without a word: AMI's `Hangup` gives the cause, unless it does not come. */
  private endUnlessAmiTells(): void {
    const timer = setTimeout(() => {
      if (this.call.ended) return;
      this.call.log.warn(`the AGI session was lost and AMI did not report the hangup within ${LOST_SESSION_END_MS} ms`);
      this.call.endWith(null);
    }, LOST_SESSION_END_MS);
    timer.unref();
  }

  /** The session went away (Redirect, async goto): its handler ends it, and the call is expected back. */
  private goAway(agi: Agi): void {
    this.leaving = null;
    this.current = null;
    this.startAway(this.resumeWithinMs);
    this.resumeWithinMs = undefined;
    this.holds.get(agi)?.resolve();
    this.holds.delete(agi);
    this.call.log.debug('the call left its AGI session; expected back');
    this.changed();
  }

  private startAway(withinMs: number | undefined): void {
    this.clearAway();
    const ms = withinMs ?? this.call.runtime.resumeTimeoutMs;
    this.away = setTimeout(() => this.lost(ms), ms);
    this.away.unref();
  }

  private clearAway(): void {
    clearTimeout(this.away);
    this.away = undefined;
  }

  /** The call did not come back in time. */
  private lost(ms: number): void {
    this.away = undefined;
    if (this.call.ended || this.current) return;
    if (this.call.ami?.following) {
      this.call.log.warn(`the call did not come back to AGI within ${ms} ms: it is known through AMI only now`);
    } else {
      this.call.log.warn(`the call did not come back to AGI within ${ms} ms, and without AMI it cannot be followed: counted as ended`);
      this.call.endLost();
    }
    this.changed();
  }

  private letGo(agi: Agi): void {
    this.holds.get(agi)?.resolve();
    this.holds.delete(agi);
    if (this.current === agi) this.current = null;
    if (this.leaving === agi) this.leaving = null;
  }

  private notControllable(method: string, agi: Agi | null): CallNotControllableError {
    return new CallNotControllableError(method, this.call.ended || agi?.hangupReason ? 'ended' : 'no-agi');
  }

  private changed(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const wake of waiters) wake();
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  /** Waits until `condition` holds, re-checked at each change; `false` after `ms`. */
  private async changeWithin(condition: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await settledWithin(this.nextChange(), left);
    }
    return true;
  }
}
