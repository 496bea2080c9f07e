/**
 * The operations endpoint of `agikit serve --metrics-port`: Prometheus metrics (`GET /metrics`) and
 * a health check (`GET /health`) over HTTP, bound to 127.0.0.1 unless told otherwise.
 *
 * Exposition is prom-client's, loaded only when the endpoint is asked for: a server without
 * `--metrics-port` never imports it. Figures are read from the server's `stats` at each scrape; only
 * command round trips are pushed, as they happen (the server's `observeCommand` hook).
 *
 * @module
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type * as PromClient from 'prom-client';
import { AGI_COMMANDS } from '../agi/commands.js';
import type { FastAgiServer, ServerStats } from '../server/fastagi-server.js';

/**
 * What an AMI client looks like to the endpoint: it emits `connected` and `disconnected` as its link
 * to Asterisk comes and goes (an `AmiClient`, or anything else that does).
 */
export interface LinkEvents {
  on(event: 'connected' | 'disconnected', listener: () => void): unknown;
  /** The link's state now, if the client can tell (read once, when it is watched). */
  readonly connected?: boolean;
}

/** Round-trip buckets (s): most commands take ms, but playback, prompts and Dial take seconds to minutes. */
const ROUND_TRIP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Command names from the command table, longest first, so `GET FULL VARIABLE` wins over `GET`. */
const COMMAND_NAMES = [...new Set(Object.values(AGI_COMMANDS).map((spec) => spec.words))].sort((a, b) => b.length - a.length);

/**
 * The metric label of a command line: its command name from the table (`STREAM FILE`), or `OTHER`
 * for anything else a raw `send()` may carry, so label values stay few whatever is sent.
 */
export function commandLabel(line: string): string {
  const upper = line.length > 32 ? line.slice(0, 32).toUpperCase() : line.toUpperCase();
  for (const name of COMMAND_NAMES) {
    if (upper.startsWith(name) && (upper.length === name.length || upper.charCodeAt(name.length) === 32)) return name;
  }
  return 'OTHER';
}

/** Errors by kind, from the server's counters. */
const ERROR_KINDS: Record<string, (stats: ServerStats) => number> = {
  protocol: (s) => s.protocolErrors,
  refused: (s) => s.refused,
  pending_limit: (s) => s.overPendingLimit,
  fd_limit: (s) => s.overFdLimit,
  accept: (s) => s.acceptErrors,
};

/** Metrics and health of one FastAGI server; see {@link createOperations}. */
export interface Operations {
  /** Pass as the server's `observeCommand` option: feeds the round-trip histogram. */
  readonly observeCommand: (line: string, ms: number) => void;
  /** Reads the server's figures at every scrape, and its state for `/health`. */
  watchServer(server: FastAgiServer): void;
  /** Adds `agikit_ami_connected` (1 while the link is up) fed by an AMI client's events. */
  watchAmi(ami: LinkEvents): void;
  /** Starts the HTTP endpoint. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /**
   * In a worker of `agikit serve --workers`: hands these metrics to the primary's endpoint (which
   * sums them over the workers) instead of serving them here.
   */
  shareWithPrimary(): void;
  /** Stops the HTTP endpoint. */
  close(): Promise<void>;
}

/** Builds the metrics (loading prom-client) for `agikit serve`. */
export async function createOperations(log: Logger): Promise<Operations> {
  const prom: typeof PromClient = await import('prom-client');
  const register = new prom.Registry();
  prom.collectDefaultMetrics({ register });
  let server: FastAgiServer | undefined;
  let amiUp: boolean | undefined;
  let stats: ServerStats | undefined;
  // One stats snapshot per scrape, shared by every metric's collect().
  let perScrape = true;
  const snapshot = (): ServerStats | undefined => (perScrape ? (stats ??= server?.stats) : server?.stats);

  const gauge = (name: string, help: string, read: (s: ServerStats) => number): void => {
    new prom.Gauge({
      name,
      help,
      registers: [register],
      collect() {
        const s = snapshot();
        if (s) this.set(read(s));
      },
    });
  };
  /** A counter mirrored from the server's own counters (which only grow). */
  const counter = (name: string, help: string, label: string | undefined, read: (s: ServerStats) => Record<string, number>): void => {
    new prom.Counter({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [register],
      collect() {
        const s = snapshot();
        if (!s) return;
        this.reset();
        for (const [value, count] of Object.entries(read(s))) {
          if (label) this.inc({ [label]: value }, count);
          else this.inc(count);
        }
      },
    });
  };

  gauge('agikit_calls_active', 'Calls in progress: sessions open with a handler (what --max-connections limits)', (s) => s.active);
  gauge('agikit_connections_pending', 'Connections not in a call: sending their header, or being refused (what --max-pending limits)', (s) => s.pending);
  gauge('agikit_handlers_lingering', 'Handlers still running after their session closed', (s) => s.lingering);
  counter('agikit_connections_accepted_total', 'Connections accepted', undefined, (s) => ({ '': s.connections }));
  counter('agikit_calls_started_total', 'Calls whose handler started', undefined, (s) => ({ '': s.started }));
  counter('agikit_calls_ended_total', 'Calls ended, by the status the dialplan was given (AGIKIT_STATUS)', 'status', (s) => s.calls);
  counter('agikit_sessions_closed_by_agikit_total', 'Sessions agikit closed itself, by the status it wrote', 'status', (s) => s.closedByAgikit);
  counter('agikit_errors_total', 'Connections lost or turned away, by kind: protocol (bad input), refused (--allow), pending_limit, fd_limit, accept', 'kind', (s) =>
    Object.fromEntries(Object.entries(ERROR_KINDS).map(([kind, read]) => [kind, read(s)])),
  );
  counter('agikit_stray_lines_total', 'Lines from Asterisk that were not AGI, ignored', undefined, (s) => ({ '': s.strayLines }));
  const roundTrip = new prom.Histogram({
    name: 'agikit_command_round_trip_seconds',
    help: 'Time from sending an AGI command to its final reply, by command',
    labelNames: ['command'],
    buckets: ROUND_TRIP_BUCKETS,
    registers: [register],
  });

  const health = (): { code: number; body: Record<string, unknown> } => {
    const s = server?.stats;
    const base = { ...(s ? { active: s.active, pending: s.pending, lingering: s.lingering } : {}), ...(amiUp !== undefined ? { ami: amiUp ? 'connected' : 'disconnected' } : {}) };
    if (server?.draining) return { code: 503, body: { status: 'draining', ...base } };
    if (!server?.address) return { code: 503, body: { status: 'starting', ...base } };
    return { code: 200, body: { status: 'ok', ...base } };
  };

  const endpoint = operationsEndpoint(
    log,
    () => {
      stats = undefined;
      return register.metrics();
    },
    register.contentType,
    health,
  );

  return {
    ...endpoint,
    shareWithPrimary() {
      // Constructing one installs the worker's answer to the primary's requests; there is no scrape
      // here to share a snapshot, so every metric reads the stats itself.
      new prom.AggregatorRegistry();
      prom.AggregatorRegistry.setRegistries([register]);
      perScrape = false;
    },
    observeCommand: (line, ms) => roundTrip.observe({ command: commandLabel(line) }, ms / 1000),
    watchServer(watched) {
      server = watched;
    },
    watchAmi(ami) {
      amiUp = ami.connected === true;
      new prom.Gauge({
        name: 'agikit_ami_connected',
        help: 'AMI link state: 1 while connected to Asterisk',
        registers: [register],
        collect() {
          this.set(amiUp ? 1 : 0);
        },
      });
      ami.on('connected', () => (amiUp = true));
      ami.on('disconnected', () => (amiUp = false));
    },
  };
}

/** The HTTP side of the endpoint: `/metrics` from `metrics()`, `/health` from `health()`. */
function operationsEndpoint(
  log: Logger,
  metrics: () => Promise<string>,
  contentType: string,
  health: () => { code: number; body: Record<string, unknown> },
): Pick<Operations, 'listen' | 'close'> {
  const http = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics().then(
        (text) => response.writeHead(200, { 'content-type': contentType }).end(text),
        (error: unknown) => {
          log.error({ err: error }, 'metrics collection failed');
          response.writeHead(500).end();
        },
      );
      return;
    }
    if (path === '/health') {
      const { code, body } = health();
      response.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /health\n');
  });
  return {
    async listen(port, host = '127.0.0.1') {
      http.listen(port, host);
      await once(http, 'listening');
      const address = http.address() as AddressInfo;
      log.info({ host: address.address, port: address.port }, 'operations endpoint listening (/metrics, /health)');
      return address;
    },
    close() {
      return new Promise((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}

/** What the primary of `agikit serve --workers` knows for `/health`. */
export interface WorkersState {
  workers: number;
  draining: boolean;
}

/**
 * The endpoint of `agikit serve --workers N --metrics-port`: served by the primary, with every
 * worker's metrics summed (prom-client's AggregatorRegistry asks each worker over the cluster's IPC
 * channel at every scrape), so it reads as one server's.
 */
export async function createPrimaryOperations(log: Logger, state: () => WorkersState): Promise<Pick<Operations, 'listen' | 'close'>> {
  const prom: typeof PromClient = await import('prom-client');
  const aggregator = new prom.AggregatorRegistry();
  return operationsEndpoint(
    log,
    () => aggregator.clusterMetrics(),
    aggregator.contentType,
    () => {
      const { workers, draining } = state();
      if (draining) return { code: 503, body: { status: 'draining', workers } };
      return workers > 0 ? { code: 200, body: { status: 'ok', workers } } : { code: 503, body: { status: 'starting', workers } };
    },
  );
}
