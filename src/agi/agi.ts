import { pino, type Logger } from 'pino';
import {
  AgiCommandError,
  AgiHangupError,
  AgiInterruptedError,
  AgiInvalidCommandError,
  AgiSessionClosedError,
  AgiTimeoutError,
  AgiUsageError,
  CommandFailure,
  type AgiError,
  type HangupReason,
} from '../errors.js';
import { encodeCommand, encodeRawCommand, maxLineBytesFor } from '../protocol/encode.js';
import { headerField, type AgiEnv, type AgiHeader } from '../protocol/header.js';
import type { AgiReply, DataMode } from '../protocol/reply.js';
import { CommandQueue, budgetFrom, raceDeadline, type Budget } from './command-queue.js';
import { AGI_COMMANDS, type AnyCommandSpec } from './commands.js';
import type { AgiConnection, ConnectionEnd, ConnectionSession, ReplyDecoder } from './connection.js';
import type { CommandOptions } from './method-types.js';
import type { AgiCommandMethods } from './methods.generated.js';

/** A logger, or a function that makes it on first use (a pino child per call is not free). */
export type LogSource = Logger | (() => Logger);

/** Logs nothing: the default when none is given. */
const SILENT: Logger = pino({ level: 'silent' });

/** Options of {@link Agi}; transports ({@link FastAgiServer}, {@link runStdio}) fill them in. */
export interface AgiOptions {
  /** The call's logger; the server gives one child per call carrying `uniqueid` and `channel`. */
  log?: LogSource;
  /** Route parameters (`/ivr/:tenant` gives `{ tenant }`). */
  params?: Record<string, string>;
  /** Longest command line sent, LF included; default from `agi_version` (8191 on 22.6+, else 2047). */
  maxLineBytes?: number;
  /** Default `timeoutMs` for every command that does not give its own (default: none). */
  commandTimeoutMs?: number;
  /** Channel variable set to the session's status when it ends (`false`: none). Default `AGIKIT_STATUS`. */
  statusVariable?: string | false;
  /** How long {@link Agi.exit} waits for Asterisk to close its side before dropping the connection (ms). */
  closeGraceMs?: number;
  /**
   * How long the session may stay open after the call hangs up (default 30000 ms; `0`: no limit).
   * Asterisk holds a hung-up channel until the session closes, so past this agikit closes it even
   * if the handler is still running (its later commands reject with {@link AgiSessionClosedError}).
   */
  hangupGraceMs?: number;
}

/**
 * The status agikit writes to the status variable when it closes a session itself, so the dialplan
 * can tell why: `TIMEOUT` (a command got no reply within its `timeoutMs`), `ABORTED` (a command's
 * `signal` aborted it after it was sent), `LINGERED` (the handler was still running `hangupGraceMs`
 * after the hangup), `SHUTDOWN` (the server's drain deadline passed).
 */
export type AgikitCloseStatus = 'TIMEOUT' | 'ABORTED' | 'LINGERED' | 'SHUTDOWN';

/** Callback registered with {@link Agi.onHangup}. */
export type HangupListener = (reason: HangupReason) => void | Promise<void>;

const CHANNEL_STATUS_PROBE = 'CHANNEL STATUS\n';

/** Default {@link AgiOptions.hangupGraceMs}. */
export const DEFAULT_HANGUP_GRACE_MS = 30_000;

/**
 * Commands Asterisk stops when new input arrives on the AGI connection (res_agi.c passes it as the
 * control fd). `SAY ALPHA/DIGITS/NUMBER/PHONETIC` only honour it with an EAGI audio fd, so over FastAGI
 * and plain AGI they run to the end (checked against Asterisk 22.10).
 */
const INTERRUPTIBLE = /^(STREAM FILE|GET DATA|GET OPTION|WAIT FOR DIGIT) /;

/** Least time the status-variable write at the end of a session may take (ms). */
const STATUS_WRITE_TIMEOUT_MS = 5000;

/**
 * One AGI session: the typed command methods (one per AGI command, from the command table), the
 * call's environment, and its hangup lifecycle. The same class serves FastAGI and stdio scripts.
 *
 * Commands may be fired without awaiting: they are queued and sent strictly one at a time, each
 * receiving its own reply (AGI must never be pipelined).
 *
 * Hangups: `agi.hungUp` resolves and `agi.signal` aborts as soon as agikit learns the caller is gone
 * (the `HANGUP` line, a `511` reply, or the connection dropping). A command cut short by the hangup
 * rejects with {@link AgiHangupError}; commands Asterisk still allows on a dead channel (variables,
 * astdb, `exec`, `verbose`, `noop`) keep working, e.g. in {@link onHangup} cleanup.
 */
export class Agi implements ReplyDecoder, ConnectionSession {
  /** FastAGI script path, e.g. `/ivr/main` (`/` for stdio scripts and URLs without a path). */
  readonly path: string;

  /** The full parsed header, including unknown keys verbatim. */
  readonly header: AgiHeader;
  /** Route parameters from the matching route pattern. */
  params: Record<string, string>;
  // Built on first use: most calls never look at them, and 10,000 idle calls each pay for what exists.
  private readonly logSource: LogSource;
  private logger: Logger | undefined;
  private controller: AbortController | undefined;
  private hungUpPromise: Promise<HangupReason> | undefined;
  private resolveHungUp: ((reason: HangupReason) => void) | undefined;
  private readonly hangupGraceMs: number;
  private hangupGraceTimer: NodeJS.Timeout | undefined;
  private hangupReasonValue: HangupReason | null = null;
  private hangupListeners: Set<HangupListener> | undefined;
  private cleanups: Promise<void>[] | undefined;
  private readonly maxLineBytes: number;
  private readonly commandTimeoutMs: number | undefined;
  private readonly statusVariable: string | false;
  private readonly closeGraceMs: number;
  private readonly queue = new CommandQueue();
  private closing: Promise<void> | undefined;
  /** `undefined` while open; why it closed otherwise (an error is built only when one is thrown). */
  private closedBy: 'closed' | HangupReason | undefined;
  private agikitStatus: AgikitCloseStatus | undefined;
  private interrupts = 0;
  /** The command in flight claimed the idle queue: free it when its reply is read ({@link executeClaimed}). */
  private releaseOnReply = false;
  private readonly releaseQueue = (): void => this.queue.releaseNow();

  constructor(
    private readonly connection: AgiConnection,
    header: AgiHeader,
    options: AgiOptions = {},
  ) {
    this.header = header;
    this.path = header.path;
    this.params = options.params ?? {};
    this.logSource = options.log ?? SILENT;
    this.maxLineBytes = options.maxLineBytes ?? maxLineBytesFor(headerField(header, 'agi_version'));
    this.commandTimeoutMs = options.commandTimeoutMs;
    this.statusVariable = options.statusVariable ?? 'AGIKIT_STATUS';
    this.closeGraceMs = options.closeGraceMs ?? 5000;
    this.hangupGraceMs = options.hangupGraceMs ?? DEFAULT_HANGUP_GRACE_MS;
    connection.attach(this);
  }

  /** @internal The connection read the `HANGUP` line. */
  hangupLine(): void {
    this.markHangup('hangup-line');
  }

  /** @internal The connection is finished. */
  connectionEnded(end: ConnectionEnd): void {
    if (end.kind === 'lost') {
      if (end.error) this.log.warn({ err: end.error }, 'AGI connection failed');
      this.markHangup('socket-closed');
      this.markClosed('socket-closed');
    } else {
      this.markClosed('closed');
    }
  }

  /**
   * Aborts when the call hangs up, or when the session ends for any other reason (its `reason` is then
   * an {@link AgiHangupError} or {@link AgiSessionClosedError}). Pass it to your own timers and fetches.
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.hangupReasonValue) this.controller.abort(new AgiHangupError(this.hangupReasonValue));
      else if (this.closedBy) this.controller.abort(this.closedError());
    }
    return this.controller.signal;
  }

  /** Resolves with the reason once the channel has hung up. Never rejects. */
  get hungUp(): Promise<HangupReason> {
    this.hungUpPromise ??= this.hangupReasonValue
      ? Promise.resolve(this.hangupReasonValue)
      : new Promise<HangupReason>((resolve) => {
          this.resolveHungUp = resolve;
        });
    return this.hungUpPromise;
  }

  /** The typed `agi_*` environment (typed on first use). */
  get env(): AgiEnv {
    return this.header.env;
  }

  /** `agi_arg_1` … `agi_arg_N`. */
  get args(): string[] {
    return this.header.args;
  }

  /** The call's logger (bindings: `uniqueid`, `channel`). */
  get log(): Logger {
    this.logger ??= typeof this.logSource === 'function' ? this.logSource() : this.logSource;
    return this.logger;
  }

  /** FastAGI query parameters (`agi://host/ivr?lang=fr` gives `lang=fr`). */
  get query(): URLSearchParams {
    return this.header.query;
  }

  /** Why the channel hung up, or `null` while it is up. */
  get hangupReason(): HangupReason | null {
    return this.hangupReasonValue;
  }

  /** `true` once the session is over (exited, closed, or the connection dropped). */
  get closed(): boolean {
    return this.closedBy !== undefined;
  }

  /** Set when agikit closed the session itself: the status it wrote for the dialplan (see {@link AgikitCloseStatus}). */
  get closeStatus(): AgikitCloseStatus | undefined {
    return this.agikitStatus;
  }

  /**
   * Registers cleanup to run when the call hangs up (at once if it already has). The callback may still
   * run commands Asterisk allows on a dead channel (`setVariable`, `databasePut`, `verbose`, `exec`, …).
   * The server waits for these callbacks before it ends the session. Returns a function that unregisters.
   */
  onHangup(listener: HangupListener): () => void {
    if (this.hangupReasonValue) {
      this.runHangupListener(listener, this.hangupReasonValue);
      return () => {};
    }
    const listeners = (this.hangupListeners ??= new Set());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** @internal `true` when {@link onHangup} callbacks have started (there is cleanup to wait for). */
  get hasHangupCleanup(): boolean {
    return this.cleanups !== undefined;
  }

  /** Resolves when every {@link onHangup} callback started so far has finished. */
  async hangupCleanup(): Promise<void> {
    if (this.cleanups) await Promise.all(this.cleanups);
  }

  /**
   * Ends the AGI session and returns the call to the dialplan **without hanging up**: commands already
   * queued run first, then the status variable is set to `SUCCESS` (unless disabled), then the
   * connection is closed. Later commands reject with {@link AgiSessionClosedError}.
   */
  exit(): Promise<void> {
    return this.close('SUCCESS');
  }

  /**
   * Ends the session with a given status (what {@link exit} and the server use). Idempotent: a second
   * call returns the first one's promise.
   */
  close(status?: string): Promise<void> {
    if (this.hangupGraceTimer) clearTimeout(this.hangupGraceTimer);
    if (this.closing) return this.closing;
    if (this.queue.idle && !this.writesStatus(status)) {
      // Nothing queued and nothing to write: close now, without joining the queue (every call ends here).
      this.markClosed('closed');
      this.closing = this.connection.end(this.closeGraceMs);
    } else {
      this.closing = this.closeNow(status);
    }
    return this.closing;
  }

  /**
   * Ends the session now, without waiting for queued or in-flight commands (server shutdown past its
   * deadline): they reject with {@link AgiSessionClosedError}, and the connection is closed politely
   * so the call returns to the dialplan. With a `status`, unless the session was already closing, the
   * status variable is set to it first: the line goes out just before the EOF, and Asterisk runs it
   * once the command in flight (if any) ends; no reply is awaited, so none can be mistaken for another.
   */
  terminate(status?: AgikitCloseStatus): Promise<void> {
    let lastLine: string | undefined;
    if (status && this.closedBy === undefined && !this.closing) {
      this.agikitStatus = status;
      if (this.statusVariable) lastLine = encodeCommand('SET VARIABLE', [this.statusVariable, status], this.maxLineBytes);
    }
    this.markClosed('closed');
    return this.connection.end(this.closeGraceMs, lastLine);
  }

  /**
   * Stops the command in flight, if it is one Asterisk lets new input stop: `streamFile`, `getData`,
   * `getOption` or `waitForDigit` (not the `say*` commands: Asterisk only lets EAGI stop those). This is the one
   * deliberate exception to "never pipeline": agikit sends a marker command while the first one runs,
   * Asterisk stops the playback (and prints no reply for it), then answers the marker.
   *
   * The stopped command rejects with {@link AgiInterruptedError}; if it had already finished, it
   * resolves with its result as usual, and `waitForDigit` resolves `null`. Returns `false`, doing
   * nothing, when no interruptible command is in flight (`recordFile`, `controlStreamFile`, `say*`
   * and `exec` cannot be stopped this way).
   */
  interrupt(): boolean {
    const line = this.connection.inFlight;
    if (line === undefined || !INTERRUPTIBLE.test(line)) return false;
    this.interrupts += 1;
    return this.connection.interrupt(`agikit-interrupt-${this.interrupts}`);
  }

  /**
   * Sends one raw command line as typed by a person (`STREAM FILE beep ""`) and resolves with the
   * parsed reply, whatever its code. Refuses lines with LF/CR/NUL or starting with `failure`.
   * For tools such as the CLI shell; applications should use the typed methods.
   */
  async send(command: string, options?: CommandOptions): Promise<AgiReply> {
    const line = encodeRawCommand(command, this.maxLineBytes);
    const data: DataMode = /^\s*(get (full )?variable|database get|receive text)\b/i.test(command) ? 'freeText' : 'keyword';
    return this.queued(command, options, async (budget) => {
      this.assertOpen(command);
      const reply = await this.roundTrip(line, data, command, budget, options?.signal);
      if (reply.code === 511) this.markHangup('dead-channel');
      return reply;
    });
  }

  /** Runs one table command: queue, encode, send, read the reply into its typed result. */
  private invoke(spec: AnyCommandSpec, args: unknown[], arity: number): Promise<unknown> {
    let options: CommandOptions | undefined;
    let positional = args;
    if (spec.variadic) {
      const last = args[args.length - 1];
      if (isPlainObject(last)) {
        options = last as CommandOptions;
        positional = args.slice(0, -1);
      }
    } else if (args.length > arity) {
      options = args[arity] as CommandOptions | undefined;
      positional = args.slice(0, arity);
    }
    let line: string;
    try {
      line = encodeCommand(spec.words, spec.encode(...positional), this.maxLineBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options === undefined && this.commandTimeoutMs === undefined && this.queue.claimIfIdle()) {
      // The common case, idle and with no deadline or signal: skip the queue's bookkeeping (a closure
      // and a budget per command, a promise reaction to free it), which shows in a busy server's CPU.
      return this.executeClaimed(spec, line);
    }
    return this.queued(spec.words, options, (budget) => this.execute(spec, line, budget, options?.signal));
  }

  private execute(spec: AnyCommandSpec, line: string, budget: Budget | undefined, signal?: AbortSignal): Promise<unknown> {
    const words = spec.words;
    if (this.closedBy !== undefined) return Promise.reject(this.closedError(words));
    if (this.hangupReasonValue && !spec.dead) return Promise.reject(new AgiHangupError(this.hangupReasonValue, words));
    if (budget === undefined && !signal) {
      // No deadline, no signal: the connection decodes the reply through this session (no closure).
      return this.connection.requestDecoded(line, spec.data ?? 'keyword', spec.usageFollows, this, spec);
    }
    return this.roundTrip(line, spec.data ?? 'keyword', words, budget, signal, spec.usageFollows, (reply) => this.interpret(spec, reply, budget, signal));
  }

  /**
   * {@link execute} for a command that claimed the idle queue: the queue is freed as its reply is
   * read ({@link decodeReply}), or as it fails without one ({@link replyLost}), or at once if it is
   * never sent.
   */
  private executeClaimed(spec: AnyCommandSpec, line: string): Promise<unknown> {
    const words = spec.words;
    let refused: AgiError | undefined;
    if (this.closedBy !== undefined) refused = this.closedError(words);
    else if (this.hangupReasonValue && !spec.dead) refused = new AgiHangupError(this.hangupReasonValue, words);
    if (refused) {
      this.queue.releaseNow();
      return Promise.reject(refused);
    }
    this.releaseOnReply = true;
    const reply = this.connection.requestDecoded(line, spec.data ?? 'keyword', spec.usageFollows, this, spec);
    if (!this.connection.busy && this.releaseOnReply) {
      // Refused by the connection (closing, or closed): never sent.
      this.releaseOnReply = false;
      this.queue.releaseNow();
    }
    return reply;
  }

  /** @internal The connection's decoder for commands sent with no deadline or signal: `tag` is the command's spec. */
  decodeReply(reply: AgiReply, tag: unknown): unknown {
    if (!this.releaseOnReply) return this.interpret(tag as AnyCommandSpec, reply, undefined, undefined);
    this.releaseOnReply = false;
    let value: unknown;
    try {
      value = this.interpret(tag as AnyCommandSpec, reply, undefined, undefined);
    } catch (error) {
      this.queue.releaseNow();
      throw error;
    }
    // A channel probe after an ambiguous failure keeps the queue until it is answered.
    if (value instanceof Promise) value.then(this.releaseQueue, this.releaseQueue);
    else this.queue.releaseNow();
    return value;
  }

  /** @internal The command in flight failed without a reply (the connection ended). */
  replyLost(): void {
    if (!this.releaseOnReply) return;
    this.releaseOnReply = false;
    this.queue.releaseNow();
  }

  /**
   * Reads a command's final reply into its typed result, or throws its typed error. It runs as the
   * reply arrives (one promise per command); for an ambiguous `result=-1` it returns the promise of
   * the channel probe, which keeps the queue busy until the probe is answered.
   */
  private interpret(spec: AnyCommandSpec, reply: AgiReply, budget: Budget | undefined, signal: AbortSignal | undefined): unknown {
    const words = spec.words;
    if (reply.interrupted) throw new AgiInterruptedError(words);
    switch (reply.code) {
      case 200:
        break;
      case 510:
        throw new AgiInvalidCommandError(words, reply);
      case 511:
        this.markHangup('dead-channel');
        throw new AgiHangupError('dead-channel', words);
      case 520:
        throw new AgiUsageError(words, reply.usage ?? '', reply);
      default:
        throw new AgiCommandError(words, reply);
    }
    try {
      return spec.decode(reply);
    } catch (error) {
      if (!(error instanceof CommandFailure)) throw error;
      if (!error.hangupPossible) throw new AgiCommandError(words, reply, error.detail);
      return this.afterFailure(words, reply, error, budget, signal);
    }
  }

  /** A `result=-1` that a hangup may explain: probe the channel, then report a hangup or the failure. */
  private async afterFailure(words: string, reply: AgiReply, failure: CommandFailure, budget: Budget | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    if (await this.channelGone(budget, signal)) throw new AgiHangupError(this.hangupReasonValue ?? 'dead-channel', words);
    if (failure.ifAlive) return failure.ifAlive.value;
    throw new AgiCommandError(words, reply, failure.detail);
  }

  /**
   * After an ambiguous `result=-1`: is the channel gone? Asterisk sends the `HANGUP` line right after
   * the failed command's reply if it hung up, so a `CHANNEL STATUS` probe either sees that line first
   * or gets `511`; a state number means the channel is up and the failure was real.
   */
  private async channelGone(budget: Budget | undefined, signal?: AbortSignal): Promise<boolean> {
    if (this.hangupReasonValue) return true;
    const probe = await this.roundTrip(CHANNEL_STATUS_PROBE, 'keyword', 'CHANNEL STATUS', budget, signal);
    if (probe.code === 511) this.markHangup('dead-channel');
    return this.hangupReasonValue !== null;
  }

  /**
   * Sends one line and waits for its reply (read through `map` when given, as it arrives), enforcing
   * the deadline and signal.
   */
  private roundTrip<T = AgiReply>(
    line: string,
    mode: DataMode,
    what: string,
    budget: Budget | undefined,
    signal?: AbortSignal,
    trailer?: (reply: AgiReply) => boolean,
    map?: (reply: AgiReply) => T,
  ): Promise<T> {
    const request = this.connection.request(line, mode, trailer, map);
    if (budget === undefined && !signal) return request;
    return raceDeadline(request, what, budget, signal, (error) => this.abandon(error));
  }

  /**
   * Runs `task` when every earlier command has finished (one in flight, FIFO). A command whose deadline
   * passes or whose signal aborts while still queued is dropped without being sent.
   */
  private queued<T>(what: string, options: CommandOptions | undefined, task: (budget: Budget | undefined) => Promise<T>): Promise<T> {
    return this.queue.run(what, budgetFrom(options?.timeoutMs ?? this.commandTimeoutMs), options?.signal, task);
  }

  private assertOpen(what: string): void {
    if (this.closedBy === undefined) return;
    throw this.closedError(what);
  }

  /** A command timed out or was aborted after it was sent: the session is out of step, so end it. */
  private abandon(error: AgiError): void {
    this.log.warn({ err: error }, 'closing AGI session: a command was abandoned mid-flight');
    void this.terminate(error instanceof AgiTimeoutError ? 'TIMEOUT' : 'ABORTED');
  }

  private async closeNow(status: string | undefined): Promise<void> {
    // Join the queue so commands issued before exit()/close() run first.
    await this.queued('close', undefined, async () => {
      if (this.writesStatus(status)) {
        try {
          const line = encodeCommand('SET VARIABLE', [this.statusVariable as string, status], this.maxLineBytes);
          // Bounded on its own: closeGraceMs is how long to wait for Asterisk to close its side, and is 0
          // for stdio scripts, where it would make this write time out before Asterisk could answer.
          const timeoutMs = Math.max(this.closeGraceMs, STATUS_WRITE_TIMEOUT_MS);
          await this.roundTrip(line, 'keyword', 'SET VARIABLE', budgetFrom(timeoutMs));
        } catch (error) {
          this.log.debug({ err: error }, 'could not set the status variable');
        }
      }
      this.markClosed('closed');
    });
    await this.connection.end(this.closeGraceMs);
  }

  /** Whether closing with `status` writes the status variable first. */
  private writesStatus(status: string | undefined): status is string {
    return !!status && !!this.statusVariable && this.closedBy === undefined && !this.connection.isFinished;
  }

  private markClosed(by: 'closed' | HangupReason): void {
    if (this.closedBy !== undefined) return;
    this.closedBy = by;
    // Queued commands each check `closedBy` when their turn comes, and reject.
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(this.closedError());
  }

  /** The error for using a closed session. */
  private closedError(what?: string): AgiError {
    return this.closedBy === 'closed' || this.closedBy === undefined ? new AgiSessionClosedError(what) : new AgiHangupError(this.closedBy, what);
  }

  /** Records the hangup once, fires `hungUp`/`signal`, and starts the `onHangup` callbacks. */
  private markHangup(reason: HangupReason): void {
    if (this.hangupReasonValue) return;
    this.hangupReasonValue = reason;
    this.log.info({ reason }, 'call hung up');
    this.resolveHungUp?.(reason);
    if (this.hangupGraceMs > 0 && !this.closing && !this.closedBy) {
      this.hangupGraceTimer = setTimeout(() => {
        if (this.closing || this.closedBy) return;
        this.log.warn({ hangupGraceMs: this.hangupGraceMs }, 'session still open after the hangup grace period; closing it');
        void this.terminate('LINGERED');
      }, this.hangupGraceMs);
    }
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(new AgiHangupError(reason));
    const listeners = this.hangupListeners;
    this.hangupListeners = undefined;
    if (listeners) for (const listener of listeners) this.runHangupListener(listener, reason);
  }

  private runHangupListener(listener: HangupListener, reason: HangupReason): void {
    const run = async (): Promise<void> => {
      try {
        await listener(reason);
      } catch (error) {
        this.log.error({ err: error }, 'onHangup callback failed');
      }
    };
    (this.cleanups ??= []).push(run());
  }
}

// The typed command methods, one per table entry, share this one implementation.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Agi extends AgiCommandMethods {}

for (const [name, spec] of Object.entries(AGI_COMMANDS) as Array<[string, AnyCommandSpec]>) {
  const arity = spec.encode.length;
  Object.defineProperty(Agi.prototype, name, {
    value: function (this: Agi, ...args: unknown[]) {
      return (this as unknown as { invoke: Agi['invoke'] }).invoke(spec, args, arity);
    },
    writable: true,
    configurable: true,
  });
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
