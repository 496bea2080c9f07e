/**
 * A small client for the Asterisk Manager Interface (AMI): one TCP connection, login, actions
 * correlated with their responses by `ActionID`, event lists, and events. agikit uses it for what a
 * FastAGI connection cannot do while a command runs, such as stopping a `RECORD FILE`
 * ({@link AmiClient.playDtmf} with `receive`), but it is a general client.
 *
 * ```ts
 * const ami = await AmiClient.connect({ port: 5038, username: 'agikit', secret: 's3cret' });
 * const pong = await ami.action('Ping');
 * ami.on('event', (event) => console.log(event.get('Event')));
 * await ami.close();
 * ```
 *
 * Asterisk side (manager.conf): `enabled = yes`, a `bindaddr`/`port`, and a user whose `write`
 * classes allow the actions used (`call` for PlayDTMF).
 *
 * @module
 */

import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { AgiError } from '../errors.js';

/** Something went wrong with the AMI connection: refused, closed, timed out, or bad credentials. */
export class AmiError extends AgiError {
  override name = 'AmiError';
}

/** Asterisk answered an action with `Response: Error`. */
export class AmiActionError extends AmiError {
  override name = 'AmiActionError';
  constructor(
    readonly action: string,
    readonly response: AmiMessage,
  ) {
    super(`AMI ${action} failed: ${response.get('Message') ?? 'no message'}`);
  }
}

/**
 * One AMI message (response or event): `Key: Value` lines in order. Keys are matched without regard
 * to case, and a key may occur more than once (`getAll`).
 */
export class AmiMessage {
  constructor(readonly fields: ReadonlyArray<readonly [string, string]>) {}

  /** The first value of a key, or `undefined`. */
  get(key: string): string | undefined {
    const wanted = key.toLowerCase();
    return this.fields.find(([k]) => k.toLowerCase() === wanted)?.[1];
  }

  /** Every value of a key, in order. */
  getAll(key: string): string[] {
    const wanted = key.toLowerCase();
    return this.fields.filter(([k]) => k.toLowerCase() === wanted).map(([, v]) => v);
  }

  /** The fields as an object (the last value of a repeated key wins). */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.fields);
  }
}

/** Values of an action's fields; an array sends the key once per element (e.g. `Variable`). */
export type AmiFields = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** Options of {@link AmiClient.connect}. */
export interface AmiClientOptions {
  /** Host (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 5038). */
  port?: number;
  /** manager.conf user. */
  username: string;
  /** Its secret. */
  secret: string;
  /**
   * Which events to receive: `true` (all the user may read), `false` (none, the default: agikit
   * needs none), or an event-class list such as `'call,dtmf'`.
   */
  events?: boolean | string;
  /** How long connecting and logging in may take (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Default time an action may take before it rejects with {@link AmiError} (default 10000 ms). */
  actionTimeoutMs?: number;
}

/** Options of one action. */
export interface AmiActionOptions {
  /** Override the client's `actionTimeoutMs`. */
  timeoutMs?: number;
}

/** Response and events of an action that answers with an event list (`EventList: start`). */
export interface AmiEventListResult {
  response: AmiMessage;
  /** The list's events, without the final `...Complete` event. */
  events: AmiMessage[];
  /** The final event (`EventList: Complete`). */
  complete: AmiMessage;
}

interface Pending {
  action: string;
  resolve: (message: AmiMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** For event lists: the events collected after a successful response. */
  list?: { response?: AmiMessage; events: AmiMessage[]; resolve: (result: AmiEventListResult) => void };
}

/** Line terminator of AMI, both ways. */
const CRLF = '\r\n';

/**
 * A connected, logged-in AMI session. Events: `event` ({@link AmiMessage}) for every event not
 * part of an action's event list, `close` (error or undefined) once, when the connection ends.
 */
export class AmiClient extends EventEmitter {
  /** The greeting line, e.g. `Asterisk Call Manager/11.0.0`. */
  banner = '';
  private buffer = '';
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private readonly idPrefix = `agikit-${process.pid}-${Math.random().toString(36).slice(2, 8)}-`;
  private closedError: AmiError | undefined;
  private bannerWaiter: ((line: string) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly actionTimeoutMs: number,
  ) {
    super();
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (data: string) => this.receive(data));
    socket.on('error', (error) => this.shutDown(new AmiError(`AMI connection failed: ${error.message}`)));
    socket.on('close', () => this.shutDown(new AmiError('AMI connection closed')));
  }

  /** Connects and logs in; rejects with {@link AmiError} (or {@link AmiActionError} for bad credentials). */
  static async connect(options: AmiClientOptions): Promise<AmiClient> {
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port ?? 5038 });
    const client = new AmiClient(socket, options.actionTimeoutMs ?? 10_000);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AmiError(`AMI login did not complete within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([client.login(options), deadline]);
      return client;
    } catch (error) {
      client.socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `true` until the connection has ended. */
  get connected(): boolean {
    return this.closedError === undefined;
  }

  /**
   * Sends an action and resolves with its response. Rejects with {@link AmiActionError} on
   * `Response: Error`, with {@link AmiError} if the connection ends or the response is late.
   */
  action(name: string, fields: AmiFields = {}, options: AmiActionOptions = {}): Promise<AmiMessage> {
    return new Promise<AmiMessage>((resolve, reject) => {
      this.send(name, fields, options, { action: name, resolve, reject });
    });
  }

  /**
   * Sends an action answered by an event list (`Status`, `CoreShowChannels`, …) and resolves once the
   * list is complete.
   */
  actionList(name: string, fields: AmiFields = {}, options: AmiActionOptions = {}): Promise<AmiEventListResult> {
    return new Promise<AmiEventListResult>((resolve, reject) => {
      this.send(name, fields, options, {
        action: name,
        resolve: () => undefined,
        reject,
        list: { events: [], resolve },
      });
    });
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

  /** Logs off and closes the connection (the connection is closed even if Asterisk does not answer). */
  async close(): Promise<void> {
    if (this.closedError) return;
    try {
      await this.action('Logoff', {}, { timeoutMs: 1000 });
    } catch {
      // Closing anyway.
    }
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  private async login(options: AmiClientOptions): Promise<void> {
    this.banner = await new Promise<string>((resolve, reject) => {
      this.bannerWaiter = resolve;
      this.once('close', (error: Error | undefined) => reject(error ?? new AmiError('AMI connection closed before its greeting')));
    });
    const events = options.events === true ? 'on' : options.events === false || options.events === undefined ? 'off' : options.events;
    await this.action('Login', { Username: options.username, Secret: options.secret, Events: events });
  }

  private send(name: string, fields: AmiFields, options: AmiActionOptions, entry: Omit<Pending, 'timer'>): void {
    if (this.closedError) {
      entry.reject(new AmiError(`${this.closedError.message}: cannot send ${name}`));
      return;
    }
    const lines = [`Action: ${name}`];
    const id = `${this.idPrefix}${++this.nextId}`;
    lines.push(`ActionID: ${id}`);
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        const text = String(v);
        if (/[\r\n]/.test(text) || /[\r\n:]/.test(key)) {
          entry.reject(new AmiError(`AMI ${name}: field ${key} must not contain line breaks`));
          return;
        }
        lines.push(`${key}: ${text}`);
      }
    }
    const timeoutMs = options.timeoutMs ?? this.actionTimeoutMs;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      entry.reject(new AmiError(`AMI ${name}: no response within ${timeoutMs} ms`));
    }, timeoutMs);
    this.pending.set(id, { ...entry, timer });
    this.socket.write(lines.join(CRLF) + CRLF + CRLF);
  }

  private receive(data: string): void {
    this.buffer += data;
    if (this.bannerWaiter) {
      const eol = this.buffer.indexOf(CRLF);
      if (eol < 0) return;
      const line = this.buffer.slice(0, eol);
      this.buffer = this.buffer.slice(eol + 2);
      const waiter = this.bannerWaiter;
      this.bannerWaiter = undefined;
      waiter(line);
    }
    for (;;) {
      const end = this.buffer.indexOf(CRLF + CRLF);
      if (end < 0) return;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 4);
      if (block.trim() === '') continue;
      this.dispatch(parseBlock(block));
    }
  }

  private dispatch(message: AmiMessage): void {
    const id = message.get('ActionID');
    const entry = id === undefined ? undefined : this.pending.get(id);
    if (message.get('Response') !== undefined) {
      if (!entry || id === undefined) return;
      if (message.get('Response')?.toLowerCase() === 'error') {
        this.settle(id, entry);
        entry.reject(new AmiActionError(entry.action, message));
        return;
      }
      if (entry.list) {
        entry.list.response = message;
        // Some actions answer "Success" without a list when there is nothing to list.
        if (message.get('EventList')?.toLowerCase() !== 'start') {
          this.settle(id, entry);
          entry.list.resolve({ response: message, events: [], complete: message });
        }
        return;
      }
      this.settle(id, entry);
      entry.resolve(message);
      return;
    }
    if (entry?.list && id !== undefined) {
      if (message.get('EventList')?.toLowerCase() === 'complete') {
        this.settle(id, entry);
        entry.list.resolve({ response: entry.list.response ?? message, events: entry.list.events, complete: message });
      } else {
        entry.list.events.push(message);
      }
      return;
    }
    if (message.get('Event') !== undefined) this.emit('event', message);
  }

  private settle(id: string, entry: Pending): void {
    clearTimeout(entry.timer);
    this.pending.delete(id);
  }

  private shutDown(error: AmiError): void {
    if (this.closedError) return;
    this.closedError = error;
    for (const [id, entry] of this.pending) {
      this.settle(id, entry);
      entry.reject(new AmiError(`${error.message} before ${entry.action} was answered`));
    }
    this.emit('close', error);
  }
}

/** Splits one message block into its `Key: Value` fields (a line without a colon is kept under `''`). */
function parseBlock(block: string): AmiMessage {
  const fields: Array<readonly [string, string]> = [];
  for (const line of block.split(CRLF)) {
    const colon = line.indexOf(':');
    if (colon < 0) fields.push(['', line]);
    else fields.push([line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')]);
  }
  return new AmiMessage(fields);
}
