import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Agi } from '../agi/agi.js';
import { AgiConnection, type ConnectionEnd } from '../agi/connection.js';
import type { Transcript } from '../agi/transcript.js';
import { AgiProtocolError } from '../errors.js';
import { DEFAULT_HEADER_LIMITS, type AgiHeader, type HeaderLimits } from '../protocol/header.js';
import { allowList } from './allow.js';
import { Router, type AgiHandler, type RouterLike } from './router.js';
import { runCall, type CallEnd, type CallStatus } from './run-call.js';

export type { CallEnd, CallStatus } from './run-call.js';

/** Options of {@link FastAgiServer}. */
export interface FastAgiServerOptions {
  /** Address to listen on (default `127.0.0.1`). */
  host?: string;
  /** TCP port (default 4573, FastAGI's; `0` picks a free one). */
  port?: number;
  /** pino logger; each call gets a child with `uniqueid` and `channel`. Default: pino at `info` on stdout. */
  logger?: Logger;
  /** Most calls handled at once; a call beyond that ends at once with status `BUSY`. Default: no limit. */
  maxConnections?: number;
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
}

/** Counters since the server was created. */
export interface ServerStats {
  /** Calls whose handler is running now. */
  active: number;
  /** Connections accepted (allowed) in all. */
  connections: number;
  /** Calls ended, by status. */
  calls: Record<CallStatus, number>;
  /** Connections refused by `allow`. */
  refused: number;
  /** Connections closed for bad input: not AGI, header too big or too slow, line too long. */
  protocolErrors: number;
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
  private readonly headerLimits: HeaderLimits;
  private readonly connections = new Set<AgiConnection>();
  private readonly calls = new Set<Agi>();
  private readonly idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private readonly counters: ServerStats = {
    active: 0,
    connections: 0,
    calls: { SUCCESS: 0, FAILURE: 0, HANGUP: 0, NOTFOUND: 0, BUSY: 0 },
    refused: 0,
    protocolErrors: 0,
  };

  constructor(private readonly options: FastAgiServerOptions = {}) {
    super();
    this.log = options.logger ?? pino();
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 4573;
    if (options.router) {
      this.router = options.router;
    } else {
      this.ownRouter = new Router();
      this.router = this.ownRouter;
    }
    this.isAllowed = options.allow ? allowList(options.allow) : undefined;
    this.headerLimits = { ...DEFAULT_HEADER_LIMITS, ...options.headerLimits };
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (error) => {
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
        this.log.info({ host: address.address, port: address.port }, 'FastAGI server listening');
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
    return { ...this.counters, calls: { ...this.counters.calls } };
  }

  /**
   * Stops accepting connections and waits for calls in progress to finish. Calls still running after
   * `timeoutMs` are ended (their pending commands reject, and each call returns to the dialplan).
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.drain(options.timeoutMs ?? 30_000);
    return this.closing;
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.log.info({ active: this.counters.active }, 'FastAGI server closing');
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), timeoutMs);
    });
    const outcome = await Promise.race([this.whenIdle().then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      this.log.warn({ active: this.calls.size }, 'drain deadline passed; ending calls in progress');
      await Promise.all([...this.calls].map((agi) => agi.terminate()));
      for (const connection of this.connections) connection.destroy();
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
    this.counters.connections++;
    const connection = new AgiConnection(socket, socket, {
      log: this.log,
      headerLimits: this.headerLimits,
      fair: true,
      ...(this.options.maxLineBytes ? { maxLineBytes: this.options.maxLineBytes } : {}),
    });
    this.connections.add(connection);
    connection.onEnd((end) => this.forget(connection, socket, end));
    this.awaitHeader(connection);
  }

  /** Arms the header timeout and starts the call once the header is in. */
  private awaitHeader(connection: AgiConnection): void {
    const timeoutMs = this.options.headerTimeoutMs ?? 5000;
    const timer = setTimeout(() => connection.destroy(new AgiProtocolError(`no complete AGI header within ${timeoutMs} ms`)), timeoutMs);
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
    if (!connection.hasHeader && !this.closing) {
      // End listeners run before the socket is destroyed, so the peer address is still readable.
      const remote = socket.remoteAddress;
      const error = (end.kind === 'lost' && end.error) || new AgiProtocolError('connection closed before the AGI header ended');
      this.counters.protocolErrors++;
      this.log.warn({ remote, err: error }, 'FastAGI connection closed: bad or missing AGI header');
      this.emit('protocolError', error, remote);
    }
    if (this.connections.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private readonly callStarted = (agi: Agi): void => {
    this.counters.active++;
    this.calls.add(agi);
    this.emit('call', agi);
  };

  private readonly callFinished = (agi: Agi): void => {
    this.counters.active--;
    this.calls.delete(agi);
  };

  private async runCall(connection: AgiConnection, header: AgiHeader): Promise<void> {
    const max = this.options.maxConnections;
    const end = await runCall(connection, header, this.router, {
      log: this.log,
      busy: max !== undefined && this.counters.active >= max,
      ...(this.options.statusVariable !== undefined ? { statusVariable: this.options.statusVariable } : {}),
      ...(this.options.commandTimeoutMs !== undefined ? { commandTimeoutMs: this.options.commandTimeoutMs } : {}),
      ...(this.options.hangupGraceMs !== undefined ? { hangupGraceMs: this.options.hangupGraceMs } : {}),
      ...(this.options.transcripts ? { onTranscript: this.options.transcripts } : {}),
      onStart: this.callStarted,
      onFinish: this.callFinished,
    });
    this.counters.calls[end.status]++;
    this.emit('callEnd', end);
  }
}
