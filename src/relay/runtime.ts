/**
 * {@link RelayRuntime}: what the calls of one Relay process share: the AMI connection (optional),
 * the media settings, the speech recognizer, the logger, and the registry of calls by `Uniqueid`.
 * A {@link Consumer} makes one; it turns FastAGI sessions into {@link Call}s.
 *
 * @module
 */

import { pino, type Logger } from 'pino';
import type { Agi } from '../agi/agi.js';
import type { AmiClient } from '../ami/client.js';
import type { MediaOptions } from '../media/options.js';
import { AgiHangupError } from '../errors.js';
import { Router, type AgiHandler } from '../server/router.js';
import { Call, type CallInit } from './call.js';
import { defaultDeviceResolver, type DeviceResolver, type PhoneDevice } from './devices.js';
import { RELAY_ROUTES } from './dialplan.js';
import { RelayCapabilityError, RelayError } from './errors.js';
import { HelperChannels, type HelperChannel, type HelperOptions } from './helper.js';

/** A speech-to-text engine for speech prompts: gets the caller's recorded speech as a WAV file. */
export interface SpeechRecognizer {
  /** Text and confidence (0..1) of the speech in `wavPath`, or `null` when nothing was recognised. */
  recognize(wavPath: string, options: { readonly language: string; readonly hints: readonly string[] }): Promise<{ text: string; confidence: number } | null>;
}

/** What a Relay runtime is given. Everything is optional; methods that need a missing piece say so. */
export interface RelayOptions {
  /**
   * A logged-in AMI connection, receiving events (`call,dtmf,user,agi`). Needed for what AGI alone
   * cannot do: a second action while one runs, pause/resume/volume of a running play, stopping a
   * recording; without it those methods throw {@link RelayCapabilityError} and the AGI-only subset
   * keeps working.
   */
  ami?: AmiClient;
  /** Media directory shared with Asterisk, text to speech (see `MediaOptions`). */
  media?: MediaOptions;
  /** Speech-to-text for speech prompts. */
  speech?: SpeechRecognizer;
  /** Logger; each call gets a child carrying its `uniqueid`. */
  log?: Logger;
  /** Path prefix of the FastAGI routes (default `/relay`): a context is served at `<prefix>/<context>`. */
  routePrefix?: string;
  /**
   * This process's FastAGI URL as Asterisk reaches it (`agi://10.0.0.5:4573`): what `RELAY_OWNER`
   * is set to, so that a call leaving AGI comes back here. A {@link Consumer} sets it once it
   * listens ({@link RelayRuntime.setOwner}).
   */
  owner?: string;
  /**
   * How long a call that left its AGI session (a Redirect) may take to come back through
   * `[relay-resume]` before it counts as lost (default 10,000 ms).
   */
  resumeTimeoutMs?: number;
  /**
   * Turns a device (`toNumber`, `fromNumber`, `timeout`) into the Asterisk dial string that
   * `connect()` rings and `calling.dial()` / `call.dial()` originate, e.g.
   * ``(d) => `PJSIP/${d.toNumber}@trunk` ``. Default: `Local/<toNumber>@relay-outbound/n`, a context
   * of your dialplan (see `defaultDeviceResolver`).
   */
  resolveDevice?: DeviceResolver;
  /**
   * Opens a FastAGI listener for this runtime on first need and resolves with its owner URL (a
   * connected {@link Client} passes one: it listens only once it dials). Unused when {@link owner} is known.
   */
  openOwner?: () => Promise<string>;
}

/** What routes can be added to: a {@link Router}, or a `FastAgiServer` made without one. */
export interface RouteTarget {
  route(pattern: string, handler: AgiHandler): unknown;
}

/** Called with each inbound call once it is attached (the Consumer's `onIncomingCall`). */
export type IncomingCallHandler = (call: Call) => Promise<void> | void;

/** The calls of one Relay process, and what they share. */
export class RelayRuntime {
  readonly log: Logger;
  /** Helper ("spy") channels being placed, and their sessions (D4). */
  readonly helpers = new HelperChannels(this);
  private readonly calls = new Map<string, Call>();
  private ownerValue: string | undefined;

  constructor(readonly options: RelayOptions = {}) {
    this.log = options.log ?? pino({ level: 'silent' });
    this.ownerValue = options.owner;
  }

  /** `RELAY_OWNER`: this process's FastAGI URL, once known (see {@link RelayOptions.owner}). */
  get owner(): string | undefined {
    return this.ownerValue;
  }

  /** Sets {@link owner} (a Consumer does, once it listens). */
  setOwner(url: string): void {
    this.ownerValue = url;
  }

  /** {@link owner} for a method that needs it; throws {@link RelayCapabilityError} (`agi-server`) while unknown. */
  requireOwner(method: string): string {
    if (this.ownerValue === undefined) throw new RelayCapabilityError('agi-server', method);
    return this.ownerValue;
  }

  /**
   * {@link owner}, opening the listener first when it is unknown and the runtime can
   * ({@link RelayOptions.openOwner}, once).
   *
   * @throws RelayCapabilityError (`agi-server`) when there is none and none can be opened
   */
  async obtainOwner(method: string): Promise<string> {
    const open = this.options.openOwner;
    if (this.ownerValue === undefined && open) {
      this.ownerOpening ??= open().then(
        (url) => {
          this.ownerValue ??= url;
        },
        (error: unknown) => {
          // The next call may try again (e.g. once the port is free).
          this.ownerOpening = undefined;
          throw error;
        },
      );
      await this.ownerOpening;
    }
    return this.requireOwner(method);
  }

  private ownerOpening: Promise<void> | undefined;

  /** See {@link RelayOptions.resumeTimeoutMs}. */
  get resumeTimeoutMs(): number {
    return this.options.resumeTimeoutMs ?? 10_000;
  }

  /** The AMI connection, if one was given. */
  get ami(): AmiClient | undefined {
    return this.options.ami;
  }

  /** The media settings (empty when none were given). */
  get media(): MediaOptions {
    return this.options.media ?? {};
  }

  /** The AMI connection for a method that needs it; throws {@link RelayCapabilityError} without one. */
  requireAmi(method: string): AmiClient {
    const ami = this.options.ami;
    if (!ami) throw new RelayCapabilityError('ami', method);
    return ami;
  }

  /** The live call with this `Uniqueid`, if this process holds it. */
  call(id: string): Call | undefined {
    return this.calls.get(id);
  }

  /** How many calls this process holds. */
  get size(): number {
    return this.calls.size;
  }

  /** Drops an ended call from the registry (the Call calls it). */
  forget(call: Call): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
  }

  /**
   * A {@link Call} for a channel this process knows through AMI only: a channel it originates (make
   * it before the `Originate`, with the `ChannelId` as `id`, so that no event is missed), or the
   * remote leg of a connect. It follows the channel's AMI events (state, `Hangup`); it has no AGI
   * session (`agi === null`, and methods that need one throw `CallNotControllableError('no-agi')`)
   * until one attaches: through `[relay-dial]` (`/relay/dialed`) or `[relay-resume]` (e.g.
   * {@link Call.returnToAgi}). Returns the call already held for that `Uniqueid`, if any.
   *
   * @throws RelayCapabilityError without AMI
   */
  trackCall(init: CallInit): Call {
    this.requireAmi('trackCall');
    return this.calls.get(init.id) ?? this.track(new Call(this, init));
  }

  /**
   * Registers `call` (made but not held yet: an outbound call about to be dialed) and follows it over
   * AMI, as {@link trackCall} does.
   *
   * @throws RelayCapabilityError without AMI
   * @throws RelayError when another call holds its id
   */
  track(call: Call): Call {
    this.requireAmi('trackCall');
    const known = this.calls.get(call.id);
    if (known && known !== call) throw new RelayError(`a call with the id ${call.id} is held already`);
    this.calls.set(call.id, call);
    call.follow();
    return call;
  }

  /**
   * The dial string of a device (`connect()`, outbound calls): {@link RelayOptions.resolveDevice},
   * else `Local/<toNumber>@relay-outbound/n` (see `defaultDeviceResolver`).
   */
  resolveDevice(device: PhoneDevice): string {
    return (this.options.resolveDevice ?? defaultDeviceResolver)(device);
  }

  /**
   * Places a helper ("spy") channel that hears `call`'s far party, with an AGI session of its own,
   * and resolves with it once that session has arrived (see {@link HelperChannel}).
   *
   * @throws RelayCapabilityError without AMI or a FastAGI address ({@link owner})
   * @throws CallNotControllableError when the call is not up
   * @throws RelayError when Asterisk could not place it in time
   */
  helperChannel(call: Call, options: HelperOptions = {}): Promise<HelperChannel> {
    return this.helpers.open(call, options);
  }

  /**
   * Routes each context at `<prefix>/<context>` on `target` (a new {@link Router} by default, or a
   * FastAGI server): every session becomes a {@link Call} handed to `onIncomingCall`. A context not
   * listed is not routed (the dialplan sees `AGIKIT_STATUS=NOTFOUND`). Also routes the runtime's own
   * `<prefix>/resume` and `<prefix>/dialed` (a session attached to the call it belongs to, by
   * `agi_uniqueid`) and `<prefix>/helper` (helper channels).
   */
  router<T extends RouteTarget = Router>(contexts: readonly string[], onIncomingCall: IncomingCallHandler, target: T = new Router() as unknown as T): T {
    const prefix = (this.options.routePrefix ?? '/relay').replace(/\/+$/, '');
    for (const context of contexts) {
      target.route(`${prefix}/${encodeURIComponent(context)}`, (agi) => this.serveInbound(agi, context, onIncomingCall));
    }
    target.route(`${prefix}/${RELAY_ROUTES.resume}`, (agi) => this.serveAttach(agi));
    target.route(`${prefix}/${RELAY_ROUTES.dialed}`, (agi) => this.serveAttach(agi));
    target.route(`${prefix}/${RELAY_ROUTES.helper}`, (agi) => this.helpers.serve(agi));
    return target;
  }

  /**
   * Runs one inbound session: makes its {@link Call} (state `created`, then `ringing` or `answered`
   * as the channel is), runs `onIncomingCall` on it, and keeps the session until the handler has
   * finished and no action of the call is still running, or the call has ended. The call may leave
   * this session meanwhile (a Redirect) and come back on another: the application runs on. When it
   * is done, the session the call has then ends and the call goes back to the dialplan (where
   * `[relay-inbound]` and `[relay-resume]` hang up).
   */
  async serveInbound(agi: Agi, context: string, onIncomingCall: IncomingCallHandler): Promise<void> {
    const env = agi.env;
    const call = new Call(this, {
      id: env.uniqueid,
      context,
      fromNumber: env.callerid ?? '',
      toNumber: env.dnid ?? env.extension,
      channel: env.channel,
    });
    this.calls.set(call.id, call);
    call.attach(agi);
    call.applicationStarted();
    call.advance('created');
    const done = call.sessionDone(agi);
    void this.runApplication(call, onIncomingCall);
    await done;
  }

  /** Runs the application on an inbound call, then releases the call (with the application's failure, if any). */
  private async runApplication(call: Call, onIncomingCall: IncomingCallHandler): Promise<void> {
    let failure: unknown;
    try {
      await call.refreshState();
      await onIncomingCall(call);
    } catch (error) {
      if (call.ended || !call.active || error instanceof AgiHangupError) call.log.debug({ err: error }, 'onIncomingCall ended with the call');
      else failure = error;
    }
    // Usually the lane is idle by now: no wait (and no state listener) then.
    if (call.lane.busy) await Promise.race([call.lane.idle(), call.waitForEnded()]);
    // Released to the dialplan: this process no longer follows it.
    call.release(failure);
  }

  /**
   * `/relay/resume` and `/relay/dialed`: a session of a call this process holds (by
   * `agi_uniqueid`), attached to it and kept until the call is done with it. A session of a call
   * not held here (released, or owned by nobody here) ends at once, and the dialplan hangs it up.
   */
  private async serveAttach(agi: Agi): Promise<void> {
    const call = this.calls.get(agi.env.uniqueid);
    if (!call?.attach(agi)) {
      this.log.warn({ uniqueid: agi.env.uniqueid, path: agi.path }, 'an AGI session for a call this process does not hold: ended');
      return;
    }
    call.log.debug({ path: agi.path }, 'AGI session attached');
    await call.sessionDone(agi);
  }
}
