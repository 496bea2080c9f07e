/**
 * {@link Consumer}: SignalWire Relay's `Relay.Consumer` on Asterisk: a long-running process that
 * serves its contexts as FastAGI routes and hands each inbound call to `onIncomingCall`.
 *
 * @module
 */

import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { pino, type Logger } from 'pino';
import { AmiClient } from '../ami/client.js';
import type { AmiClientOptions } from '../ami/options.js';
import type { MediaOptions } from '../media/options.js';
import { FastAgiServer, type FastAgiServerOptions } from '../server/fastagi-server.js';
import type { Router } from '../server/router.js';
import type { Call } from './call.js';
import type { DeviceResolver } from './devices.js';
import { Client, RELAY_AMI_EVENTS } from './client.js';
import { advertisedOwner, ownerUrl, RESERVED_CONTEXT_NAMES } from './dialplan.js';
import { RelayCapabilityError, RelayError } from './errors.js';
import type { Message } from './message.js';
import { MessageInbox } from './message-inbox.js';
import type { MessagingOptions } from './messaging.js';
import { RelayRuntime, type SpeechRecognizer } from './runtime.js';
import { CONTEXT_NAME } from './context-name.js';
import { serveTasks, type TaskTransportSpec } from './task.js';
import type { TaskMessage } from './task-message.js';
import type { TaskReceiver } from './task-transport.js';

/** Where a consumer listens and what it connects to. Everything is optional. */
export interface RelayConnection {
  /**
   * The FastAGI listener Asterisk's `AGI(agi://host:port/relay/<context>)` reaches (default
   * 127.0.0.1:4573). `advertise`: this process's own FastAGI URL as Asterisk reaches it
   * (`agi://10.0.0.5:4573`), written on a channel as `RELAY_OWNER` so that a call that leaves AGI
   * (a Redirect) comes back to this very process; default `agi://<host>:<port>` of the listener (for
   * a wildcard host, the machine's first external IPv4 address). Set it when Asterisk reaches this
   * process through another address (NAT, containers); never a balancer's address.
   */
  agi?: { host?: string; port?: number; advertise?: string };
  /**
   * AMI: a connected client (shared, not closed by the consumer), or options to connect with (the
   * consumer connects before `ready()`, asks for the events it needs, and closes it at the end).
   * Without AMI the consumer serves Relay's AGI-only subset.
   */
  ami?: AmiClient | AmiClientOptions;
  /** Media directory shared with Asterisk, text to speech. */
  media?: MediaOptions;
  /** Speech-to-text for speech prompts. */
  speech?: SpeechRecognizer;
  /** Logger (default: pino at `info` to stdout). */
  log?: Logger;
  /** FastAGI server settings (`maxConnections`, `allow`, ...), besides host and port. */
  server?: Omit<FastAgiServerOptions, 'host' | 'port' | 'router' | 'logger'>;
  /** How long calls in progress may take to finish on shutdown (default 30000 ms). */
  drainTimeoutMs?: number;
  /** Messaging: the PJSIP endpoint messages leave through, the From domain, the inbound inbox. */
  messaging?: MessagingOptions;
  /**
   * How tasks travel (a consumer with `onTask` receives them, `client.tasking` sends them): a
   * transport, or a URL: `http://127.0.0.1:<port>` (one machine), `redis://host:port` (many).
   * Default: the local transport on 127.0.0.1:4574. See docs/relay-tasks.md.
   */
  tasks?: TaskTransportSpec;
  /** How long a call that left AGI may take to come back before it counts as lost (default 10000 ms). */
  resumeTimeoutMs?: number;
  /** `connect()` and outbound calls: a device's `toNumber` to a dial string (see `RelayOptions.resolveDevice`). */
  resolveDevice?: DeviceResolver;
}

/** Options of {@link Consumer.run}. */
export interface RunOptions {
  /** Aborting it shuts the consumer down as SIGTERM does. */
  signal?: AbortSignal;
  /** Shut down on SIGTERM and SIGINT (default `true`); a second one ends the calls in progress at once. */
  handleSignals?: boolean;
  /**
   * A FastAGI server to run on instead of one made from `connection.agi`/`connection.server` (e.g.
   * `agikit serve`'s, with its limits and metrics): the consumer adds its routes, listens, and
   * closes it at shutdown.
   */
  server?: FastAgiServer;
  /** Overrides `connection.drainTimeoutMs`. */
  drainTimeoutMs?: number;
}

/**
 * A Relay consumer. Subclass it, set `project`, `token` and `contexts` in {@link setup}, handle
 * calls in {@link onIncomingCall}, and {@link run} it:
 *
 * ```ts
 * class Office extends Consumer {
 *   setup() { this.contexts = ['office']; }
 *   async onIncomingCall(call: Call) {
 *     await call.answer();
 *     await call.playTTS({ text: 'Welcome to the office' });
 *   }
 * }
 * await new Office({ agi: { port: 4573 } }).run();
 * ```
 *
 * Asterisk reaches a context as `AGI(agi://host:port/relay/<context>)`. `ready()` runs once the
 * FastAGI server listens and AMI (if configured) has logged in. SIGTERM or SIGINT drain the calls in
 * progress, then `teardown()` runs and {@link run} resolves.
 */
export abstract class Consumer {
  /** The Relay project: a namespace (AMI action ids, task keys). */
  project = '';
  /** The Relay token: the shared secret of task delivery. */
  token = '';
  /** The contexts served, each at `/relay/<context>`. */
  contexts: string[] = [];
  /** Where to listen and what to connect to; the constructor's, and `setup()` may change it. */
  connection: RelayConnection;
  private runtimeValue: RelayRuntime | undefined;
  private clientValue: Client | undefined;
  private server: FastAgiServer | undefined;
  private readonly shutdown = new AbortController();

  constructor(connection: RelayConnection = {}) {
    this.connection = { ...connection };
  }

  /** Configuration: set `project`, `token`, `contexts` (and `connection`). Runs first in {@link run}. */
  setup(): void {}

  /** Runs once the consumer serves its contexts and AMI is logged in. */
  ready?(): Promise<void> | void;

  /** Runs at shutdown, after the calls in progress have finished. */
  teardown?(): Promise<void> | void;

  /** Each inbound call on one of the contexts, attached to its AGI session (state `ringing` or `answered`). */
  onIncomingCall?(call: Call): Promise<void> | void;

  // ---------------------------------------------------------------------------------------------
  // tasks (task.ts): onTask

  /**
   * Each task a {@link Task} (or a `client.tasking`) delivered to one of the contexts: the message
   * as it was sent, and the context. Defining it makes {@link run} take tasks over
   * `connection.tasks` (default: the local transport on 127.0.0.1:4574); each task reaches one
   * consumer. With Redis a task may come again after a crash (at least once): make it idempotent.
   * See docs/relay-tasks.md.
   */
  onTask?(message: TaskMessage, context: string): Promise<void> | void;

  /** Starts taking tasks when `onTask` is defined (run() calls it once serving). */
  private serveTasks(log: Logger): Promise<TaskReceiver | undefined> {
    const onTask = this.onTask;
    if (!onTask) return Promise.resolve(undefined);
    const { project, token, contexts } = this;
    return serveTasks({ owner: this.constructor.name, project, token, contexts, transport: this.connection.tasks, onTask: (message, context) => onTask.call(this, message, context), log });
  }

  // ---------------------------------------------------------------------------------------------
  // messages (messaging.ts): onIncomingMessage, onMessageStateChange

  /**
   * Each inbound message to one of the contexts (state `received`). However many consumers serve
   * the context, exactly one of them gets each message (message-inbox.ts); messages that arrived
   * while none ran are handed over when one starts. Needs AMI (events `user`, write `system`) and
   * the `[relay-messages]` dialplan as the PJSIP endpoint's `message_context`.
   */
  onIncomingMessage?(message: Message): Promise<void> | void;

  /**
   * Each state change (`queued`, `initiated`, `sent` or `failed`) of a message this consumer's
   * client sends in one of the consumer's contexts. `delivered`/`undelivered` never occur.
   */
  onMessageStateChange?(message: Message): Promise<void> | void;

  /**
   * The message hooks of a running consumer: state changes of its client's messages, and (with
   * `onIncomingMessage`) the inbound inbox. Throws when `onIncomingMessage` has no AMI to work with.
   */
  private serveMessages(ami: AmiClient | undefined, log: Logger): { start(): void; close(): Promise<void> } {
    const name = this.constructor.name;
    if (this.onIncomingMessage && !ami) throw new RelayCapabilityError('ami', `${name}.onIncomingMessage`);
    const onState = (message: Message): void => {
      if (!this.onMessageStateChange || !this.contexts.includes(message.context)) return;
      void (async () => {
        try {
          await this.onMessageStateChange?.(message);
        } catch (error) {
          log.error({ err: error, messageId: message.id }, `${name}.onMessageStateChange threw`);
        }
      })();
    };
    const inbox =
      this.onIncomingMessage && ami
        ? new MessageInbox(ami, { contexts: this.contexts, deliver: (message) => this.onIncomingMessage?.(message), log, ...this.connection.messaging?.inbox })
        : undefined;
    const messaging = this.client.messaging;
    return {
      start: () => {
        messaging.on('state', onState);
        inbox?.start();
      },
      close: async () => {
        messaging.off('state', onState);
        await inbox?.close();
      },
    };
  }

  /**
   * The consumer's {@link Client} (the seed's `consumer.client`): outbound calls, messages and tasks
   * over the consumer's own AMI connection. Available from `ready()` on.
   */
  get client(): Client {
    if (!this.clientValue) throw new RelayError(`${this.constructor.name}.client is available once the consumer runs (from ready() on)`);
    return this.clientValue;
  }

  /** The runtime of a running consumer (its calls, AMI, media), `undefined` before {@link run}. */
  get runtime(): RelayRuntime | undefined {
    return this.runtimeValue;
  }

  /** The FastAGI address of a running consumer, `null` before it listens. */
  get address(): AddressInfo | null {
    return this.server?.address ?? null;
  }

  /** Shuts a running consumer down, as SIGTERM does. */
  stop(): void {
    this.shutdown.abort();
  }

  /**
   * The consumer as a router, to mount in a FastAGI server of your own (or to drive with `agikit
   * simulate`): runs `setup()` and serves the contexts at `/relay/<context>`. No `ready()` or
   * `teardown()`: the server's owner runs the process. AMI, if any, must be a connected client.
   */
  router(): Router {
    this.setup();
    this.checkContexts();
    const ami = this.connection.ami;
    if (ami !== undefined && !(ami instanceof AmiClient)) {
      throw new RelayError(`${this.constructor.name}.router() needs a connected AmiClient in connection.ami (run() connects from options)`);
    }
    return this.makeRuntime(ami, this.connection.log ?? pino({ level: 'silent' })).router(this.contexts, (call) => this.onIncomingCall?.(call));
  }

  /**
   * Runs the consumer: `setup()`, connect AMI (if configured), serve the contexts, `ready()`; then,
   * on SIGTERM/SIGINT or {@link stop}, drain the calls, `teardown()`, close what it opened.
   * Resolves once all that is done.
   */
  async run(options: RunOptions = {}): Promise<void> {
    this.setup();
    this.checkContexts();
    const connection = this.connection;
    const log = connection.log ?? pino({ name: 'agikit-relay' });
    const ownAmi = connection.ami !== undefined && !(connection.ami instanceof AmiClient);
    const ami =
      connection.ami instanceof AmiClient
        ? connection.ami
        : connection.ami
          ? await AmiClient.connect({ ...connection.ami, events: connection.ami.events ?? RELAY_AMI_EVENTS })
          : undefined;
    const stopSignals = options.handleSignals === false ? [] : (['SIGTERM', 'SIGINT'] as const);
    const drainTimeoutMs = options.drainTimeoutMs ?? connection.drainTimeoutMs ?? 30_000;
    let draining: Promise<void> | undefined;
    // The first stop drains the calls; a second one (while draining) ends them at once.
    const onSignal = (): void => {
      if (draining) void this.server?.close({ timeoutMs: 0 });
      else this.stop();
    };
    try {
      const runtime = this.makeRuntime(ami, log);
      const server =
        options.server ??
        new FastAgiServer({ ...connection.server, host: connection.agi?.host ?? '127.0.0.1', port: connection.agi?.port ?? 4573, logger: log });
      runtime.router(this.contexts, (call) => this.onIncomingCall?.(call), server);
      const messages = this.serveMessages(ami, log);
      this.server = server;
      const stopped = new Promise<void>((resolve) => {
        if (this.shutdown.signal.aborted) resolve();
        this.shutdown.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      options.signal?.addEventListener('abort', onSignal, { once: true });
      if (options.signal?.aborted) this.stop();
      for (const name of stopSignals) process.on(name, onSignal);
      const address = server.address ?? (await server.listen());
      runtime.setOwner(ownerUrl(address, connection.agi?.advertise, networkInterfaces()));
      log.info({ contexts: this.contexts, owner: runtime.owner, port: address.port }, `relay consumer serving ${this.contexts.join(', ')} on ${address.address}:${address.port}`);
      messages.start();
      let tasks: TaskReceiver | undefined;
      try {
        tasks = await this.serveTasks(log);
        await this.ready?.();
        await stopped;
        log.info({ drainTimeoutMs }, 'relay consumer shutting down: draining calls');
      } finally {
        draining = server.close({ timeoutMs: drainTimeoutMs });
        // Tasks and messages stop coming in at once; running tasks finish alongside the calls.
        await Promise.all([draining, messages.close(), tasks?.close(drainTimeoutMs)]);
      }
      await this.teardown?.();
    } finally {
      for (const name of stopSignals) process.off(name, onSignal);
      options.signal?.removeEventListener('abort', onSignal);
      if (ownAmi) await ami?.close();
    }
  }

  private makeRuntime(ami: AmiClient | undefined, log: Logger): RelayRuntime {
    const { media, speech, resumeTimeoutMs, agi, resolveDevice } = this.connection;
    const advertise = agi?.advertise;
    const runtime = new RelayRuntime({
      ami,
      media,
      speech,
      log,
      ...(resumeTimeoutMs !== undefined ? { resumeTimeoutMs } : {}),
      ...(resolveDevice !== undefined ? { resolveDevice } : {}),
      // Mounted in a server of someone else's, the address is known only when advertised.
      ...(advertise !== undefined ? { owner: advertisedOwner(advertise) } : {}),
    });
    this.runtimeValue = runtime;
    this.clientValue = Client.over(runtime, { ...this.connection, project: this.project, token: this.token });
    return runtime;
  }

  private checkContexts(): void {
    if (this.contexts.length === 0) throw new RelayError(`${this.constructor.name}: set at least one context in setup() (this.contexts = ['office'])`);
    for (const context of this.contexts) {
      if (!CONTEXT_NAME.test(context)) throw new RelayError(`${this.constructor.name}: bad context ${JSON.stringify(context)} (letters, digits, '_', '.', '-'; at most 64)`);
      if (RESERVED_CONTEXT_NAMES.includes(context)) throw new RelayError(`${this.constructor.name}: the context name ${JSON.stringify(context)} is reserved (${RESERVED_CONTEXT_NAMES.join(', ')} are the runtime's own routes)`);
    }
  }
}
