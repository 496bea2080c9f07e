import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { AgiError, AgiHangupError, AgiProtocolError, AgiSessionClosedError } from '../errors.js';
import { DEFAULT_HEADER_LIMITS, HeaderReader, type AgiHeader, type HeaderLimits } from '../protocol/header.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from '../protocol/lines.js';
import { DEFAULT_MAX_REPLY_BYTES, ReplyReader, ReplyStep, type AgiReply, type DataMode } from '../protocol/reply.js';
import type { LogSource } from './agi.js';
import { LogBudget } from './log-budget.js';
import type { LineTap } from './transcript.js';

/** Options of {@link AgiConnection}. */
export interface AgiConnectionOptions {
  log: Logger;
  /** Bound on one incoming line (default 64 KiB). */
  maxLineBytes?: number;
  /** Bound on one multi-line reply, all its lines together (default 64 KiB). */
  maxReplyBytes?: number;
  /** Bounds on the header (default 256 lines, 64 KiB). */
  headerLimits?: HeaderLimits;
  /** Called as each command's final reply arrives: the command line (without LF) and its round trip in ms. */
  observeCommand?: (line: string, ms: number) => void;
}

/** Stray lines from Asterisk logged per connection per minute; the rest are only counted. */
const STRAY_LINES_LOGGED = 5;

/**
 * Stream listeners shared by every connection (they find theirs through a symbol on the stream):
 * per-connection bound closures cost memory for each of 10,000 idle calls.
 */
const kConnection = Symbol('agikit.connection');
interface OwnedStream {
  [kConnection]: AgiConnection;
}
function sharedOnData(this: OwnedStream, chunk: Buffer): void {
  this[kConnection].onData(chunk);
}
function sharedOnEnd(this: OwnedStream): void {
  this[kConnection].onInputEnd();
}
function sharedOnClose(this: OwnedStream): void {
  this[kConnection].onInputClose();
}
function sharedOnError(this: OwnedStream, error: Error): void {
  this[kConnection].onStreamError(error);
}

/** The session above a connection, as {@link AgiConnection.attach} tells it what happened. */
export interface ConnectionSession {
  /** The out-of-band `HANGUP` line arrived (or SIGHUP, for a stdio script). */
  hangupLine(): void;
  /** The connection is finished (after the {@link AgiConnection.onEnd} listeners). */
  connectionEnded(end: ConnectionEnd): void;
}

/** Why a connection ended, as the session above it needs to know. */
export type ConnectionEnd =
  /** We ended it ({@link AgiConnection.end}) and Asterisk closed its side. */
  | { kind: 'ended' }
  /** Asterisk closed, or the socket failed, while we still had business on it. */
  | { kind: 'lost'; error?: Error };

/**
 * Reads a command's reply into its result as the reply arrives (the {@link Agi} decodes its typed
 * commands this way): one object for every command of a session, where a `map` closure would be one
 * per command. `tag` is what {@link AgiConnection.requestDecoded} was given (the command's spec).
 */
export interface ReplyDecoder {
  decodeReply(reply: AgiReply, tag: unknown): unknown;
  /** The command failed without a reply (the connection ended first); its promise rejects next. */
  replyLost?(tag: unknown): void;
}

/**
 * The promise executor of every request: it hands the resolving functions over through these two
 * variables instead of a closure per command (the executor runs synchronously inside `new Promise`).
 */
let takenResolve: (value: unknown) => void = noop;
let takenReject: (error: Error) => void = noop;
function takeResolvers(resolve: (value: unknown) => void, reject: (error: Error) => void): void {
  takenResolve = resolve;
  takenReject = reject;
}
function noop(): void {}

/** Lets go of what a finished command left in the reused slot (callbacks, decoder, held replies). */
function emptySlot(pending: Pending): void {
  pending.resolve = noop;
  pending.reject = noop;
  pending.map = undefined;
  pending.decoder = undefined;
  pending.tag = undefined;
  pending.first = undefined;
  pending.ownReply = undefined;
}

/** The command in flight. One per connection, reused by every command of the session. */
interface Pending {
  /** The command line as sent, LF included (sliced only where it is shown: no substring per command). */
  wire: string;
  mode: DataMode;
  /** When it was sent (`performance.now()`), if commands are observed. */
  sentAt: number;
  /** While an interrupt is outstanding: the marker its reply will carry. */
  marker: string | undefined;
  /** The command's own reply, held while the marker's reply is still to come. */
  ownReply: AgiReply | undefined;
  /** Says whether a reply is followed by a second one that belongs to the same command. */
  trailer: ((reply: AgiReply) => boolean) | undefined;
  /** The first reply, held while its trailer is read. */
  first: AgiReply | undefined;
  resolve: (value: unknown) => void;
  /** Reads the reply into the promise's value in the read callback (may throw); none: the reply itself. */
  map: ((reply: AgiReply) => unknown) | undefined;
  /** Or: reads it through a decoder shared by the session's commands, given `tag`. */
  decoder: ReplyDecoder | undefined;
  tag: unknown;
  reject: (error: Error) => void;
}

/**
 * The I/O shell of one AGI session: owns the byte streams, splits lines, reads the header, then hands
 * each reply to the one command in flight. It enforces "one command at a time" (a second
 * {@link request} while one is pending is a programming error) but does no queuing, typing or
 * hangup policy: that is {@link Agi}'s job.
 *
 * Works over any readable/writable pair: a TCP socket (FastAGI; both are the socket) or
 * stdin/stdout (AGI scripts).
 */
export class AgiConnection {
  /** Resolves with the parsed header; rejects if the connection fails or sends something that is not AGI first. */
  readonly header: Promise<AgiHeader>;

  private readonly splitter: LineSplitter;
  private headerReader: HeaderReader | undefined;
  private readonly replies: ReplyReader;
  private pending: Pending | undefined;
  /** The object {@link pending} points at while a command is in flight, made by the first command. */
  private slot: Pending | undefined;
  private resolveHeader!: (header: AgiHeader) => void;
  private rejectHeader!: (error: Error) => void;
  private ending = false;
  private finished = false;
  private endResolvers: Array<() => void> = [];
  private readonly endListeners: Array<(end: ConnectionEnd) => void> = [];
  private hangupListener: (() => void) | undefined;
  private session: ConnectionSession | undefined;
  private hangupPending = false;
  private endTimer: NodeJS.Timeout | undefined;
  private logSource: LogSource;
  private trace: boolean;
  /** Log each command and its reply at debug. */
  private wire: boolean;
  private lineTap: LineTap | undefined;
  private readonly observeCommand: ((line: string, ms: number) => void) | undefined;
  /** Made on the first stray line only. */
  private strayBudget: LogBudget | undefined;
  /** Lines received that were neither a reply, nor part of one, nor `HANGUP`. */
  strayLines = 0;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    options: AgiConnectionOptions,
  ) {
    this.splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.replies = new ReplyReader(options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES);
    this.observeCommand = options.observeCommand;
    this.headerReader = new HeaderReader(options.headerLimits ?? DEFAULT_HEADER_LIMITS);
    this.logSource = options.log;
    this.trace = options.log.isLevelEnabled('trace');
    this.wire = options.log.isLevelEnabled('debug');
    this.header = new Promise<AgiHeader>(takeResolvers as (resolve: (header: AgiHeader) => void, reject: (error: Error) => void) => void);
    this.resolveHeader = takenResolve;
    this.rejectHeader = takenReject;
    takenResolve = noop;
    takenReject = noop;
    // A rejected header that nobody awaits (the server gave up on the call) must not crash the process.
    this.header.catch(noop);
    (input as unknown as OwnedStream)[kConnection] = this;
    (output as unknown as OwnedStream)[kConnection] = this;
    input.on('data', sharedOnData);
    input.on('end', sharedOnEnd);
    input.on('error', sharedOnError);
    input.on('close', sharedOnClose);
    if (output !== (input as unknown)) output.on('error', sharedOnError);
  }

  /**
   * Sets the callback for the out-of-band `HANGUP` line (or SIGHUP for stdio scripts). A hangup that
   * arrived before a listener was set (e.g. in the same packet as the header) is delivered at once.
   */
  onHangupLine(listener: () => void): void {
    this.hangupListener = listener;
    if (this.hangupPending) {
      this.hangupPending = false;
      listener();
    }
  }

  /**
   * Attaches the session above this connection (its {@link Agi}): told of the `HANGUP` line (as
   * {@link onHangupLine}) and, after the {@link onEnd} listeners, of the end. One object per
   * session instead of two closures.
   */
  attach(session: ConnectionSession): void {
    this.session = session;
    if (this.hangupPending) {
      this.hangupPending = false;
      session.hangupLine();
    }
  }

  /** Reports a hangup to the listener: the `HANGUP` line, or SIGHUP for a stdio script. */
  hangupSignalled(): void {
    if (this.ending || this.finished) return;
    if (this.hangupListener) this.hangupListener();
    else if (this.session) this.session.hangupLine();
    else this.hangupPending = true;
  }

  /** Sees every protocol line after the header, both ways (for transcripts). */
  tap(tap: LineTap): void {
    this.lineTap = tap;
  }

  /** Registers a callback run once when the connection is finished, whichever way. */
  onEnd(listener: (end: ConnectionEnd) => void): void {
    this.endListeners.push(listener);
  }

  /** `true` once the whole header has been received. */
  get hasHeader(): boolean {
    return this.headerReader === undefined;
  }

  /** `true` once the connection is finished (closed, failed or ended); nothing more can be sent. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Logger this connection writes to (the session's). */
  get log(): Logger {
    if (typeof this.logSource === 'function') this.logSource = this.logSource();
    return this.logSource;
  }

  /**
   * Switches to the call's logger once its identity is known (the header names its channel and
   * uniqueid). `source` may make it on first use; `levels` (the logger it derives from) says which
   * levels are on without making it.
   */
  useLog(source: LogSource, levels: Logger): void {
    this.logSource = source;
    this.trace = levels.isLevelEnabled('trace');
    this.wire = levels.isLevelEnabled('debug');
  }

  /**
   * Sends one encoded command line (LF included) and resolves with its final reply. Rejects with
   * {@link AgiHangupError} (`socket-closed`) if the connection ends first. When `trailer` says a
   * reply is followed by a second one for the same command (`exec` of an application returning 1
   * gets a 520 block after its 200 line), that second reply is read too, logged and dropped, so it
   * can never be taken for the next command's.
   */
  request<T = AgiReply>(line: string, mode: DataMode = 'keyword', trailer?: (reply: AgiReply) => boolean, map?: (reply: AgiReply) => T): Promise<T> {
    return this.send(line, mode, trailer, map, undefined, undefined) as Promise<T>;
  }

  /**
   * {@link request}, with the reply read by `decoder.decodeReply(reply, tag)` as it arrives: the
   * same for every command of a session, so no closure per command.
   */
  requestDecoded(line: string, mode: DataMode, trailer: ((reply: AgiReply) => boolean) | undefined, decoder: ReplyDecoder, tag: unknown): Promise<unknown> {
    return this.send(line, mode, trailer, undefined, decoder, tag);
  }

  private send(
    line: string,
    mode: DataMode,
    trailer: ((reply: AgiReply) => boolean) | undefined,
    map: ((reply: AgiReply) => unknown) | undefined,
    decoder: ReplyDecoder | undefined,
    tag: unknown,
  ): Promise<unknown> {
    if (this.ending) return Promise.reject(new AgiSessionClosedError(line.trimEnd()));
    if (this.finished) return Promise.reject(new AgiHangupError('socket-closed', line.trimEnd()));
    if (this.pending) return Promise.reject(new AgiError('agikit bug: a second AGI command was sent while one is in flight'));
    const reply = new Promise<unknown>(takeResolvers);
    let pending = this.slot;
    if (pending === undefined) {
      pending = { wire: line, mode, sentAt: 0, marker: undefined, ownReply: undefined, trailer, first: undefined, resolve: takenResolve, map, decoder, tag, reject: takenReject };
      this.slot = pending;
    } else {
      pending.wire = line;
      pending.mode = mode;
      pending.marker = undefined;
      pending.ownReply = undefined;
      pending.trailer = trailer;
      pending.first = undefined;
      pending.resolve = takenResolve;
      pending.map = map;
      pending.decoder = decoder;
      pending.tag = tag;
      pending.reject = takenReject;
    }
    pending.sentAt = this.observeCommand ? performance.now() : 0;
    takenResolve = noop;
    takenReject = noop;
    this.pending = pending;
    if (this.trace) this.log.trace({ line: line.slice(0, -1) }, 'agi >>');
    this.lineTap?.sent(line.slice(0, -1));
    this.output.write(line);
    return reply;
  }

  /** `true` while a command is in flight. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** The command line in flight (without LF), or `undefined`. */
  get inFlight(): string | undefined {
    return this.pending?.wire.slice(0, -1);
  }

  /**
   * Interrupts the command in flight the way Asterisk allows: by sending another command while it
   * runs. Playback commands (`STREAM FILE`, `GET DATA`, `GET OPTION`) then stop and
   * print **no** reply; `WAIT FOR DIGIT` replies `result=1`. The command sent is the harmless,
   * dead-capable `GET FULL VARIABLE "<marker>"`, whose reply `200 result=1 (<marker>)` cannot be
   * mistaken for any other. Its reply is consumed here; the command in flight then resolves with its
   * own reply if it had one (it finished first, or answers interruption), or with a reply marked
   * `interrupted` if Asterisk suppressed it. Returns `false` when nothing is in flight.
   */
  interrupt(marker: string): boolean {
    const pending = this.pending;
    if (!pending || pending.marker || this.ending || this.finished) return false;
    pending.marker = marker;
    const line = `GET FULL VARIABLE "${marker}"\n`;
    if (this.trace) this.log.trace({ line: line.slice(0, -1) }, 'agi >> (interrupt)');
    this.lineTap?.sent(line.slice(0, -1));
    this.output.write(line);
    return true;
  }

  /**
   * Ends the session politely: half-closes our side so Asterisk reads EOF, finishes the AGI and closes
   * its side (after its final `HANGUP` line, which is ignored). Destroys the streams if Asterisk has not
   * closed within `graceMs`. Resolves when the connection is finished. Asterisk never sees a broken pipe.
   *
   * `lastLine` (an encoded command, LF included) is written just before the EOF, even while a command
   * is in flight: Asterisk runs it before it reads the EOF. Its reply, and any reply still due, is
   * ignored, so it can never be taken for another command's.
   */
  end(graceMs = 5000, lastLine?: string): Promise<void> {
    if (this.finished) return Promise.resolve();
    const done = new Promise<void>(takeResolvers as (resolve: () => void, reject: (error: Error) => void) => void);
    this.endResolvers.push(takenResolve as () => void);
    takenResolve = noop;
    takenReject = noop;
    if (!this.ending) {
      this.ending = true;
      // Errors are costly to build (stack capture): build one only when something waits for it.
      if (this.pending) this.rejectPending(new AgiSessionClosedError());
      if (lastLine !== undefined) {
        if (this.trace) this.log.trace({ line: lastLine.slice(0, -1) }, 'agi >> (last)');
        this.lineTap?.sent(lastLine.slice(0, -1));
        this.output.write(lastLine);
      }
      this.output.end();
      if (graceMs <= 0) this.finish({ kind: 'ended' });
      else this.endTimer = setTimeout(graceOver, graceMs, this);
    }
    return done;
  }

  /** Tears the connection down at once (bad input, timeouts, shutdown). */
  destroy(error?: Error): void {
    if (this.finished) return;
    if (error) this.rejectHeader(error);
    this.finish(this.ending && !error ? { kind: 'ended' } : { kind: 'lost', ...(error ? { error } : {}) });
  }

  /** @internal Input from the stream (through the shared listener). */
  onData(chunk: Buffer): void {
    if (this.finished) return;
    try {
      this.splitter.each(chunk, this, onLine);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** @internal One line from the splitter. */
  line(line: string): void {
    if (this.finished) return;
    if (this.headerReader) this.onHeaderLine(line);
    else this.onReplyLine(line);
  }

  private onHeaderLine(line: string): void {
    let header: AgiHeader | undefined;
    try {
      header = this.headerReader!.push(line);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (header) {
      this.headerReader = undefined;
      this.resolveHeader(header);
    }
  }

  private onReplyLine(line: string): void {
    if (this.trace) this.log.trace({ line }, 'agi <<');
    this.lineTap?.received(line);
    const pending = this.pending;
    let event: AgiReply | ReplyStep;
    try {
      event = this.replies.read(line, pending?.mode ?? 'keyword');
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (typeof event === 'number') {
      if (event === ReplyStep.Hangup) this.hangupSignalled();
      // Stray empty lines happen (e.g. after the header); anything else is worth a warning.
      else if (event === ReplyStep.Unexpected && line !== '') this.stray(line);
      return;
    }
    if (!pending) {
      // After we half-closed, Asterisk may still answer a command we gave up on: harmless.
      if (!this.ending) this.log.warn({ line }, 'AGI reply with no command in flight; ignored');
      return;
    }
    if (pending.marker) {
      if (event.data !== pending.marker) {
        // The command's own reply (it finished first, or answers interruption): hold it.
        pending.ownReply = event;
        return;
      }
      this.settle(pending, pending.ownReply ?? interruptedReply(pending.wire.slice(0, -1)));
      return;
    }
    if (!pending.first && pending.trailer?.(event)) {
      pending.first = event;
      pending.mode = 'keyword';
      return;
    }
    if (pending.first) this.log.warn({ trailer: event.lines }, 'second reply to one command (Asterisk quirk); dropped');
    this.settle(pending, pending.first ?? event);
  }

  /** Counts a stray line, and logs it unless this connection has logged too many lately. */
  private stray(line: string): void {
    this.strayLines += 1;
    const suppressed = (this.strayBudget ??= new LogBudget(STRAY_LINES_LOGGED, 60_000)).take();
    if (suppressed === undefined) return;
    this.log.warn({ line: line.slice(0, 200), ...(suppressed > 0 ? { notLogged: suppressed } : {}) }, 'unexpected line from Asterisk; ignored');
  }

  /** @internal The stream ended (EOF). */
  onInputEnd(): void {
    if (this.headerReader) {
      this.fail(new AgiProtocolError('connection closed before the AGI header ended'));
      return;
    }
    this.finish(this.ending ? { kind: 'ended' } : { kind: 'lost' });
  }

  /** @internal The stream closed. */
  onInputClose(): void {
    this.finish(this.ending ? { kind: 'ended' } : { kind: 'lost' });
  }

  /** @internal The stream failed. */
  onStreamError(error: Error): void {
    if (this.ending) {
      // Asterisk may reset instead of closing after our EOF; the session is over either way.
      this.finish({ kind: 'ended' });
      return;
    }
    this.fail(error);
  }

  private fail(error: Error): void {
    this.rejectHeader(error);
    this.finish({ kind: 'lost', error });
  }

  /** Completes the command in flight with its reply (read through its `map` or decoder, if any). */
  private settle(pending: Pending, reply: AgiReply): void {
    // Take everything out of the slot first: a decoder may send the next command (a channel probe),
    // which reuses it.
    const { resolve, reject, map, decoder, tag, wire } = pending;
    this.pending = undefined;
    emptySlot(pending);
    if (this.observeCommand) this.observeCommand(wire.slice(0, -1), performance.now() - pending.sentAt);
    if (this.wire) this.log.debug({ command: wire.slice(0, -1), reply: reply.lines.join('\n') }, 'agi command');
    if (!map && !decoder) {
      resolve(reply);
      return;
    }
    let value: unknown;
    try {
      value = decoder ? decoder.decodeReply(reply, tag) : (map as (reply: AgiReply) => unknown)(reply);
    } catch (error) {
      reject(error as Error);
      return;
    }
    resolve(value);
  }

  private rejectPending(error: Error): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const { reject, decoder, tag } = pending;
    emptySlot(pending);
    decoder?.replyLost?.(tag);
    reject(error);
  }

  private finish(end: ConnectionEnd): void {
    if (this.finished) return;
    this.finished = true;
    if (this.endTimer) clearTimeout(this.endTimer);
    // Errors are costly to build (stack capture): build them only when something waits for one.
    if (this.headerReader) this.rejectHeader(end.kind === 'lost' && end.error ? end.error : new AgiHangupError('socket-closed'));
    if (this.pending) this.rejectPending(new AgiHangupError('socket-closed'));
    this.replies.reset();
    if (this.strayBudget?.suppressed) this.log.warn({ notLogged: this.strayBudget.suppressed, strayLines: this.strayLines }, 'unexpected lines from Asterisk ignored without a log line');
    // Listeners run before the streams are destroyed, so they can still read e.g. the peer address.
    for (const listener of this.endListeners) listener(end);
    this.session?.connectionEnded(end);
    this.input.off('data', sharedOnData);
    // Keep an error listener: a late error on a destroyed stream must not become an uncaught exception.
    this.input.destroy();
    if (this.output !== (this.input as unknown)) this.output.destroy();
    for (const resolve of this.endResolvers) resolve();
    this.endResolvers = [];
  }
}

/** Asterisk did not close its side within the grace period after our EOF: the session is over anyway. */
function graceOver(connection: AgiConnection): void {
  connection.destroy();
}

/** The splitter's line callback: shared by every connection (no bound closure per connection). */
function onLine(connection: AgiConnection, line: string): void {
  connection.line(line);
}

/** The reply a command gets when Asterisk stopped it for new input and printed nothing. */
function interruptedReply(line: string): AgiReply {
  return { code: 0, result: '', data: undefined, attrs: {}, text: `interrupted: ${line}`, usage: undefined, lines: [], interrupted: true };
}
