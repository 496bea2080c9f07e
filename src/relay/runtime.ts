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
import { Router, type AgiHandler } from '../server/router.js';
import { Call } from './call.js';
import { RelayCapabilityError } from './errors.js';

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
  private readonly calls = new Map<string, Call>();

  constructor(readonly options: RelayOptions = {}) {
    this.log = options.log ?? pino({ level: 'silent' });
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
   * Routes each context at `<prefix>/<context>` on `target` (a new {@link Router} by default, or a
   * FastAGI server): every session becomes a {@link Call} handed to `onIncomingCall`. A context not
   * listed is not routed (the dialplan sees `AGIKIT_STATUS=NOTFOUND`).
   */
  router<T extends RouteTarget = Router>(contexts: readonly string[], onIncomingCall: IncomingCallHandler, target: T = new Router() as unknown as T): T {
    const prefix = (this.options.routePrefix ?? '/relay').replace(/\/+$/, '');
    for (const context of contexts) {
      target.route(`${prefix}/${encodeURIComponent(context)}`, (agi) => this.serveInbound(agi, context, onIncomingCall));
    }
    return target;
  }

  /**
   * Runs one inbound session: makes its {@link Call} (state `created`, then `ringing` or `answered`
   * as the channel is), hands it to `onIncomingCall`, and keeps the session until the handler has
   * finished and no action of the call is still running, or the call has ended. Then the session
   * ends and the call goes back to the dialplan (where `[relay-inbound]` hangs up).
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
    call.advance('created');
    try {
      await call.refreshState();
      await onIncomingCall(call);
    } catch (error) {
      if (!call.ended && !agi.hangupReason) throw error;
      call.log.debug({ err: error }, 'onIncomingCall ended with the call');
    } finally {
      await Promise.race([call.lane.idle(), call.waitForEnded()]);
      call.detach(agi);
      // Released to the dialplan: this process no longer follows it.
      this.forget(call);
    }
  }
}
