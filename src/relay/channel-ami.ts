/**
 * {@link ChannelAmi}: everything a call does over AMI, in one place: its one event subscription
 * (`ami.channel(uniqueid)`, fanned out to the call's state and to components), and the actions on
 * its channel (Setvar/Getvar, PlayDTMF, ControlPlayback, MixMonitor, Redirect, Hangup). A call has
 * one as `call.ami` when its runtime has AMI. {@link callSignalOf} reads the call's state from its
 * events (pure).
 *
 * @module
 */

import type { AmiClient } from '../ami/client.js';
import type { AmiSubscription } from '../ami/demux.js';
import type { AmiMessage } from '../ami/message.js';
import { ChannelState } from '../agi/results.js';

/** What an AMI event says about the state of the call whose channel it is about. */
export type CallSignal =
  | { readonly state: 'created' | 'ringing' | 'answered' | 'ending' }
  | { readonly state: 'ended'; readonly cause: number | null };

/** The events {@link callSignalOf} reads. */
export const CALL_STATE_EVENTS: readonly string[] = ['Newchannel', 'Newstate', 'HangupRequest', 'SoftHangupRequest', 'Hangup'];

/**
 * The call state an AMI event reports about its own channel (`Uniqueid`), if any: `Newchannel` is
 * `created`; `Newstate` 4 (Ring) and 5 (Ringing) are `ringing`, 6 (Up) is `answered`;
 * `HangupRequest` and `SoftHangupRequest` are `ending` (a Redirect sends neither: it is no hangup);
 * `Hangup` is `ended`, with its Q.850 `Cause`.
 */
export function callSignalOf(event: AmiMessage): CallSignal | undefined {
  switch (event.get('Event')) {
    case 'Newchannel':
      return { state: 'created' };
    case 'Newstate': {
      const state = Number(event.get('ChannelState'));
      if (state === ChannelState.Up) return { state: 'answered' };
      if (state === ChannelState.Ring || state === ChannelState.Ringing) return { state: 'ringing' };
      return undefined;
    }
    case 'HangupRequest':
    case 'SoftHangupRequest':
      return { state: 'ending' };
    case 'Hangup': {
      const cause = Number.parseInt(event.get('Cause') ?? '', 10);
      return { state: 'ended', cause: Number.isNaN(cause) ? null : cause };
    }
    default:
      return undefined;
  }
}

/** A dialplan location (Redirect target). */
export interface DialplanTarget {
  readonly context: string;
  readonly exten: string;
  /** Default 1. */
  readonly priority?: number | string;
}

/** Receives a call's AMI events. */
export type CallEventListener = (event: AmiMessage) => void;

/** What a call's channel is known as, and where its events go. */
export interface ChannelOwner {
  /** The call's `Uniqueid`: what its subscription follows. */
  readonly id: string;
  /** The channel name, when known (else actions address the channel by `Uniqueid`). */
  readonly channel: string | undefined;
}

/**
 * AMI on one call's channel. The event subscription starts with {@link follow} (at the call's first
 * attach, or when a leg known through AMI only is tracked) and ends with {@link close} (the call
 * ended or was released): one subscription per call, whatever the number of listeners.
 */
export class ChannelAmi {
  private subscription: AmiSubscription | undefined;
  private closed = false;
  private readonly listeners = new Set<{ readonly names: ReadonlySet<string> | null; readonly listener: CallEventListener }>();

  constructor(
    /** The AMI client (shared by every call of the runtime). */
    readonly client: AmiClient,
    private readonly owner: ChannelOwner,
    /** Gets every event of the call's own channel (the call's state machine). */
    private readonly onOwnEvent: CallEventListener,
  ) {}

  /** `true` while the subscription runs. */
  get following(): boolean {
    return this.subscription?.active === true;
  }

  /** `true` while the AMI connection is up. */
  get connected(): boolean {
    return this.client.connected;
  }

  /** The `Channel:` of actions: the channel name, or the `Uniqueid` Asterisk also accepts. */
  get channel(): string {
    return this.owner.channel ?? this.owner.id;
  }

  /** Starts the call's subscription (once; not after {@link close}). */
  follow(): void {
    if (this.subscription || this.closed) return;
    this.subscription = this.client.channel(this.owner.id, (event) => this.dispatch(event));
  }

  /** Ends the subscription and drops the listeners. */
  close(): void {
    this.closed = true;
    this.subscription?.unsubscribe();
    this.listeners.clear();
  }

  /**
   * Calls `listener` with the call's events named in `names` (every event of the call with `null`):
   * those about its channel (`Uniqueid`) and those where it is the second channel (`DestUniqueid`
   * of `DialBegin`...). Returns the function that stops it. Starts the subscription if needed.
   */
  onEvents(names: readonly string[] | null, listener: CallEventListener): () => void {
    const entry = { names: names ? new Set(names) : null, listener };
    if (this.closed) return () => undefined;
    this.follow();
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  private dispatch(event: AmiMessage): void {
    if (event.get('Uniqueid') === this.owner.id) this.onOwnEvent(event);
    const name = event.get('Event') ?? '';
    if (this.listeners.size === 0) return;
    // A copy: a listener that subscribes again while called is not called twice for one event.
    for (const entry of [...this.listeners]) if (!entry.names || entry.names.has(name)) entry.listener(event);
  }

  // ---------------------------------------------------------------------------------------------
  // Actions

  /** Sets a channel variable or writes a dialplan function (`Setvar`), e.g. `VOLUME(TX)`, `TALK_DETECT(set)`. */
  async setVariable(name: string, value: string): Promise<void> {
    await this.client.action('Setvar', { Channel: this.channel, Variable: name, Value: value });
  }

  /** Reads a channel variable or dialplan function (`Getvar`); unset reads as `''`. */
  async getVariable(name: string): Promise<string> {
    const response = await this.client.action('Getvar', { Channel: this.channel, Variable: name });
    return response.get('Value') ?? '';
  }

  /** Has Asterisk act as if the channel received `digit` (`PlayDTMF`, `Receive: yes`): ends a `RECORD FILE` that has it as an escape digit. */
  async receiveDigit(digit: string, timeoutMs: number): Promise<void> {
    await this.client.playDtmf(this.channel, digit, { receive: true, timeoutMs });
  }

  /** Sends `digit` to the far end (`PlayDTMF`); resolves once Asterisk has sent the whole tone. */
  async sendDigit(digit: string, durationMs: number): Promise<void> {
    await this.client.playDtmf(this.channel, digit, { durationMs, timeoutMs: durationMs + 10_000 });
  }

  /** Controls what `CONTROL STREAM FILE` plays (`ControlPlayback`); AMI's `Success` does not say it took effect. */
  async controlPlayback(control: 'stop' | 'pause' | 'forward' | 'reverse' | 'restart'): Promise<void> {
    await this.client.action('ControlPlayback', { Channel: this.channel, Control: control });
  }

  /** Starts MixMonitor (action `MixMonitor`) and resolves with its id (the options must hold `i(<variable>)`). */
  async mixMonitor(file: string, options: string): Promise<string> {
    const response = await this.client.action('MixMonitor', { Channel: this.channel, File: file || undefined, Options: options });
    return response.get('MixMonitorID') ?? '';
  }

  /** Stops one MixMonitor (action `StopMixMonitor`); Asterisk has closed its file when this resolves. */
  async stopMixMonitor(id: string): Promise<void> {
    await this.client.action('StopMixMonitor', { Channel: this.channel, MixMonitorID: id || undefined });
  }

  /**
   * The number of the res_fax session running on the channel (`FAXSessions`, matched by channel
   * name), or `undefined` when there is none (yet) or the channel name is not known.
   */
  async faxSessionNumber(): Promise<string | undefined> {
    const name = this.owner.channel;
    if (name === undefined) return undefined;
    const list = await this.client.actionList('FAXSessions');
    return list.events.find((event) => event.get('Channel') === name)?.get('SessionNumber');
  }

  /** One res_fax session's details (`FAXSession`: state, rate, spandsp's page counters). */
  faxSession(sessionNumber: string): Promise<AmiMessage> {
    return this.client.actionEvent('FAXSession', { SessionNumber: sessionNumber }, 'FAXSession');
  }

  /** Sends the channel to a dialplan location (`Redirect`): its AGI session, if any, ends (D1). */
  async redirect(to: DialplanTarget): Promise<void> {
    await this.client.redirect(this.channel, to);
  }

  /** Hangs the channel up (`Hangup`) with a Q.850 cause. */
  async hangup(cause: number): Promise<void> {
    await this.client.action('Hangup', { Channel: this.channel, Cause: cause });
  }
}
