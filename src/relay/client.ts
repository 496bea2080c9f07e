/**
 * {@link Client}: SignalWire Relay's `Relay.Client` on Asterisk: the connection a script or a web
 * app uses for outbound requests (calls it places, messages it sends, tasks it delivers), without
 * serving contexts the way a {@link Consumer} does. A consumer has one too, as `consumer.client`,
 * sharing the consumer's AMI connection and calls.
 *
 * @module
 */

import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { pino, type Logger } from 'pino';
import { AmiClient } from '../ami/client.js';
import { FastAgiServer } from '../server/fastagi-server.js';
import { Calling } from './calling.js';
import type { RelayConnection } from './consumer.js';
import { ownerUrl } from './dialplan.js';
import { RelayError } from './errors.js';
import { Messaging } from './messaging.js';
import { RelayRuntime } from './runtime.js';
import { Task } from './task.js';

/** AMI event classes the Relay layer listens to. */
export const RELAY_AMI_EVENTS = 'call,dtmf,user,agi';

/** What a {@link Client} is made with: the seed's `project` and `token`, and where Asterisk is. */
export interface ClientOptions extends RelayConnection {
  /** The Relay project: a namespace (AMI action ids, task keys). */
  project: string;
  /** The Relay token: the shared secret of task delivery. */
  token: string;
}

/** Events of a {@link Client}. */
export interface ClientEvents {
  /** Connected: every method can be used now. */
  ready: [client: Client];
  /** The client was disconnected ({@link Client.disconnect}). */
  disconnected: [client: Client];
}

/**
 * A Relay client: `connect()`, then `on('ready')`, then its services (`calling`, `messaging`,
 * `tasking`), then `disconnect()`.
 *
 * ```ts
 * const client = new Client({ project: 'acme', token: process.env.RELAY_TOKEN!, ami: { host: '127.0.0.1', username: 'relay', secret: '…' } });
 * client.on('ready', async () => { … });
 * await client.connect();
 * ```
 */
export class Client extends EventEmitter<ClientEvents> {
  readonly project: string;
  readonly token: string;
  private runtimeValue: RelayRuntime | undefined;
  private ownAmi: AmiClient | undefined;
  private ownServer: FastAgiServer | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: ClientOptions) {
    super();
    this.project = options.project;
    this.token = options.token;
  }

  /**
   * A client over a running consumer's runtime (its AMI and calls): what `consumer.client` is.
   * Connected from the start; `disconnect()` leaves the consumer's connections alone.
   */
  static over(runtime: RelayRuntime, options: ClientOptions): Client {
    const client = new Client(options);
    client.runtimeValue = runtime;
    return client;
  }

  /** `true` once connected, until disconnected. */
  get connected(): boolean {
    return this.runtimeValue !== undefined;
  }

  /** The runtime of a connected client; throws before `connect()`. */
  get runtime(): RelayRuntime {
    if (!this.runtimeValue) throw new RelayError('the Relay client is not connected: await client.connect() first');
    return this.runtimeValue;
  }

  /**
   * Connects: logs in to AMI when options for it were given (asking for the events the Relay layer
   * needs), then emits `ready`. A second call returns the first one's promise. The first dial opens
   * the client's own FastAGI listener (`agi.host`, default 127.0.0.1; `agi.port`, default an
   * ephemeral port; `agi.advertise` as for a consumer): the calls it dials come back there
   * (`RELAY_OWNER`).
   */
  connect(): Promise<void> {
    this.connecting ??= (async () => {
      const ami = this.options.ami;
      const client = ami instanceof AmiClient ? ami : ami ? await AmiClient.connect({ ...ami, events: ami.events ?? RELAY_AMI_EVENTS }) : undefined;
      if (ami !== undefined && !(ami instanceof AmiClient)) this.ownAmi = client;
      const log = this.options.log ?? pino({ name: 'agikit-relay' });
      const runtime: RelayRuntime = new RelayRuntime({
        ami: client,
        media: this.options.media,
        speech: this.options.speech,
        log,
        ...(this.options.resolveDevice ? { resolveDevice: this.options.resolveDevice } : {}),
        ...(this.options.resumeTimeoutMs !== undefined ? { resumeTimeoutMs: this.options.resumeTimeoutMs } : {}),
        openOwner: (): Promise<string> => this.listen(runtime, log),
      });
      this.runtimeValue = runtime;
      this.emit('ready', this);
    })();
    return this.connecting;
  }

  /**
   * Opens the client's own FastAGI listener, on its first dial: the runtime's routes (`/relay/dialed`,
   * `/relay/resume`, `/relay/helper`), no contexts. Resolves with its owner URL.
   */
  private async listen(runtime: RelayRuntime, log: Logger): Promise<string> {
    const agi = this.options.agi;
    const server = new FastAgiServer({ ...this.options.server, host: agi?.host ?? '127.0.0.1', port: agi?.port ?? 0, logger: log });
    runtime.router([], () => undefined, server);
    this.ownServer = server;
    const address = await server.listen();
    return ownerUrl(address, agi?.advertise, networkInterfaces());
  }

  /** Disconnects: closes its FastAGI listener (sessions in progress end) and the AMI connection it opened (not one it was given). */
  async disconnect(): Promise<void> {
    const ami = this.ownAmi;
    const server = this.ownServer;
    this.ownAmi = undefined;
    this.ownServer = undefined;
    this.runtimeValue = undefined;
    this.connecting = undefined;
    await server?.close({ timeoutMs: this.options.drainTimeoutMs ?? 0 });
    await ami?.close();
    await this.taskValue?.close();
    this.emit('disconnected', this);
  }

  // ---------------------------------------------------------------------------------------------
  // calling (calling.ts)

  private callingValue: Calling | undefined;

  /**
   * The seed's `client.calling`: `dial({ toNumber, fromNumber, timeout })` places an outbound call,
   * `newCall(...)` makes one to `dial()` later (needs AMI and a FastAGI address: a connected client
   * has its own listener, a consumer's client the consumer's). See docs/relay-calling.md.
   */
  get calling(): Calling {
    this.callingValue ??= new Calling(() => this.runtime);
    return this.callingValue;
  }

  // ---------------------------------------------------------------------------------------------
  // messaging (messaging.ts)

  private messagingValue: Messaging | undefined;

  /**
   * The seed's `client.messaging`: `send()` text messages through Asterisk's PJSIP (needs AMI and
   * `messaging.endpoint` in the options); its `state` events report each sent message's states.
   */
  get messaging(): Messaging {
    this.messagingValue ??= new Messaging(() => this.runtime, this.options.messaging);
    return this.messagingValue;
  }

  // ---------------------------------------------------------------------------------------------
  // tasking (task.ts)

  private taskValue: Task | undefined;

  /**
   * The seed's `client.tasking`: `tasking.deliver(context, message)` sends a task to the consumers
   * of this client's project, over the `tasks` transport of its options (see {@link Task}).
   */
  get tasking(): Task {
    this.taskValue ??= new Task({ project: this.project, token: this.token, transport: this.options.tasks });
    return this.taskValue;
  }
}
