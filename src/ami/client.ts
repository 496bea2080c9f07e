/**
 * A client for the Asterisk Manager Interface (AMI): login, actions correlated with their responses
 * by `ActionID`, event lists, events (globally and per channel), and a connection that comes back by
 * itself. agikit uses it for what a FastAGI connection cannot do while a command runs, such as
 * stopping a `RECORD FILE` ({@link AmiClient.playDtmf} with `receive`), and the Relay layer for call
 * control; it stays a general client.
 *
 * ```ts
 * const ami = await AmiClient.connect({ port: 5038, username: 'agikit', secret: 's3cret', events: 'call,user' });
 * const pong = await ami.action('Ping');
 * const sub = ami.channel(uniqueid, (event) => console.log(event.get('Event')));  // one channel's events
 * ami.on('event', (event) => console.log(event.get('Event')));                   // every event
 * sub.unsubscribe();
 * await ami.close();
 * ```
 *
 * Connection policy:
 * - The first connect must succeed ({@link AmiClient.connect} rejects), so a wrong port or secret
 *   shows at start-up. After that a lost connection (closed, reset, unanswered keep-alive Ping, input
 *   beyond the limits) is re-established with jittered exponential backoff, logging in again with
 *   the same event mask. `disconnected`, `reconnecting` and `connected` report it.
 * - Actions that were on a lost connection reject with {@link AmiConnectionLostError}; they are
 *   never resent (an `Originate` must not run twice).
 * - Actions issued while disconnected wait for the connection, within their own deadline (counted
 *   from the call), and are then sent once; a deadline that passes first rejects with
 *   {@link AmiTimeoutError} (`sent: false`: it certainly did not run). A closed client rejects at
 *   once with {@link AmiClosedError}.
 * - Events that happen while disconnected are lost (AMI does not replay them): on `connected`, ask
 *   Asterisk for the state you need (`Status`, `CoreShowChannels`).
 *
 * Asterisk side (manager.conf): `enabled = yes`, a `bindaddr`/`port`, and a user whose `read`
 * classes cover the events wanted and whose `write` classes allow the actions used (`call` for
 * PlayDTMF, Redirect, Setvar, Getvar, Hangup; `originate` for Originate).
 *
 * @module
 */

import { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';
import { ActionTable, type AmiEventListResult, type Completion } from './actions.js';
import { AmiConnection } from './connection.js';
import { EventDemux, type AmiEventListener, type AmiSubscribeOptions, type AmiSubscription } from './demux.js';
import { AmiClosedError, AmiConnectError, AmiConnectionLostError, AmiError, AmiLoginError, AmiTimeoutError } from './errors.js';
import { DEFAULT_AMI_INPUT_LIMITS, type AmiInputLimits } from './framer.js';
import type { AmiFields, AmiMessage } from './message.js';
import { backoffDelay, eventMask, reconnectPolicy, type AmiActionOptions, type AmiClientOptions, type ReconnectPolicy } from './options.js';
import { originateDeadlineMs, originateFields, originateResult, type AmiOriginateOptions, type AmiOriginateResult } from './originate.js';

/** Payload of the `connected` event. */
export interface AmiConnectedInfo {
  /** The greeting line. */
  banner: string;
  /** `false` for the first connection, `true` after a reconnect. */
  reconnected: boolean;
}

/** Payload of the `reconnecting` event. */
export interface AmiReconnectingInfo {
  /** 1 for the first attempt after a loss, then 2, 3, ... */
  attempt: number;
  /** Delay before this attempt. */
  delayMs: number;
  /** Why the connection was lost, or why the previous attempt failed. */
  error: AmiError;
}

/** Counts of what the client holds, for observability and leak checks. */
export interface AmiClientStats {
  /** Actions sent and not yet finished. */
  pendingActions: number;
  /** Actions waiting for a connection. */
  queuedActions: number;
  /** Distinct uniqueids with a channel subscription. */
  channelSubscriptions: number;
  /** Distinct linkedids with a linked subscription. */
  linkedSubscriptions: number;
  /** Bytes buffered for the message being read. */
  bufferedBytes: number;
}

/** `connected`: logged in; `reconnecting`: lost, trying again; `closed`: finished for good. */
export type AmiClientState = 'connected' | 'reconnecting' | 'closed';

/**
 * An AMI session that reconnects by itself. Events:
 * - `event` ({@link AmiMessage}): every event that is not part of an action's event list;
 * - `connected` ({@link AmiConnectedInfo}): logged in (again);
 * - `disconnected` ({@link AmiError}): the connection was lost; reconnecting follows unless it is off;
 * - `reconnecting` ({@link AmiReconnectingInfo}): an attempt is scheduled;
 * - `close` ({@link AmiError} or `undefined`): once, when the client is finished ({@link close},
 *   reconnecting off or given up).
 */
export class AmiClient extends EventEmitter {
  /** The greeting line of the current (or last) connection, e.g. `Asterisk Call Manager/11.0.0`. */
  banner = '';
  private readonly log: Logger;
  private readonly demux: EventDemux;
  private readonly limits: AmiInputLimits;
  private readonly policy: ReconnectPolicy | undefined;
  private readonly actionTimeoutMs: number;
  private current: AmiConnection | undefined;
  private connecting: AmiConnection | undefined;
  private clientState: AmiClientState = 'reconnecting';
  private closeReason: AmiError | undefined;
  private everConnected = false;
  private eventMask: string;
  private readonly actions = new ActionTable();
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingInFlight = false;
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: AmiClientOptions) {
    super();
    this.log = (options.logger ?? pino()).child({ ami: `${options.host ?? '127.0.0.1'}:${options.port ?? 5038}` });
    this.limits = { ...DEFAULT_AMI_INPUT_LIMITS, ...options.limits };
    this.policy = reconnectPolicy(options.reconnect);
    this.actionTimeoutMs = options.actionTimeoutMs ?? 10_000;
    this.eventMask = eventMask(options.events ?? false);
    this.demux = new EventDemux((error, event) =>
      this.log.error({ err: error, event: event.get('Event') }, 'AMI event listener threw; the other listeners still got the event'),
    );
  }

  /**
   * Connects and logs in. Rejects with {@link AmiConnectError} (refused, no greeting, too slow) or
   * {@link AmiLoginError} (bad credentials); later losses are reconnected by the client.
   */
  static async connect(options: AmiClientOptions): Promise<AmiClient> {
    const client = new AmiClient(options);
    try {
      await client.establish();
    } catch (error) {
      client.finish(error as AmiError, false);
      throw error;
    }
    return client;
  }

  /** `true` while logged in. */
  get connected(): boolean {
    return this.clientState === 'connected';
  }

  /** Where the client is in its life. */
  get state(): AmiClientState {
    return this.clientState;
  }

  /** What the client holds right now: actions in flight or waiting, subscriptions, buffered input. */
  get stats(): AmiClientStats {
    const demux = this.demux.stats;
    return {
      pendingActions: this.actions.sentCount,
      queuedActions: this.actions.queuedCount,
      channelSubscriptions: demux.channels,
      linkedSubscriptions: demux.linked,
      bufferedBytes: this.current?.bufferedBytes ?? 0,
    };
  }

  /**
   * Sends an action and resolves with its response. Rejects with {@link AmiActionError} on
   * `Response: Error`, and otherwise as described in the module documentation.
   */
  action(name: string, fields: AmiFields = {}, options: AmiActionOptions = {}): Promise<AmiMessage> {
    return this.submit(name, fields, { kind: 'response' }, options.timeoutMs ?? this.actionTimeoutMs);
  }

  /**
   * Sends an action answered by an event list (`Status`, `CoreShowChannels`, …) and resolves once the
   * list is complete. The list's events do not reach `event` listeners or subscriptions.
   */
  actionList(name: string, fields: AmiFields = {}, options: AmiActionOptions = {}): Promise<AmiEventListResult> {
    return this.submit(name, fields, { kind: 'list', events: [] }, options.timeoutMs ?? this.actionTimeoutMs);
  }

  /**
   * Sends an action answered by a response and then one event named `event` (`FAXSession`, ...),
   * matched by ActionID, and resolves with that event. Rejects as {@link action} does.
   */
  async actionEvent(name: string, fields: AmiFields, event: string, options: AmiActionOptions = {}): Promise<AmiMessage> {
    const done = await this.submit<{ response: AmiMessage; event: AmiMessage }>(name, fields, { kind: 'event', event }, options.timeoutMs ?? this.actionTimeoutMs);
    return done.event;
  }

  /**
   * Subscribes to one channel's events: those whose `Uniqueid` is `uniqueid`, and two-channel events
   * (Dial*) whose `DestUniqueid` is. O(1) per event whatever the number of subscriptions. Needs an
   * event mask that includes the classes wanted (`events: 'call,dtmf,user,agi'`). Unsubscribe (or
   * pass `signal`) when the call is over: the subscription is freed then, not before.
   */
  channel(uniqueid: string, listener: AmiEventListener, options?: AmiSubscribeOptions): AmiSubscription {
    return this.demux.channel(uniqueid, listener, options);
  }

  /** Subscribes to the events of every channel whose `Linkedid` is `linkedid` (a whole call chain). */
  linked(linkedid: string, listener: AmiEventListener, options?: AmiSubscribeOptions): AmiSubscription {
    return this.demux.linked(linkedid, listener, options);
  }

  /** Changes the event mask (`Events` action: `true`, `false` or a class list); kept for re-logins. */
  async setEvents(events: boolean | string, options: AmiActionOptions = {}): Promise<void> {
    const mask = eventMask(events);
    await this.action('Events', { EventMask: mask }, options);
    this.eventMask = mask;
  }

  /**
   * Places a call (`Originate`, always asynchronous) and resolves with its outcome, the
   * `OriginateResponse` event: answered, busy, no answer, ... (a failed call resolves with
   * `success: false` and its `reason`). Rejects with {@link AmiActionError} when Asterisk refuses
   * the action itself. Default deadline: the ring time plus `actionTimeoutMs`.
   */
  originate(originate: AmiOriginateOptions, options: AmiActionOptions = {}): Promise<AmiOriginateResult> {
    const timeoutMs = options.timeoutMs ?? originateDeadlineMs(originate, this.actionTimeoutMs);
    const done = this.submit<{ response: AmiMessage; event: AmiMessage }>('Originate', originateFields(originate), { kind: 'event', event: 'OriginateResponse' }, timeoutMs);
    return done.then(({ response, event }) => originateResult(response, event));
  }

  /** Sends a channel (by name or uniqueid) to a dialplan location (`Redirect`); priority default 1. */
  async redirect(channel: string, to: { context: string; exten: string; priority?: number | string }, options: AmiActionOptions = {}): Promise<void> {
    await this.action('Redirect', { Channel: channel, Context: to.context, Exten: to.exten, Priority: to.priority ?? 1 }, options);
  }

  /** Sets a channel variable or function (`Setvar`); without a channel, a global variable. */
  async setVariable(channel: string | undefined, name: string, value: string, options: AmiActionOptions = {}): Promise<void> {
    await this.action('Setvar', { Channel: channel, Variable: name, Value: value }, options);
  }

  /** Reads a channel variable or function (`Getvar`); without a channel, a global one. Unset reads as `''`. */
  async getVariable(channel: string | undefined, name: string, options: AmiActionOptions = {}): Promise<string> {
    const response = await this.action('Getvar', { Channel: channel, Variable: name }, options);
    return response.get('Value') ?? '';
  }

  /** Hangs up a channel (`Hangup`), with a Q.850 cause if given. */
  async hangup(channel: string, options: { cause?: number } & AmiActionOptions = {}): Promise<void> {
    await this.action('Hangup', { Channel: channel, Cause: options.cause }, options);
  }

  /**
   * Plays one DTMF digit on a channel (`PlayDTMF`). With `receive: true` Asterisk queues the digit
   * on the channel as if the caller had pressed it, so whatever the channel is running (a
   * `RECORD FILE` with that escape digit, `WAIT FOR DIGIT`) sees it; otherwise the digit is sent to
   * the caller.
   */
  async playDtmf(channel: string, digit: string, options: { receive?: boolean; durationMs?: number } & AmiActionOptions = {}): Promise<void> {
    await this.action(
      'PlayDTMF',
      { Channel: channel, Digit: digit, Duration: options.durationMs, Receive: options.receive ? 'yes' : undefined },
      options,
    );
  }

  /**
   * Stops reconnecting, logs off (answers to earlier actions still arrive first) and closes. Actions
   * still unfinished then reject with {@link AmiClosedError}.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    if (this.clientState === 'closed') return;
    const connection = this.current;
    this.finish(undefined, false);
    if (connection) {
      try {
        await this.sendOn(connection, 'Logoff', {}, 1000);
      } catch {
        // Closing anyway.
      }
      this.actions.rejectSent((entry) => new AmiClosedError(entry.name, true));
      await connection.shutdown(new AmiError('AMI client closed'), 1000);
    }
    this.announce('close', undefined);
  }

  // --- Actions and input ----------------------------------------------------------------------

  private submit<T>(name: string, fields: AmiFields, completion: Completion, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.clientState === 'closed') return reject(new AmiClosedError(name, false, this.closeReason));
      const entry = this.actions.create(name, fields, completion, timeoutMs, resolve as (value: unknown) => void, reject);
      if (!entry) return;
      if (this.current) this.current.write(this.actions.send(entry, this.current));
      else this.actions.queue(entry);
    });
  }

  /** Sends on a given connection, queue and state notwithstanding (login, logoff, keep-alive). */
  private sendOn<T>(connection: AmiConnection, name: string, fields: AmiFields, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = this.actions.create(name, fields, { kind: 'response' }, timeoutMs, resolve as (value: unknown) => void, reject);
      if (entry) connection.write(this.actions.send(entry, connection));
    });
  }

  private readonly onMessage = (_connection: AmiConnection, message: AmiMessage): void => {
    const kind = message.kind;
    if (kind === 'response') {
      if (!this.actions.response(message)) this.log.debug({ actionId: message.get('ActionID') }, 'AMI response to no pending action (late, or not ours) ignored');
      return;
    }
    if (kind !== 'event') return void this.log.debug({ fields: message.toObject() }, 'AMI message that is neither response nor event ignored');
    if (this.actions.event(message)) return;
    this.announce('event', message);
    this.demux.dispatch(message);
  };

  /** Emits; a listener that throws is logged and harms neither the client nor its connection. */
  private announce(name: 'event' | 'connected' | 'disconnected' | 'reconnecting' | 'close', value: unknown): void {
    try {
      this.emit(name, value);
    } catch (error) {
      this.log.error({ err: error, event: name }, `AMI '${name}' listener threw`);
    }
  }

  // --- Connection lifecycle --------------------------------------------------------------------

  /** Opens a connection and logs in on it; on success it becomes the current one. */
  private async establish(): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    const connection = new AmiConnection({
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port ?? 5038,
      limits: this.limits,
      onMessage: this.onMessage,
      onClose: this.onClose,
    });
    this.connecting = connection;
    try {
      const banner = await connection.greeting(timeoutMs);
      await this.sendOn(connection, 'Login', { Username: this.options.username, Secret: this.options.secret, Events: this.eventMask }, Math.max(1, deadline - Date.now())).catch(
        (error: unknown) => {
          if (error instanceof AmiLoginError) throw error;
          const why = error instanceof AmiTimeoutError ? `no answer to Login within ${timeoutMs} ms` : (error as Error).message;
          throw new AmiConnectError(`AMI login at ${connection.address} failed: ${why}`);
        },
      );
      this.banner = banner;
    } catch (error) {
      connection.destroy(error as AmiError);
      throw error;
    } finally {
      if (this.connecting === connection) this.connecting = undefined;
    }
    if (this.clientState === 'closed') {
      connection.destroy(new AmiError('AMI client closed'));
      return;
    }
    this.current = connection;
    this.clientState = 'connected';
    this.attempt = 0;
    this.startPing(connection);
    for (const entry of this.actions.dequeueAll()) connection.write(this.actions.send(entry, connection));
    this.log.info({ banner: this.banner, reconnected: this.everConnected }, 'AMI connected');
    this.announce('connected', { banner: this.banner, reconnected: this.everConnected } satisfies AmiConnectedInfo);
    this.everConnected = true;
  }

  private readonly onClose = (connection: AmiConnection, error: AmiError): void => {
    this.actions.rejectSent((entry) => new AmiConnectionLostError(entry.name, entry.response !== undefined, error), connection);
    if (connection !== this.current) return;
    this.current = undefined;
    this.stopPing();
    if (this.clientState === 'closed') return;
    this.log.warn({ err: error }, 'AMI connection lost');
    this.announce('disconnected', error);
    if (this.policy) this.scheduleReconnect(error);
    else this.finish(error, true);
  };

  private scheduleReconnect(error: AmiError): void {
    const policy = this.policy as ReconnectPolicy;
    this.clientState = 'reconnecting';
    this.attempt += 1;
    if (this.attempt > policy.maxAttempts) {
      this.log.error({ err: error, attempts: policy.maxAttempts }, 'AMI reconnecting given up');
      return this.finish(error, true);
    }
    const delayMs = backoffDelay(this.attempt, policy);
    this.log.info({ attempt: this.attempt, delayMs, reason: error.message }, 'AMI reconnecting');
    this.announce('reconnecting', { attempt: this.attempt, delayMs, error } satisfies AmiReconnectingInfo);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.establish().catch((failure: unknown) => {
        if (this.clientState !== 'closed') this.scheduleReconnect(failure instanceof AmiError ? failure : new AmiError(String(failure)));
      });
    }, delayMs);
  }

  /** Ends the client: no more reconnects, waiting actions rejected, `close` emitted (if `announce`). */
  private finish(reason: AmiError | undefined, announce: boolean): void {
    if (this.clientState === 'closed') return;
    this.clientState = 'closed';
    this.closeReason = reason;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopPing();
    this.connecting?.destroy(new AmiError('AMI client closed'));
    this.actions.rejectQueued((entry) => new AmiClosedError(entry.name, false, reason));
    if (reason) this.actions.rejectSent((entry) => new AmiClosedError(entry.name, true, reason));
    if (announce) this.announce('close', reason);
  }

  private startPing(connection: AmiConnection): void {
    const intervalMs = this.options.pingIntervalMs ?? 20_000;
    if (intervalMs <= 0) return;
    this.pingTimer = setInterval(() => {
      if (this.pingInFlight) return;
      this.pingInFlight = true;
      this.sendOn(connection, 'Ping', {}, this.actionTimeoutMs)
        .catch((error: unknown) => {
          if (error instanceof AmiTimeoutError) connection.destroy(new AmiError(`AMI keep-alive Ping unanswered for ${this.actionTimeoutMs} ms`));
        })
        .finally(() => {
          this.pingInFlight = false;
        });
    }, intervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.pingInFlight = false;
  }
}
