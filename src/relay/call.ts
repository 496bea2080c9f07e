/**
 * {@link Call}: SignalWire Relay's `Relay.Calling.Call` on Asterisk. A call is keyed by the
 * channel's `Uniqueid`; an AGI session attaches to it and drives it (the foreground lane), AMI
 * (when given) watches it and does what AGI alone cannot.
 *
 * @module
 */

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Agi } from '../agi/agi.js';
import type { AmiMessage } from '../ami/message.js';
import { ChannelState } from '../agi/results.js';
import { AgiHangupError } from '../errors.js';
import { isNoSuchChannel } from '../ami/errors.js';
import { ChannelAmi, callSignalOf, type DialplanTarget } from './channel-ami.js';
import type { Action, MethodOptions } from './component.js';
import { connect, connectAsync, disconnect, type ConnectAction } from './connect.js';
import type { DeviceList } from './devices.js';
import { detect, detectAsync, type DetectAction } from './detect.js';
import { assertDialable, placeCall, DEFAULT_DIAL_TIMEOUT, type DialResult } from './dial.js';
import type { AmdParams, DetectParams, DigitDetectParams, FaxDetectParams } from './detect-options.js';
import { faxReceive, faxReceiveAsync, faxSend, faxSendAsync, type FaxAction } from './fax.js';
import type { FaxReceiveParams, FaxSendParams } from './fax-options.js';
import { CallNotControllableError, RelayCapabilityError } from './errors.js';
import type { CallEventName, CallEvents } from './events.js';
import { Lane } from './lane.js';
import type { Media } from './media-list.js';
import { playItems, startPlay, type PlayAction, type PlayOptions, type PlayRingtoneParams, type PlayTTSParams } from './play.js';
import type { PromptAudioOptions, PromptOptions, PromptRingtoneOptions, PromptTTSOptions } from './prompt-options.js';
import { audioPrompt, listPrompt, ringtonePrompt, startPrompt, ttsPrompt, type PromptAction } from './prompt.js';
import {
  hangupReasonFromCause,
  type AnswerResult,
  type ConnectResult,
  type DetectResult,
  type FaxResult,
  type HangupReason,
  type HangupResult,
  type PlayResult,
  type PromptResult,
  type RecordResult,
  type RelayEvent,
  type SendDigitsResult,
  type TapResult,
} from './results.js';
import type { RelayRuntime } from './runtime.js';
import { reached, statesBetween, unreachable, type CallState } from './state.js';
import { record, recordAsync, type RecordAction } from './record.js';
import type { RecordOptions } from './record-options.js';
import { sendDigits, sendDigitsAsync, type SendDigitsAction } from './send-digits.js';
import { CallSessions, RESUME_TARGET, type LeaveOptions } from './sessions.js';
import { tap, tapAsync, type TapAction } from './tap.js';
import { settledWithin } from './wait.js';
import type { TapParams } from './tap-params.js';

/** What a call is created with. */
export interface CallInit {
  /** The channel's `Uniqueid` (for calls agikit dials, the id it chose). */
  readonly id: string;
  /** The Relay context the call belongs to. */
  readonly context: string;
  readonly fromNumber: string;
  readonly toNumber: string;
  /** Seconds the call may ring (outbound), when known. */
  readonly timeout?: number;
  /** The channel name (`PJSIP/alice-00000001`), when known. */
  readonly channel?: string;
  /** `outbound` for a call this process places (`calling.newCall()`); default `inbound`. */
  readonly direction?: 'inbound' | 'outbound';
}

/** `CHANNEL(state)` values (Asterisk's `ast_state2str`) as channel states. */
const CHANNEL_STATE_NAMES: Readonly<Record<string, number>> = { Ring: ChannelState.Ring, Ringing: ChannelState.Ringing, Up: ChannelState.Up };

/** How long a hangup() of a channel already gone waits for its Hangup event before the call counts as ended (ms). */
const GONE_CHANNEL_END_MS = 5000;

/** Q.850 causes `hangup({ reason })` hangs up with. */
const CAUSE_OF_REASON: Readonly<Record<HangupReason, number>> = {
  hangup: 16,
  cancel: 16,
  busy: 17,
  noAnswer: 19,
  decline: 21,
  error: 41,
};

/**
 * A call, as Relay's `Call`: its properties, its state with `waitFor*`, events with the seed's names
 * (`call.on('answered', ...)`), and the methods that act on it. Inbound calls reach
 * `Consumer.onIncomingCall` attached to their AGI session.
 *
 * Every method takes `{ signal, queue, preempt }`: AGI runs one command at a time, so actions that
 * drive the call's AGI session take turns (`queue: false` refuses instead of waiting, `preempt: true`
 * stops the running one first); aborting `signal` stops the action. A method resolves with the
 * seed's result (`successful: false` when the call hung up under it); it throws only for what the
 * application must fix: a bad argument, or a capability this runtime was not given
 * ({@link RelayCapabilityError}).
 */
export class Call extends EventEmitter<CallEvents> {
  /** The channel's `Uniqueid`. */
  readonly id: string;
  /** `'sip'` when `toNumber` is a SIP URI, else `'phone'`. */
  readonly callType: 'phone' | 'sip';
  readonly fromNumber: string;
  readonly toNumber: string;
  /** Seconds the call may ring, when known. */
  readonly timeout: number | undefined;
  /** The Relay context (the route's context; `dialplanContext` is Asterisk's). */
  readonly context: string;
  /** `inbound` (it reached a consumer), or `outbound` (this process places it: {@link dial}). */
  readonly direction: 'inbound' | 'outbound';
  /** The foreground lane: what drives the AGI session takes turns here. */
  readonly lane = new Lane();
  /** The call's logger (bindings: `uniqueid`); made on first use: most calls never log. */
  get log(): Logger {
    this.logger ??= this.runtime.log.child({ uniqueid: this.id });
    return this.logger;
  }
  /**
   * AMI on the call's channel (its events and actions), when the runtime has AMI: the one place a
   * call's AMI goes through. `undefined` without AMI.
   */
  readonly ami: ChannelAmi | undefined;
  private readonly sessions: CallSessions;
  private stateValue: CallState = 'none';
  private prevStateValue: CallState = 'none';
  private channelName: string | undefined;
  private endReason: HangupReason | null = null;
  private hangingUpOurselves = false;
  private wasAnswered = false;
  private failedValue = false;
  private busyValue = false;
  /** An outbound call not dialed yet. */
  private dialable: boolean;
  /** While the Originate of an outbound call runs: its end is told by the Originate's outcome. */
  private dialing = false;
  /** The cause of a `Hangup` seen while dialing (`undefined`: none seen). */
  private heldEnd: number | null | undefined;
  /** Called when {@link heldEnd} is set (see {@link awaitHeldEnd}). */
  private heldEndArrived: (() => void) | undefined;
  private logger: Logger | undefined;

  constructor(
    /** The runtime the call belongs to (AMI, media, registry). */
    readonly runtime: RelayRuntime,
    init: CallInit,
  ) {
    super();
    this.id = init.id;
    this.context = init.context;
    this.fromNumber = init.fromNumber;
    this.toNumber = init.toNumber;
    this.timeout = init.timeout;
    this.channelName = init.channel;
    this.callType = /^sips?:/i.test(init.toNumber) ? 'sip' : 'phone';
    this.direction = init.direction ?? 'inbound';
    this.dialable = this.direction === 'outbound';
    this.sessions = new CallSessions(this);
    const ami = runtime.ami;
    this.ami = ami ? new ChannelAmi(ami, this, (event) => this.onOwnAmiEvent(event)) : undefined;
  }

  /** The current state. */
  get state(): CallState {
    return this.stateValue;
  }

  /** The state before the current one. */
  get prevState(): CallState {
    return this.prevStateValue;
  }

  /** `true` while the call is up (created and not yet ending). */
  get active(): boolean {
    return this.stateValue !== 'none' && !reached(this.stateValue, 'ending');
  }

  /** `true` once the call has ended. */
  get ended(): boolean {
    return this.stateValue === 'ended';
  }

  /** `true` once the call has been answered (it stays `true` after it ends). */
  get answered(): boolean {
    return this.wasAnswered;
  }

  /** `true` when the call failed (an outbound call that could not be placed). */
  get failed(): boolean {
    return this.failedValue;
  }

  /** `true` when the far end was busy. */
  get busy(): boolean {
    return this.busyValue;
  }

  /** Why the call ended, once it has (`null` before). */
  get hangupReason(): HangupReason | null {
    return this.endReason;
  }

  /** The channel name, when known (`agi_channel` of the attached session). */
  get channel(): string | undefined {
    return this.channelName;
  }

  /**
   * The attached AGI session, or `null` (ended, or a leg known through AMI only). An escape hatch:
   * commands sent on it do not wait for the call's lane.
   */
  get agi(): Agi | null {
    return this.sessions.agi;
  }

  /** The call's AMI for a method that needs it; throws {@link RelayCapabilityError} (`ami`) without. */
  requireAmi(method: string): ChannelAmi {
    if (!this.ami) throw new RelayCapabilityError('ami', method);
    return this.ami;
  }

  /** The attached session for a method that needs it; throws {@link CallNotControllableError} when there is none. */
  requireAgi(method: string): Agi {
    return this.sessions.require(method);
  }

  // ---------------------------------------------------------------------------------------------
  // State

  /**
   * Resolves `true` as soon as the call is in one of `states` (at once if it already is or has
   * passed it), and `false` if the call ends without getting there.
   */
  waitFor(...states: CallState[]): Promise<boolean> {
    const hit = (state: CallState): boolean => states.some((wanted) => reached(state, wanted));
    const lost = (state: CallState): boolean => states.every((wanted) => unreachable(state, wanted));
    if (hit(this.stateValue)) return Promise.resolve(true);
    if (lost(this.stateValue) || states.length === 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onChange = (state: CallState): void => {
        if (hit(state)) done(true);
        else if (lost(state)) done(false);
      };
      const done = (value: boolean): void => {
        this.off('stateChange', onChange);
        resolve(value);
      };
      this.on('stateChange', onChange);
    });
  }

  /** `waitFor('ringing')`. */
  waitForRinging(): Promise<boolean> {
    return this.waitFor('ringing');
  }

  /** `waitFor('answered')`. */
  waitForAnswered(): Promise<boolean> {
    return this.waitFor('answered');
  }

  /** `waitFor('ending')`. */
  waitForEnding(): Promise<boolean> {
    return this.waitFor('ending');
  }

  /** `waitFor('ended')`. */
  waitForEnded(): Promise<boolean> {
    return this.waitFor('ended');
  }

  // ---------------------------------------------------------------------------------------------
  // Answer and hang up

  /** Answers the call (`ANSWER`); successful also when it was already answered. */
  async answer(options: MethodOptions = {}): Promise<AnswerResult> {
    try {
      this.sessions.assertControllable('answer');
      await this.lane.run({ name: 'answer', stop: async () => undefined }, options, async () => {
        await (await this.agiForLane('answer')).answer({ signal: options.signal });
      });
    } catch (error) {
      if (error instanceof AgiHangupError || (error instanceof CallNotControllableError && error.why === 'ended')) return { successful: false, event: null };
      throw error;
    }
    this.markAnswered();
    return { successful: true, event: agiEvent('ANSWER') };
  }

  /**
   * Hangs the call up, with `reason`'s Q.850 cause (default `hangup`, cause 16), and resolves once
   * it has ended. It does not wait for the lane: whatever runs is stopped (over AMI when the call has
   * it, else by interrupting the running command).
   */
  async hangup(options: { reason?: HangupReason; signal?: AbortSignal } = {}): Promise<HangupResult> {
    const reason = options.reason ?? 'hangup';
    if (reached(this.stateValue, 'ending')) {
      await this.waitForEnded();
      return { successful: false, event: null, reason: this.endReason ?? reason };
    }
    this.hangingUpOurselves = true;
    const cause = CAUSE_OF_REASON[reason];
    try {
      if (this.ami) {
        await this.ami.hangup(cause);
      } else {
        const agi = this.requireAgi('hangup');
        void this.lane.holder?.stop();
        agi.interrupt();
        // The Hangup application takes the cause; the AGI HANGUP command cannot.
        await agi.exec('Hangup', String(cause)).catch((error: unknown) => {
          if (!(error instanceof AgiHangupError)) throw error;
        });
      }
    } catch (error) {
      this.hangingUpOurselves = false;
      if (error instanceof CallNotControllableError) return { successful: false, event: null, reason: this.endReason ?? reason };
      if (!isNoSuchChannel(error)) throw error;
      // The channel is gone already (e.g. the far end hung up): its Hangup event, which channel events
      // send through Stasis after action answers, is on its way; if it never comes, it ended anyway.
      this.advance('ending');
      if (!(await settledWithin(this.waitForEnded(), GONE_CHANNEL_END_MS))) this.endWith(null);
      return { successful: false, event: null, reason: this.endReason ?? reason };
    }
    this.endReason ??= reason;
    this.advance('ending');
    await this.waitForEnded();
    return { successful: true, event: { name: 'call.ended', payload: { cause } }, reason: this.endReason ?? reason };
  }

  // ---------------------------------------------------------------------------------------------
  // dial (dial.ts)

  /**
   * Places this outbound call (made with `calling.newCall()`) and resolves once the far end picked
   * up (`successful`; the call is `answered` and attached to its AGI session, ready to play) or once
   * it did not: busy (`busy`, reason `busy`), no answer within `timeout` (reason `noAnswer`), or it
   * failed (`failed`, reason `error`); the call has ended then. Events: `created`, `ringing`,
   * `answered` (or `ending`, `ended`). Needs AMI and a FastAGI address (a running consumer, or a
   * connected client). See docs/relay-calling.md.
   *
   * @throws RelayError when the call is not a new outbound call (an inbound call, or dialed before)
   * @throws RelayCapabilityError without AMI or a FastAGI address
   */
  async dial(): Promise<DialResult> {
    assertDialable(this, this.dialable);
    this.dialable = false;
    this.runtime.track(this);
    return placeCall(this, { type: 'phone', toNumber: this.toNumber, fromNumber: this.fromNumber, timeout: this.timeout ?? DEFAULT_DIAL_TIMEOUT });
  }

  /**
   * The Originate runs (with `RELAY_OWNER` among its variables, so no Redirect of this call needs to
   * write it): a `Hangup` now is held until its outcome says why the call failed.
   */
  startDialing(): void {
    this.dialing = true;
    this.sessions.ownerSet();
  }

  /**
   * The Originate was answered: a held `Hangup` ends the call now; else its AGI session (from
   * `[relay-dial]`) is expected within `sessionWithinMs`.
   */
  dialAnswered(sessionWithinMs: number): void {
    this.dialing = false;
    this.markAnswered();
    if (this.heldEnd !== undefined) this.endWith(this.heldEnd);
    else if (!this.agi) this.sessions.expect(sessionWithinMs);
  }

  /**
   * Resolves once the channel's `Hangup` was held while dialing, or after `withinMs`. AMI sends
   * channel events through Stasis and the Originate's answer directly, so that answer can come
   * before the `Hangup` whose cause says why the call failed.
   */
  async awaitHeldEnd(withinMs: number): Promise<void> {
    if (this.heldEnd !== undefined) return;
    await settledWithin(new Promise<void>((resolve) => (this.heldEndArrived = resolve)), withinMs);
    this.heldEndArrived = undefined;
  }

  /**
   * The Originate was not answered: the call has ended, with the reason `reasonOf` gives from the
   * cause of the `Hangup` held meanwhile (the Originate's outcome knows better than that cause alone).
   * `failed` when it could not be placed or was refused (`error`, `decline`).
   */
  endUnanswered(reasonOf: (cause: number | null | undefined) => HangupReason): void {
    this.dialing = false;
    if (this.ended) return;
    const reason = reasonOf(this.heldEnd);
    // A hangup() while it rang keeps its own reason.
    this.endReason = this.hangingUpOurselves ? (this.endReason ?? reason) : reason;
    this.busyValue = this.endReason === 'busy';
    this.failedValue = this.endReason === 'error' || this.endReason === 'decline';
    this.advance('ended');
  }

  // ---------------------------------------------------------------------------------------------
  // play (play.ts)

  /**
   * Plays a media list (`audio`, `tts`, `silence`, `ringtone` items) and resolves once it has ended:
   * successful when every item played to its end. See {@link playAsync} for the mechanism.
   *
   * @throws RelayArgumentError for a bad list or volume, RelayCapabilityError when an item needs a
   *   TTS provider or media directory the runtime lacks, CallBusyError with `queue: false`
   */
  async play(mediaList: readonly Media[], options: PlayOptions = {}): Promise<PlayResult> {
    return (await this.playAsync(mediaList, options)).done;
  }

  /**
   * Starts playing a media list and returns its {@link PlayAction} (`stop`, `pause`, `resume`,
   * `volume`, `state`, `completed`, `result`, `done`). Items play one after the other on the call's
   * AGI session: files with `STREAM FILE` (with AMI: `CONTROL STREAM FILE`, so that they can be
   * paused), ringtones with `PlayTones`; `volume` (dB) is the channel's `VOLUME(TX)` while it plays.
   * Events: `play.stateChange`, `play.playing`, `play.paused`, `play.error`, `play.finished`.
   */
  playAsync(mediaList: readonly Media[], options: PlayOptions = {}): Promise<PlayAction> {
    return startPlay(this, mediaList, options, 'play');
  }

  /** Plays one audio file: an `http(s)` URL (fetched into the media directory), a file, or an Asterisk sound name. */
  async playAudio(url: string, options: PlayOptions = {}): Promise<PlayResult> {
    return (await this.playAudioAsync(url, options)).done;
  }

  /** {@link playAudio}, returning its {@link PlayAction}. */
  playAudioAsync(url: string, options: PlayOptions = {}): Promise<PlayAction> {
    return startPlay(this, playItems.audio(url), options, 'playAudio');
  }

  /** Speaks `text` with the runtime's text to speech provider. */
  async playTTS(tts: PlayTTSParams, options: PlayOptions = {}): Promise<PlayResult> {
    return (await this.playTTSAsync(tts, options)).done;
  }

  /** {@link playTTS}, returning its {@link PlayAction}. */
  playTTSAsync(tts: PlayTTSParams, options: PlayOptions = {}): Promise<PlayAction> {
    return startPlay(this, playItems.tts(tts), options, 'playTTS');
  }

  /** Plays `duration` seconds of silence (real silent frames). */
  async playSilence(duration: number, options: PlayOptions = {}): Promise<PlayResult> {
    return (await this.playSilenceAsync(duration, options)).done;
  }

  /** {@link playSilence}, returning its {@link PlayAction}. */
  playSilenceAsync(duration: number, options: PlayOptions = {}): Promise<PlayAction> {
    return startPlay(this, playItems.silence(duration), options, 'playSilence');
  }

  /** Plays one of the 39 ringtones for `duration` seconds (default one ring cadence). */
  async playRingtone(ringtone: PlayRingtoneParams, options: PlayOptions = {}): Promise<PlayResult> {
    return (await this.playRingtoneAsync(ringtone, options)).done;
  }

  /** {@link playRingtone}, returning its {@link PlayAction}. */
  playRingtoneAsync(ringtone: PlayRingtoneParams, options: PlayOptions = {}): Promise<PlayAction> {
    return startPlay(this, playItems.ringtone(ringtone), options, 'playRingtone');
  }

  // ---------------------------------------------------------------------------------------------
  // prompt (prompt.ts)

  /**
   * Plays `mediaList` while collecting digits or speech (`promptType` `digits`, `speech` or `both`)
   * and resolves once input was collected or a timeout hit: `{ successful, type, result, terminator,
   * confidence }`. The first key stops the media and counts as the first digit; then
   * `initialTimeout` (default 4 s) runs for the first key, `digitsTimeout` (default 1 s) for each
   * next one, until a key in `digitsTerminators` or `digitsMax` digits. Speech needs a
   * `SpeechRecognizer` (`RelayOptions.speech`). See docs/relay-prompt.md.
   *
   * @throws RelayArgumentError for bad parameters or media (nothing is played)
   * @throws RelayCapabilityError for a speech prompt without a recognizer or media directory, or TTS without a provider
   */
  async prompt(params: PromptOptions, options: MethodOptions = {}): Promise<PromptResult> {
    return (await this.promptAsync(params, options)).done;
  }

  /** {@link prompt}, returning the {@link PromptAction} once the prompt has started. */
  promptAsync(params: PromptOptions, options: MethodOptions = {}): Promise<PromptAction> {
    return startPrompt(this, 'prompt', ...listPrompt(params), options);
  }

  /** {@link prompt} with one audio item: a file, a sound name, or an `http(s)` URL (`url`). */
  async promptAudio(params: PromptAudioOptions, options: MethodOptions = {}): Promise<PromptResult> {
    return (await this.promptAudioAsync(params, options)).done;
  }

  /** {@link promptAudio}, returning the {@link PromptAction}. */
  promptAudioAsync(params: PromptAudioOptions, options: MethodOptions = {}): Promise<PromptAction> {
    return startPrompt(this, 'promptAudio', ...audioPrompt(params), options);
  }

  /** {@link prompt} speaking `text` (with `language`, `gender`) through the runtime's TTS provider. */
  async promptTTS(params: PromptTTSOptions, options: MethodOptions = {}): Promise<PromptResult> {
    return (await this.promptTTSAsync(params, options)).done;
  }

  /** {@link promptTTS}, returning the {@link PromptAction}. */
  promptTTSAsync(params: PromptTTSOptions, options: MethodOptions = {}): Promise<PromptAction> {
    return startPrompt(this, 'promptTTS', ...ttsPrompt(params), options);
  }

  /** {@link prompt} playing the ringtone `name` for `duration` seconds (default one cadence). */
  async promptRingtone(params: PromptRingtoneOptions, options: MethodOptions = {}): Promise<PromptResult> {
    return (await this.promptRingtoneAsync(params, options)).done;
  }

  /** {@link promptRingtone}, returning the {@link PromptAction}. */
  promptRingtoneAsync(params: PromptRingtoneOptions, options: MethodOptions = {}): Promise<PromptAction> {
    return startPrompt(this, 'promptRingtone', ...ringtonePrompt(params), options);
  }

  // ---------------------------------------------------------------------------------------------
  // record (record.ts)

  /**
   * Records the call into the media directory and resolves once the recording has ended, with its
   * `url` (`file://`), `duration` (s) and `size` (bytes). `successful` is `true` when there is a
   * recording: ended by silence, a terminator, `stop`/`signal`, or the call hanging up; `false` (and
   * the `record.no_input` event) when nothing was heard within `initialTimeout`.
   *
   * A mono recording of the caller (`direction: 'speak'`, the default) is a `RECORD FILE` that holds
   * the call's lane; `listen`, `both` and `stereo` are a `MixMonitor`, which leaves the lane free
   * (the call can play meanwhile). See {@link RecordOptions} and docs/relay-record.md.
   *
   * @throws RelayArgumentError for a bad option
   * @throws RelayCapabilityError without a media directory, for `mp3` without `lame`, or for a
   *   `signal` on a `RECORD FILE` without AMI
   */
  record(options: RecordOptions = {}): Promise<RecordResult> {
    return record(this, options);
  }

  /**
   * Starts a recording (see {@link record}) and returns its {@link RecordAction} (`stop()`, `state`,
   * `completed`, `result`, `done`, `url`).
   *
   * @throws as {@link record}
   */
  recordAsync(options: RecordOptions = {}): Promise<RecordAction> {
    return recordAsync(this, options);
  }

  // ---------------------------------------------------------------------------------------------
  // sendDigits (send-digits.ts)

  /**
   * Sends DTMF to the far end and resolves once every digit has gone out: `0-9 * # A-D`, `w` a
   * 0.5 s pause, `W` a 1 s pause. Over AMI (`PlayDTMF`) when the call has it, else `SendDTMF` in the
   * call's lane. `successful` is `false` when it was stopped or the call hung up first.
   *
   * @throws RelayArgumentError naming the first invalid character; nothing is sent then
   */
  sendDigits(digits: string, options: MethodOptions = {}): Promise<SendDigitsResult> {
    return sendDigits(this, digits, options);
  }

  /**
   * Starts sending DTMF (see {@link sendDigits}) and returns its {@link SendDigitsAction}; `stop()`
   * takes effect before the next digit.
   *
   * @throws as {@link sendDigits}
   */
  sendDigitsAsync(digits: string, options: MethodOptions = {}): Promise<SendDigitsAction> {
    return sendDigitsAsync(this, digits, options);
  }

  // ---------------------------------------------------------------------------------------------
  // AGI sessions (sessions.ts): a call is not an AGI session (D1)

  /**
   * Takes the call out of its AGI session with an AMI Redirect to `to` (default `[relay-resume]`,
   * which brings it straight back on a new session) and resolves once the old session has let go.
   * Whatever ran on that session ends (an `EXEC`'d application returns); no `ending` is emitted.
   * The call is expected back through `[relay-resume]` (`RELAY_OWNER` is written on the channel
   * first) within `resumeWithinMs` (default: the runtime's `resumeTimeoutMs`); meanwhile methods
   * that need AGI wait for it. See {@link reattached}.
   *
   * @throws RelayCapabilityError without AMI (or, for `[relay-resume]`, without a FastAGI address)
   * @throws CallNotControllableError when the call has no session to leave
   */
  leaveAgi(to: DialplanTarget = RESUME_TARGET, options: LeaveOptions = {}): Promise<void> {
    return this.sessions.leave(to, options);
  }

  /**
   * Resolves `true` once the call has an AGI session again after it left one (at once when it has
   * one), `false` when it ends or does not come back in time.
   */
  reattached(): Promise<boolean> {
    return this.sessions.reattached();
  }

  /**
   * Sends the call through `[relay-resume]` so that it runs a fresh AGI session attached to this
   * call, and resolves `true` once it does: for an attached call this stops whatever its session
   * runs, even an `EXEC`'d application (D3); a call known through AMI only (`agi === null`) becomes
   * controllable. `false` when it ends or does not come back in time.
   *
   * @throws RelayCapabilityError without AMI or a FastAGI address
   */
  returnToAgi(options: LeaveOptions = {}): Promise<boolean> {
    return this.sessions.returnToAgi(options);
  }

  /**
   * Writes `RELAY_OWNER` (this process's FastAGI URL, see `RelayRuntime.owner`) on the channel, once
   * per call: for components that arm an async goto into `[relay-resume]` themselves (a fax-detect
   * goto). {@link leaveAgi} and {@link returnToAgi} do it for their own Redirects.
   *
   * @throws RelayCapabilityError when the runtime has no FastAGI address
   */
  writeOwner(method = 'Call.writeOwner'): Promise<void> {
    return this.sessions.writeOwner(method);
  }

  // ---------------------------------------------------------------------------------------------
  // connect (connect.ts)

  /**
   * Bridges the call to a new outbound call: devices are tried in series, a nested array is a group
   * rung in parallel (`[a, [b, c], d]`); each device is `{ type: 'phone', params: { toNumber,
   * fromNumber?, timeout? } }` or the shorthand `{ toNumber, fromNumber?, timeout? }`, turned into a
   * dial string by the runtime's `resolveDevice`. Resolves once a device answered (`successful`,
   * `call` = the remote leg, bridged with this call) or none did. While bridged the call's lane is
   * held; when the remote party hangs up (or is disconnected) `connect.disconnected` is emitted and
   * the call is free again. Without AMI it resolves only once the bridge has ended, with no remote
   * `Call`. See docs/relay-connect.md.
   *
   * @throws RelayArgumentError for a bad device list
   * @throws RelayCapabilityError for a `signal` without AMI
   * @throws CallBusyError with `queue: false` while the lane is held
   */
  connect(devices: DeviceList, options: MethodOptions = {}): Promise<ConnectResult> {
    return connect(this, devices, options);
  }

  /**
   * Starts a connect (see {@link connect}) and returns its {@link ConnectAction} (`stop()`, `state`,
   * `completed`, `result`, `done`). Events: `connect.stateChange`, `connect.connecting`,
   * `connect.connected`, `connect.failed`, `connect.disconnected`.
   *
   * @throws as {@link connect}
   */
  connectAsync(devices: DeviceList, options: MethodOptions = {}): Promise<ConnectAction> {
    return connectAsync(this, devices, options);
  }

  /**
   * Ends the bridge of a connected connect and keeps both legs up: the remote leg (the connect's
   * `result.call`) comes back on an AGI session of its own and can be driven like any call (play,
   * prompt...; it is yours to hang up), and this call is free again. `false` when nothing is
   * connected.
   *
   * @throws RelayCapabilityError without AMI or this process's FastAGI address
   */
  disconnect(): Promise<{ successful: boolean }> {
    return disconnect(this);
  }

  // ---------------------------------------------------------------------------------------------
  // tap (tap.ts)

  /**
   * Streams the call's audio to an RTP receiver (`targetType: 'rtp'`, `targetAddr`, `targetPort`) or
   * a WebSocket server (`'ws'`, `targetUri`) and resolves once the tap has ended: stopped (`signal`),
   * the call ended, or the target went away. `audioDirection`: `listen` (what the caller hears),
   * `speak` (what the caller says), `both`. `codec` `PCMU` (default) or `PCMA`; `targetPtime` is
   * honoured except for RTP of `speak`/`both`, which Asterisk sends in 20 ms packets (the result's
   * `destinationDevice` says what was used). Needs AMI; `listen` also a media directory on the
   * Asterisk machine. See docs/relay-tap.md.
   *
   * @throws RelayArgumentError for bad parameters
   * @throws RelayCapabilityError without AMI, for `listen` without a media directory, for `ws` without a WebSocket client
   */
  tap(params: TapParams, options: MethodOptions = {}): Promise<TapResult> {
    return tap(this, params, options);
  }

  /**
   * Starts a tap (see {@link tap}) and returns its {@link TapAction} (`stop()`, `state`, `completed`,
   * `result`, `done`, `sourceDevice`). Events: `tap.tapping` once audio flows, `tap.finished`.
   *
   * @throws as {@link tap}
   */
  tapAsync(params: TapParams, options: MethodOptions = {}): Promise<TapAction> {
    return tapAsync(this, params, options);
  }

  // ---------------------------------------------------------------------------------------------
  // detect (detect.ts)

  /**
   * Runs a detector (`detectType` `machine`, `digit` or `fax`, with that detector's parameters) and
   * resolves with its {@link DetectResult} once it has ended: a digit detector with the first digit,
   * the others with their verdict or tone, or at `timeout`. See the helpers for each type, and
   * docs/relay-detect.md for the mechanisms and limits.
   *
   * @throws RelayArgumentError for bad parameters
   * @throws RelayCapabilityError for a `signal` on a detector nothing can stop (an `EXEC`'d AMD, or a fax tone without AMI)
   * @throws CallBusyError with `queue: false` when the detector needs the call's lane and something holds it
   */
  detect(params: DetectParams, options: MethodOptions = {}): Promise<DetectResult> {
    return detect(this, 'detect', params, options);
  }

  /**
   * Starts a detector (see {@link detect}) and returns its {@link DetectAction}. A digit detector
   * collects every digit (one `detect.update` each) until its `timeout` or `stop()`.
   *
   * @throws as {@link detect}
   */
  detectAsync(params: DetectParams, options: MethodOptions = {}): Promise<DetectAction> {
    return detectAsync(this, 'detectAsync', params, options);
  }

  /**
   * Answering-machine detection (Asterisk's `AMD()` on the call, in its lane): resolves with
   * `MACHINE`, `HUMAN` or `UNKNOWN` (`detect.update` with it). With `waitForBeep`, a `MACHINE` is
   * followed by a wait for the machine's beep (a 1 kHz tone: an approximation, Asterisk has no
   * beep detector) and `detect.update` `READY`; the result stays `MACHINE`, successful once `READY`
   * came. Defaults (seconds): `timeout` 30, `initialTimeout` 4.5, `endSilenceTimeout` 1,
   * `machineVoiceThreshold` 1.25, `machineWordsThreshold` 6 words.
   *
   * @throws as {@link detect}
   */
  detectAnsweringMachine(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectResult> {
    return detect(this, 'detectAnsweringMachine', { ...params, detectType: 'machine' }, options);
  }

  /**
   * {@link detectAnsweringMachine}, returning its {@link DetectAction}. AMD runs in the call's lane
   * (other actions on the call's AGI wait for it), and `stop()` cannot interrupt it over AGI.
   *
   * @throws as {@link detect}
   */
  detectAnsweringMachineAsync(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectAction> {
    return detectAsync(this, 'detectAnsweringMachineAsync', { ...params, detectType: 'machine' }, options);
  }

  /** Alias of {@link detectAnsweringMachine}. */
  amd(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectResult> {
    return detect(this, 'amd', { ...params, detectType: 'machine' }, options);
  }

  /** Alias of {@link detectAnsweringMachineAsync}. */
  amdAsync(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectAction> {
    return detectAsync(this, 'amdAsync', { ...params, detectType: 'machine' }, options);
  }

  /** {@link detectAnsweringMachine}, successful only when the verdict is `HUMAN` (the JS SDK's helper). */
  detectHuman(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectResult> {
    return detect(this, 'detectHuman', { ...params, detectType: 'machine' }, options, 'HUMAN');
  }

  /** {@link detectHuman}, returning its {@link DetectAction}. */
  detectHumanAsync(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectAction> {
    return detectAsync(this, 'detectHumanAsync', { ...params, detectType: 'machine' }, options, 'HUMAN');
  }

  /** {@link detectAnsweringMachine}, successful only when the verdict is `MACHINE` (the JS SDK's helper). */
  detectMachine(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectResult> {
    return detect(this, 'detectMachine', { ...params, detectType: 'machine' }, options, 'MACHINE');
  }

  /** {@link detectMachine}, returning its {@link DetectAction}. */
  detectMachineAsync(params: AmdParams = {}, options: MethodOptions = {}): Promise<DetectAction> {
    return detectAsync(this, 'detectMachineAsync', { ...params, detectType: 'machine' }, options, 'MACHINE');
  }

  /**
   * Waits for a DTMF digit from the caller among `digits` (default `0123456789#*`) and resolves with
   * it (`detect.update` with it), or unsuccessful at `timeout` (default 30 s). With AMI it listens to
   * the channel's `DTMFEnd` events and leaves the call's lane free (the call can play meanwhile);
   * without, it is a `WAIT FOR DIGIT` loop in the lane.
   *
   * @throws as {@link detect}
   */
  detectDigit(params: DigitDetectParams = {}, options: MethodOptions = {}): Promise<DetectResult> {
    return detect(this, 'detectDigit', { ...params, detectType: 'digit' }, options);
  }

  /**
   * Starts a digit detector (see {@link detectDigit}) that collects every digit among `digits`, one
   * `detect.update` each, until its `timeout` or `stop()`: the result is the digits in order.
   *
   * @throws as {@link detect}
   */
  detectDigitAsync(params: DigitDetectParams = {}, options: MethodOptions = {}): Promise<DetectAction> {
    return detectAsync(this, 'detectDigitAsync', { ...params, detectType: 'digit' }, options);
  }

  /**
   * Waits for a fax tone from the far end: `CED` (2100 Hz, the default) or `CNG` (1100 Hz), and
   * resolves with it (`detect.update` with it), or unsuccessful at `timeout` (default 30 s). With AMI
   * a `TONE_DETECT` detector on the channel, polled, leaves the call's lane free; without, it is
   * `WaitForTone` in the lane.
   *
   * @throws as {@link detect}
   */
  detectFax(params: FaxDetectParams = {}, options: MethodOptions = {}): Promise<DetectResult> {
    return detect(this, 'detectFax', { ...params, detectType: 'fax' }, options);
  }

  /** {@link detectFax}, returning its {@link DetectAction}. */
  detectFaxAsync(params: FaxDetectParams = {}, options: MethodOptions = {}): Promise<DetectAction> {
    return detectAsync(this, 'detectFaxAsync', { ...params, detectType: 'fax' }, options);
  }

  // ---------------------------------------------------------------------------------------------
  // fax (fax.ts)

  /**
   * Sends a fax (res_fax `SendFAX` in the call's lane) and resolves once it has ended, successful
   * when res_fax reports `FAXSTATUS` `SUCCESS`. `document` is an `http(s)` URL, a `file://` URL or a
   * path: a PDF (converted to a fax TIFF with ghostscript) or a fax TIFF; it is made ready in the
   * media directory first, and nothing is sent when that fails. `identity` is this side's station
   * id, `header` the line printed on each page. Events: `fax.stateChange`, `fax.page` (pages done,
   * with AMI), `fax.finished` / `fax.error`. See docs/relay-fax.md.
   *
   * @throws RelayArgumentError for a missing document, one that is neither a PDF nor a fax TIFF, or a bad identity/header
   * @throws RelayCapabilityError without a media directory; for a PDF without ghostscript; for a `signal` without AMI
   * @throws CallNotControllableError when the call has no AGI session
   * @throws CallBusyError with `queue: false` when something holds the call's lane
   */
  faxSend(params: FaxSendParams, options: MethodOptions = {}): Promise<FaxResult> {
    return faxSend(this, params, options);
  }

  /**
   * Starts sending a fax (see {@link faxSend}) and returns its {@link FaxAction} (`stop()`, needing
   * AMI: a Redirect ends `SendFAX` and brings the call back to AGI).
   *
   * @throws as {@link faxSend}
   */
  faxSendAsync(params: FaxSendParams, options: MethodOptions = {}): Promise<FaxAction> {
    return faxSendAsync(this, params, options);
  }

  /**
   * Receives a fax (res_fax `ReceiveFAX` in the call's lane) into `<media directory>/faxes/<controlId>.tif`
   * and resolves once it has ended: `document` is that file's `file://` URL, `pages` the pages
   * received. `identity` (agikit's addition) is the station id this side answers with.
   *
   * @throws RelayArgumentError for a bad identity
   * @throws RelayCapabilityError without a media directory; for a `signal` without AMI
   * @throws CallNotControllableError when the call has no AGI session
   * @throws CallBusyError with `queue: false` when something holds the call's lane
   */
  faxReceive(params: FaxReceiveParams = {}, options: MethodOptions = {}): Promise<FaxResult> {
    return faxReceive(this, params, options);
  }

  /**
   * Starts receiving a fax (see {@link faxReceive}) and returns its {@link FaxAction}.
   *
   * @throws as {@link faxReceive}
   */
  faxReceiveAsync(params: FaxReceiveParams = {}, options: MethodOptions = {}): Promise<FaxAction> {
    return faxReceiveAsync(this, params, options);
  }

  // ---------------------------------------------------------------------------------------------
  // For the runtime and components

  /**
   * Attaches an AGI session (the inbound one, one that came back through `[relay-resume]`, or the
   * first one of an outbound call): methods run on it, and its hangup is followed. `false` (nothing
   * attached) when the call has ended or was released.
   */
  attach(agi: Agi): boolean {
    if (!this.sessions.attach(agi)) return false;
    this.channelName = agi.env.channel;
    this.ami?.follow();
    return true;
  }

  /** Resolves when the route handler of `agi` should end that session (see `CallSessions.done`). */
  sessionDone(agi: Agi): Promise<void> {
    return this.sessions.done(agi);
  }

  /**
   * The session a component drives the call with, holding the lane: the attached one, or, while the
   * call is away from AGI, the one it comes back on.
   *
   * @throws CallNotControllableError when there is none (ended, or known through AMI only)
   */
  agiForLane(method: string): Promise<Agi> {
    return this.sessions.forLane(method);
  }

  /** Throws {@link CallNotControllableError} (`no-agi`) when the call has no AGI session and expects none (a leg known through AMI only). */
  assertControllable(method: string): void {
    this.sessions.assertControllable(method);
  }

  /** An application runs the call: it calls {@link release} when done (sessions are held until then). */
  applicationStarted(): void {
    this.sessions.applicationStarted();
  }

  /**
   * Releases the call to the dialplan: the attached session ends (its handler rejects with `error`,
   * the application's failure, when given) and this process stops following the call.
   */
  release(error?: unknown): void {
    this.sessions.release(error);
    this.ami?.close();
    this.runtime.forget(this);
  }

  /** Starts following the call over AMI (a leg known through AMI only; attached calls follow from their first attach). */
  follow(): void {
    this.ami?.follow();
  }

  /** Moves the state forward to `state`, emitting every step (see {@link statesBetween}). */
  advance(state: CallState): void {
    for (const next of statesBetween(this.stateValue, state)) {
      this.prevStateValue = this.stateValue;
      this.stateValue = next;
      if (next === 'answered') this.wasAnswered = true;
      this.fire('stateChange', next, this.prevStateValue);
      if (next !== 'none') this.fire(next);
      if (next === 'ended') {
        this.ami?.close();
        this.runtime.forget(this);
        this.sessions.callEnded();
      }
    }
  }

  /** The call was answered (by us, or seen so). */
  markAnswered(): void {
    this.advance('answered');
  }

  /**
   * The call has ended with this Q.850 cause (`null`: unknown); while it is being dialed, the end is
   * held until the Originate's outcome says why (see {@link endUnanswered}, {@link dialAnswered}).
   */
  endWith(cause: number | null): void {
    if (this.ended) return;
    if (this.dialing) {
      this.heldEnd = cause;
      this.heldEndArrived?.();
      return;
    }
    if (!this.hangingUpOurselves) {
      this.endReason = hangupReasonFromCause(cause, this.wasAnswered);
      if (cause === 17) this.busyValue = true;
    }
    this.advance('ended');
  }

  /** The call was lost (it left AGI, did not come back, and cannot be followed): ended, reason `error`. */
  endLost(): void {
    if (this.ended) return;
    this.endReason ??= 'error';
    this.advance('ended');
  }

  /**
   * Reads the channel state: from the attached session (`CHANNEL STATUS`), else over AMI
   * (`CHANNEL(state)`). Ring/Ringing is `ringing`, Up is `answered`.
   */
  async refreshState(): Promise<void> {
    const agi = this.agi;
    let state: number;
    if (agi || !this.ami) state = await this.requireAgi('state').channelStatus();
    else state = CHANNEL_STATE_NAMES[await this.ami.getVariable('CHANNEL(state)')] ?? ChannelState.Down;
    if (state === ChannelState.Up) this.advance('answered');
    else if (state === ChannelState.Ring || state === ChannelState.Ringing) this.advance('ringing');
  }

  /** An AMI event about the call's own channel: its state (see `callSignalOf`). */
  private onOwnAmiEvent(event: AmiMessage): void {
    const signal = callSignalOf(event);
    if (!signal) return;
    if (signal.state === 'ended') this.endWith(signal.cause);
    else this.advance(signal.state);
  }

  /** Emits an event; a listener that throws is logged, never breaks the call. */
  fire<K extends CallEventName>(event: K, ...args: CallEvents[K]): void {
    try {
      (this.emit as (event: string, ...rest: unknown[]) => boolean)(event, ...args);
    } catch (error) {
      this.log.error({ err: error, event }, 'a call event listener threw');
    }
  }

  /**
   * Emits an action's event (`play.finished`...) with its action. Takes any action: a component's
   * handle is typed by its base class, its listeners by {@link CallEvents}.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fireAction(event: CallEventName, action: Action<any, any> | undefined): void {
    if (action) (this.fire as (event: string, ...rest: unknown[]) => void)(event, action);
  }
}

/** The event of an AGI command's reply. */
export function agiEvent(command: string, payload: Record<string, unknown> = {}): RelayEvent {
  return { name: 'agi.reply', payload: { command, ...payload } };
}
