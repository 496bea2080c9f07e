import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Agi, AgikitCloseStatus } from '../agi/agi.js';
import { AgiConnection, type ConnectionEnd } from '../agi/connection.js';
import { LogBudget } from '../agi/log-budget.js';
import type { Transcript } from '../agi/transcript.js';
import { AgiProtocolError } from '../errors.js';
import { DEFAULT_HEADER_LIMITS, type AgiHeader, type HeaderLimits } from '../protocol/header.js';
import { allowList } from './allow.js';
import { connectionFdBudget } from './fd-budget.js';
import { Router, type AgiHandler, type RouterLike } from './router.js';
import { CALL_STATUSES, runCall, type CallEnd, type CallStatus, type RunCallOptions } from './run-call.js';
import type { AgiConnectionOptions } from '../agi/connection.js';

export type { CallEnd, CallStatus } from './run-call.js';

/** Default {@link FastAgiServerOptions.maxPendingConnections}. */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 1000;
/** Default {@link FastAgiServerOptions.headerTimeoutMs}. */
export const DEFAULT_HEADER_TIMEOUT_MS = 5000;
/** A handler still running this long after its session closed is reported (log line with route and age). */
const LINGER_REPORT_MS = 1000;

/** Options of {@link FastAgiServer}. */
export interface FastAgiServerOptions {
  /** Address to listen on (default `127.0.0.1`). */
  host?: string;
  /** TCP port (default 4573, FastAGI's; `0` picks a free one). */
  port?: number;
  /** pino logger; each call gets a child with `uniqueid` and `channel`. Default: pino at `info` on stdout. */
  logger?: Logger;
  /**
   * Most calls in progress at once (sessions open, from the handler's start until the connection
   * closes); a call beyond that ends at once with status `BUSY`. Default: no limit.
   */
  maxConnections?: number;
  /**
   * Most connections not in a call at once: still sending their header, or being refused (`BUSY`,
   * `NOTFOUND`). A connection beyond that is closed as soon as it is accepted (counted, and logged at
   * most every 10 s). Default 1000.
   */
  maxPendingConnections?: number;
  /** How long a new connection may take to send its whole `agi_*` header (default 5000 ms). */
  headerTimeoutMs?: number;
  /** Client addresses allowed to connect (CIDR ranges or addresses). Default: everyone. */
  allow?: readonly string[];
  /** Channel variable set to the call's status when it ends (default `AGIKIT_STATUS`; `false`: none). */
  statusVariable?: string | false;
  /** Default `timeoutMs` for every command (default: none). */
  commandTimeoutMs?: number;
  /** Longest line accepted from Asterisk (default 64 KiB). */
  maxLineBytes?: number;
  /** Longest multi-line reply accepted from Asterisk, all its lines together (default 64 KiB). */
  maxReplyBytes?: number;
  /** Header bounds (default 256 lines, 64 KiB). */
  headerLimits?: Partial<HeaderLimits>;
  /**
   * How long a handler may keep a hung-up call's session open (default 30000 ms). Asterisk holds the
   * channel until the session closes, so past this the server closes it for the handler.
   */
  hangupGraceMs?: number;
  /**
   * Opt-in recording: called with each call's {@link Transcript} when it ends, so a real call can
   * become a regression test (`agikit replay`). Costs a little memory per call while it runs.
   */
  transcripts?: (transcript: Transcript, end: CallEnd) => void;
  /** Routes; by default the server has its own, filled by {@link FastAgiServer.route}. */
  router?: RouterLike;
  /**
   * Called as each command's final reply arrives, with the command line (without LF) and its round
   * trip in ms: for metrics. Costs a clock read per command; unset, nothing is measured.
   */
  observeCommand?: (line: string, ms: number) => void;
}

/** Counters since the server was created, and what is open now. */
export interface ServerStats {
  /** Calls in progress now: sessions open with a handler (what `maxConnections` limits). */
  active: number;
  /** Connections not in a call now: sending their header, or being refused (what `maxPendingConnections` limits). */
  pending: number;
  /**
   * Handlers still running after their session closed (the server closed it for them, or the
   * connection dropped). Each one still running a second later is logged with its route and age.
   */
  lingering: number;
  /** Connections accepted (allowed) in all. */
  connections: number;
  /** Calls whose handler started, in all. */
  started: number;
  /** Calls ended (handler finished, or call refused), by the status the dialplan was given. */
  calls: Record<CallStatus, number>;
  /** Sessions agikit closed itself, by the status it wrote (counted when it closes them). */
  closedByAgikit: Record<AgikitCloseStatus, number>;
  /** Connections refused by `allow`. */
  refused: number;
  /** Connections closed for bad input: not AGI, header too big or too slow, line or reply too long. */
  protocolErrors: number;
  /** Connections closed on accept because `maxPendingConnections` were already pending. */
  overPendingLimit: number;
  /** Connections closed on accept because the process was close to running out of file descriptors. */
  overFdLimit: number;
  /** Errors accepting a connection reported by the operating system (e.g. EMFILE). */
  acceptErrors: number;
  /** Lines from Asterisk that were not AGI, ignored (counted when their connection ends). */
  strayLines: number;
}

/** What the server tracks for a call whose handler started. */
interface OpenCall {
  readonly agi: Agi;
  readonly route: string;
  readonly started: number;
  /** The handler has not returned yet. */
  running: boolean;
  /** The connection has closed. */
  closed: boolean;
  lingerTimer?: NodeJS.Timeout;
  reported?: boolean;
}

/** Options of {@link FastAgiServer.close}. */
export interface CloseOptions {
  /** How long calls in progress may take to finish before they are ended (default 30000 ms). */
  timeoutMs?: number;
}

/**
 * A FastAGI server: Asterisk's `AGI(agi://host:port/path?query,args…)` connects here, and the handler
 * of the matching route runs the call through a typed {@link Agi}.
 *
 * Events: `call` (agi) when a handler starts, `callEnd` ({@link CallEnd}), `refused` (address) for a
 * client outside `allow`, `protocolError` (error, address) for bad input, `error` for listener errors.
 */
export class FastAgiServer extends EventEmitter {
  readonly log: Logger;
  private readonly router: RouterLike;
  private readonly ownRouter: Router | undefined;
  private readonly server: Server;
  private readonly host: string;
  private readonly port: number;
  private readonly isAllowed: ((address: string | undefined) => boolean) | undefined;
  private readonly connections = new Set<AgiConnection>();
  /** Calls whose handler started and whose connection is still open, by connection. */
  private readonly open = new Map<AgiConnection, OpenCall>();
  private lingering = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  /** While draining: moves the drain deadline earlier. */
  private drainDeadline: { bringForward(timeoutMs: number): void } | undefined;
  private readonly maxPending: number;
  private fdBudget: number | undefined;
  private fdLimit: number | undefined;
  /** One warning per 10 s for each kind of connection turned away at accept. */
  private readonly shedLog = { pending: new LogBudget(1, 10_000), fds: new LogBudget(1, 10_000), accept: new LogBudget(1, 10_000) };
  private readonly counters: Omit<ServerStats, 'active' | 'pending' | 'lingering'> = {
    connections: 0,
    started: 0,
    calls: Object.fromEntries(CALL_STATUSES.map((status) => [status, 0])) as Record<CallStatus, number>,
    closedByAgikit: { TIMEOUT: 0, ABORTED: 0, LINGERED: 0, SHUTDOWN: 0 },
    refused: 0,
    protocolErrors: 0,
    overPendingLimit: 0,
    overFdLimit: 0,
    acceptErrors: 0,
    strayLines: 0,
  };

  /** What every connection is made with (built once: a call costs no options object). */
  private readonly connectionOptions: AgiConnectionOptions;
  /** What every call is run with, admitted or refused as busy (built once, hooks included). */
  private readonly callOptions: { admitted: RunCallOptions; busy: RunCallOptions };
  /** Calls whose handler is running, by connection (the open ones are in {@link open} too). */
  private readonly starting = new Map<AgiConnection, OpenCall>();

  constructor(private readonly options: FastAgiServerOptions = {}) {
    super();
    this.log = options.logger ?? pino();
    this.connectionOptions = {
      log: this.log,
      headerLimits: { ...DEFAULT_HEADER_LIMITS, ...options.headerLimits },
      ...(options.maxLineBytes ? { maxLineBytes: options.maxLineBytes } : {}),
      ...(options.maxReplyBytes ? { maxReplyBytes: options.maxReplyBytes } : {}),
      ...(options.observeCommand ? { observeCommand: options.observeCommand } : {}),
    };
    const admitted: RunCallOptions = {
      log: this.log,
      busy: false,
      ...(options.statusVariable !== undefined ? { statusVariable: options.statusVariable } : {}),
      ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
      ...(options.hangupGraceMs !== undefined ? { hangupGraceMs: options.hangupGraceMs } : {}),
      ...(options.transcripts ? { onTranscript: options.transcripts } : {}),
      onStart: (agi, route, connection) => this.callStarted(agi, route, connection),
      onFinish: (_agi, connection) => {
        const call = this.starting.get(connection);
        if (call) this.handlerFinished(call, connection);
      },
    };
    this.callOptions = { admitted, busy: { ...admitted, busy: true } };
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 4573;
    if (options.router) {
      this.router = options.router;
    } else {
      this.ownRouter = new Router();
      this.router = this.ownRouter;
    }
    this.isAllowed = options.allow ? allowList(options.allow) : undefined;
    this.maxPending = options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS;
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (error: NodeJS.ErrnoException) => {
      if (error.syscall === 'accept') {
        // Not fatal (the listener goes on), and it can repeat for every connection: count, log rarely.
        this.counters.acceptErrors++;
        this.shed('accept', { err: error }, 'FastAGI connection lost: accept failed');
        return;
      }
      // An 'error' event nobody listens to would throw; log it instead.
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else this.log.error({ err: error }, 'FastAGI listener error');
    });
  }

  /** Adds a route (see {@link Router}); returns the server for chaining. */
  route(pattern: string, handler: AgiHandler): this {
    this.requireOwnRouter().route(pattern, handler);
    return this;
  }

  /** Sets the handler for calls that match no route. */
  fallback(handler: AgiHandler): this {
    this.requireOwnRouter().fallback(handler);
    return this;
  }

  /** Starts listening; resolves with the bound address (useful with `port: 0`). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        const fds = connectionFdBudget();
        this.fdBudget = fds?.budget;
        this.fdLimit = fds?.limit;
        this.log.info({ host: address.address, port: address.port, ...(fds ? { fdLimit: fds.limit, connectionsPossible: fds.budget } : {}) }, 'FastAGI server listening');
        resolve(address);
      });
    });
  }

  /** The bound address, or `null` before {@link listen}. */
  get address(): AddressInfo | null {
    const address = this.server.address();
    return address && typeof address === 'object' ? address : null;
  }

  /** A snapshot of the counters. */
  get stats(): ServerStats {
    return {
      active: this.open.size,
      pending: this.connections.size - this.open.size,
      lingering: this.lingering,
      ...this.counters,
      calls: { ...this.counters.calls },
      closedByAgikit: { ...this.counters.closedByAgikit },
    };
  }

  /** `true` once {@link close} has been called. */
  get draining(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Stops accepting connections and waits for calls in progress to finish. Calls still running after
   * `timeoutMs` are ended: their pending commands reject, the status variable is set to `SHUTDOWN`,
   * and every remaining connection is closed at once, whether or not Asterisk reads it (it does not
   * during an `EXEC Dial`), so the promise settles at the deadline, not a grace period later.
   * Called again while draining, it can only bring the deadline forward (`timeoutMs: 0`: now).
   */
  close(options: CloseOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (this.closing) {
      this.drainDeadline?.bringForward(timeoutMs);
      return this.closing;
    }
    this.closing = this.drain(timeoutMs);
    return this.closing;
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.log.info({ active: this.open.size, timeoutMs }, 'FastAGI server closing');
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    let at = Date.now() + timeoutMs;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), timeoutMs);
      this.drainDeadline = {
        bringForward: (ms) => {
          if (Date.now() + ms >= at) return;
          at = Date.now() + ms;
          clearTimeout(timer);
          timer = setTimeout(() => resolve('deadline'), ms);
        },
      };
    });
    const outcome = await Promise.race([this.whenIdle().then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    this.drainDeadline = undefined;
    if (outcome === 'deadline') {
      this.log.warn({ active: this.open.size, connections: this.connections.size }, 'drain deadline passed; ending calls in progress');
      // Each call gets its status line and EOF; then every socket goes at once, whether or not
      // Asterisk is reading: the deadline is the deadline.
      for (const call of this.open.values()) void call.agi.terminate('SHUTDOWN');
      for (const connection of [...this.connections]) connection.destroy();
    }
    await stopped;
    this.log.info('FastAGI server closed');
  }

  private whenIdle(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private requireOwnRouter(): Router {
    if (!this.ownRouter) throw new TypeError('this server was given a router: add routes to it');
    return this.ownRouter;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.isAllowed) {
      // remoteAddress is a getpeername() system call: read it only when it is needed.
      const remote = socket.remoteAddress;
      if (!this.isAllowed(remote)) {
        this.counters.refused++;
        this.log.warn({ remote }, 'FastAGI connection refused: address not allowed');
        this.emit('refused', remote);
        socket.destroy();
        return;
      }
    }
    if (this.connections.size - this.open.size >= this.maxPending) {
      this.counters.overPendingLimit++;
      this.shed('pending', { maxPendingConnections: this.maxPending }, 'FastAGI connection closed: too many connections pending (header not yet received, or being refused)');
      socket.destroy();
      return;
    }
    if (this.fdBudget !== undefined && this.connections.size >= this.fdBudget) {
      this.counters.overFdLimit++;
      this.shed('fds', { connections: this.connections.size, fdLimit: this.fdLimit }, 'FastAGI connection closed: the process is running out of file descriptors (raise ulimit -n)');
      socket.destroy();
      return;
    }
    this.counters.connections++;
    const connection = new AgiConnection(socket, socket, this.connectionOptions);
    this.connections.add(connection);
    connection.onEnd((end) => this.forget(connection, socket, end));
    this.awaitHeader(connection);
  }

  /** Logs a connection turned away at accept, at most once per 10 s per kind, with how many were not logged. */
  private shed(kind: keyof FastAgiServer['shedLog'], fields: Record<string, unknown>, message: string): void {
    const notLogged = this.shedLog[kind].take();
    if (notLogged !== undefined) this.log.warn({ ...fields, ...(notLogged > 0 ? { notLogged } : {}) }, message);
  }

  /** Arms the header timeout and starts the call once the header is in. */
  private awaitHeader(connection: AgiConnection): void {
    const timeoutMs = this.options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
    const timer = setTimeout(headerTimedOut, timeoutMs, connection, timeoutMs);
    connection.header.then(
      (header) => {
        clearTimeout(timer);
        void this.runCall(connection, header);
      },
      () => clearTimeout(timer),
    );
  }

  /** A connection is finished: forget it, and log one that never sent a valid header. */
  private forget(connection: AgiConnection, socket: Socket, end: ConnectionEnd): void {
    this.connections.delete(connection);
    this.counters.strayLines += connection.strayLines;
    const call = this.open.get(connection);
    if (call) this.sessionClosed(connection, call);
    if (!connection.hasHeader && !this.closing) {
      // End listeners run before the socket is destroyed, so the peer address is still readable.
      const remote = socket.remoteAddress;
      const error = (end.kind === 'lost' && end.error) || new AgiProtocolError('connection closed before the AGI header ended');
      this.counters.protocolErrors++;
      this.log.warn({ remote, err: error }, 'FastAGI connection closed: bad or missing AGI header');
      this.emit('protocolError', error, remote);
    } else if (end.kind === 'lost' && end.error instanceof AgiProtocolError) {
      // Bad input mid-call (a line or reply too long); the call logged it.
      this.counters.protocolErrors++;
      this.emit('protocolError', end.error, socket.remoteAddress);
    }
    if (this.connections.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * A call's session is over: it no longer counts against `maxConnections`, whether or not its
   * handler has returned. One that has not is lingering: counted, and reported if it goes on.
   */
  private sessionClosed(connection: AgiConnection, call: OpenCall): void {
    this.open.delete(connection);
    call.closed = true;
    const status = call.agi.closeStatus;
    if (status) this.counters.closedByAgikit[status]++;
    if (!call.running) return;
    this.lingering++;
    call.lingerTimer = setTimeout(() => {
      call.reported = true;
      call.agi.log.warn({ route: call.route, path: call.agi.path, ageMs: Date.now() - call.started, lingering: this.lingering }, 'handler still running after its session closed');
    }, LINGER_REPORT_MS);
    call.lingerTimer.unref();
  }

  private handlerFinished(call: OpenCall, connection: AgiConnection): void {
    this.starting.delete(connection);
    call.running = false;
    if (!call.closed) return;
    this.lingering--;
    clearTimeout(call.lingerTimer);
    if (call.reported) call.agi.log.info({ route: call.route, ageMs: Date.now() - call.started }, 'lingering handler finished');
  }

  private callStarted(agi: Agi, route: string, connection: AgiConnection): void {
    const call: OpenCall = { agi, route, started: Date.now(), running: true, closed: connection.isFinished };
    this.starting.set(connection, call);
    this.counters.started++;
    if (call.closed) this.lingering++;
    else this.open.set(connection, call);
    this.emit('call', agi);
  }

  private async runCall(connection: AgiConnection, header: AgiHeader): Promise<void> {
    const max = this.options.maxConnections;
    const busy = max !== undefined && this.open.size >= max;
    const end = await runCall(connection, header, this.router, busy ? this.callOptions.busy : this.callOptions.admitted);
    this.counters.calls[end.status]++;
    if (this.listenerCount('callEnd') > 0) this.emit('callEnd', end);
  }
}

/** A connection's header timeout (shared: no closure per connection). */
function headerTimedOut(connection: AgiConnection, timeoutMs: number): void {
  connection.destroy(new AgiProtocolError(`no complete AGI header within ${timeoutMs} ms`));
}
