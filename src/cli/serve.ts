import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { pino, type Level } from 'pino';
import { withListenOptions, parsePort, type ListenOptions } from './options.js';
import { prettyDestination } from './pretty.js';
import { DEFAULT_HEADER_TIMEOUT_MS, DEFAULT_MAX_PENDING_CONNECTIONS, FastAgiServer } from '../server/fastagi-server.js';
import { Router } from '../server/router.js';
import { DEFAULT_HANGUP_GRACE_MS } from '../agi/agi.js';
import { isConsumerClass, loadApp, loadModule } from './load-app.js';
import { mediaFromFlags, parseAmiUrl } from './consumer-flags.js';
import { createOperations, createPrimaryOperations, type LinkEvents, type Operations, type WorkersState } from './operations.js';
import { drainOnPrimary, isServeWorker, parseWorkers, runPrimary, workerId } from './workers.js';

interface ServeOptions extends ListenOptions {
  logLevel: Level;
  statusVariable: boolean;
  drainTimeout: number;
  maxConnections?: number;
  maxPending: number;
  headerTimeout: number;
  commandTimeout?: number;
  hangupGrace: number;
  allow?: string[];
  pretty?: boolean;
  recordDir?: string;
  metricsPort?: number;
  metricsHost: string;
  ami?: string;
  mediaDir?: string;
  asteriskMediaDir?: string;
  tasks?: string;
  workers?: number;
}

/** Reads a count or a duration in ms: an integer, at least `min`. */
function integer(min: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min) throw new InvalidArgumentError(`an integer, at least ${min}`);
    return value;
  };
}

/** `agikit serve <module>`: serves an application module over FastAGI until SIGTERM/SIGINT. */
export function registerServe(program: Command): void {
  withListenOptions(program.command('serve'))
    .description('serve an AGI application module over FastAGI')
    .argument('<module>', 'JavaScript or TypeScript module whose default export is a handler (agi) => …, a Router, or a Relay Consumer class')
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error, fatal, silent', 'info')
    .option('--no-status-variable', 'do not set AGIKIT_STATUS on the channel when a call ends')
    .option('--drain-timeout <ms>', 'on SIGTERM/SIGINT, how long calls in progress may take to finish; then they end with AGIKIT_STATUS=SHUTDOWN', integer(0), 30_000)
    .option('--max-connections <n>', 'most calls in progress at once; more end at once with AGIKIT_STATUS=BUSY', integer(1))
    .option('--max-pending <n>', 'most connections not yet in a call (header not received, or being refused); more are closed on accept', integer(1), DEFAULT_MAX_PENDING_CONNECTIONS)
    .option('--header-timeout <ms>', 'how long a new connection may take to send its AGI header', integer(1), DEFAULT_HEADER_TIMEOUT_MS)
    .option('--command-timeout <ms>', 'default timeout of every AGI command; past it the call ends with AGIKIT_STATUS=TIMEOUT (default: none)', integer(1))
    .option('--hangup-grace <ms>', 'how long a handler may keep a hung-up call open; then AGIKIT_STATUS=LINGERED (0: no limit)', integer(0), DEFAULT_HANGUP_GRACE_MS)
    .option('--allow <cidr...>', 'client addresses allowed to connect, e.g. 127.0.0.1 10.0.0.0/8')
    .option('--pretty', 'human-readable logs instead of JSON lines')
    .option('--record-dir <dir>', 'record each call as a JSON transcript <dir>/<uniqueid>.json (for agikit replay)')
    .option('--metrics-port <port>', 'serve Prometheus metrics (/metrics) and a health check (/health) over HTTP on this port (default: off)', parsePort)
    .option('--metrics-host <host>', 'address of the metrics endpoint', '127.0.0.1')
    .option('--ami <url>', 'Relay consumers: AMI to connect to, ami://user:secret@host:port')
    .option('--media-dir <dir>', 'Relay consumers: media directory shared with Asterisk (recordings, fetched audio, espeak-ng speech in <dir>/tts)')
    .option('--asterisk-media-dir <dir>', 'Relay consumers: the same directory as Asterisk sees it, when it differs')
    .option('--workers <n>', 'worker processes, each a FastAGI server on the same port (auto: one per core); same drain and logging (lines carry "worker")', parseWorkers)
    .option('--tasks <url>', 'Relay consumers with onTask: where tasks come from, http://127.0.0.1:<port> (default port 4574) or redis://host:port')
    .addHelpText(
      'after',
      `
Stopping: SIGTERM or SIGINT stops accepting calls and lets calls in progress finish for up to
--drain-timeout ms; calls still running then end with AGIKIT_STATUS=SHUTDOWN and agikit exits 0.
A second SIGTERM/SIGINT during the drain ends them at once the same way and exits.

Workers: --workers 4 (or auto) runs four processes serving the same port; SIGTERM drains them all
and agikit exits once every one has (0 if all drained cleanly); --metrics-port is served by the
primary with the workers' metrics summed. Not for Relay consumers (one process).

Metrics: with --metrics-port, an AMI link can be watched too: export it from the module as
\`export const ami = await AmiClient.connect(...)\` (agikit_ami_connected).

Examples:
  agikit serve dist/examples/hello.js
  agikit serve ./app.js --host 0.0.0.0 --port 4573 --log-level debug --pretty
  agikit serve ./app.js --max-connections 200 --allow 10.0.0.0/8 --record-dir recordings
  agikit serve ./app.js --command-timeout 60000 --metrics-port 9464
  agikit serve ./office-consumer.ts --ami ami://agikit:secret@127.0.0.1:5038 --media-dir /var/lib/agikit-media
  agikit serve ./office-consumer.ts --tasks redis://127.0.0.1:6379

In the dialplan:  same => n,AGI(agi://127.0.0.1:4573/hello,arg1,arg2)`,
    )
    .action(async (modulePath: string, options: ServeOptions) => {
      const root = options.pretty ? pino({ level: options.logLevel }, prettyDestination()) : pino({ name: 'agikit', level: options.logLevel });
      const workers = options.workers ?? 1;
      if (workers > 1 && !isServeWorker()) {
        // The primary serves the metrics of every worker, summed; the workers serve calls only.
        let read: () => WorkersState = () => ({ workers: 0, draining: false });
        const endpoint = options.metricsPort !== undefined ? await createPrimaryOperations(root, () => read()) : undefined;
        const exiting = runPrimary(workers, root, modulePath, (state) => (read = state));
        if (endpoint) await endpoint.listen(options.metricsPort as number, options.metricsHost);
        process.exit(await exiting);
      }
      const worker = workerId();
      const log = worker === undefined ? root : root.child({ worker });
      const recordDir = options.recordDir;
      if (recordDir) mkdirSync(recordDir, { recursive: true });
      const app = await loadApp(modulePath);
      const consumer = isConsumerClass(app)
        ? new app({
            log,
            ...(options.ami ? { ami: parseAmiUrl(options.ami) } : {}),
            ...(options.mediaDir ? { media: mediaFromFlags(options.mediaDir, options.asteriskMediaDir) } : {}),
            ...(options.tasks ? { tasks: options.tasks } : {}),
          })
        : undefined;
      // A consumer adds its context routes to the server; a handler or router is the server's router.
      const router = isConsumerClass(app) ? undefined : typeof app === 'function' ? new Router().fallback(app) : app;
      let operations: Operations | undefined;
      if (options.metricsPort !== undefined) operations = await createOperations(log);
      const server = new FastAgiServer({
        host: options.host,
        port: options.port,
        logger: log,
        ...(router ? { router } : {}),
        maxPendingConnections: options.maxPending,
        headerTimeoutMs: options.headerTimeout,
        hangupGraceMs: options.hangupGrace,
        ...(options.statusVariable ? {} : { statusVariable: false }),
        ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
        ...(options.commandTimeout !== undefined ? { commandTimeoutMs: options.commandTimeout } : {}),
        ...(options.allow ? { allow: options.allow } : {}),
        ...(operations ? { observeCommand: operations.observeCommand } : {}),
        ...(recordDir
          ? {
              transcripts: (transcript) => {
                const name = `${String(transcript.header.agi_uniqueid ?? Date.now()).replace(/[^\w.-]/g, '_')}.json`;
                writeFileSync(join(recordDir, name), `${JSON.stringify({ ...transcript, meta: { ...transcript.meta, app: modulePath } }, null, 2)}\n`);
              },
            }
          : {}),
      });
      if (operations) {
        operations.watchServer(server);
        const ami = (await loadModule(modulePath)).ami;
        if (isLinkEvents(ami)) operations.watchAmi(ami);
        if (worker !== undefined) operations.shareWithPrimary();
        else await operations.listen(options.metricsPort as number, options.metricsHost);
      }
      if (consumer && worker !== undefined) throw new InvalidArgumentError('--workers serves handler and router modules; a Relay consumer runs in one process');
      if (consumer) {
        // The consumer runs the server: AMI, ready(), SIGTERM drain (a second signal ends calls now), teardown().
        await consumer.run({ server, drainTimeoutMs: options.drainTimeout });
        process.exit(0);
      }
      const address = await server.listen();
      let signals = 0;
      const stop = (signal: NodeJS.Signals): void => {
        signals += 1;
        if (signals > 1) {
          log.warn({ signal }, 'second signal: ending calls in progress now');
          void server.close({ timeoutMs: 0 });
          return;
        }
        log.info({ signal, drainTimeoutMs: options.drainTimeout }, 'draining calls before exit');
        server.close({ timeoutMs: options.drainTimeout }).then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error }, 'error while closing');
            process.exit(1);
          },
        );
      };
      // Handlers first: whoever reads the line below may signal at once (before them, a SIGTERM kills).
      if (worker !== undefined) {
        drainOnPrimary(() => stop('SIGTERM'));
      } else {
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      }
      // Machine-readable line for scripts that start the server with --port 0 (JSON logs).
      log.info({ port: address.port }, `agikit serving ${modulePath} on ${address.address}:${address.port}`);
    });
}

function isLinkEvents(value: unknown): value is LinkEvents {
  return typeof value === 'object' && value !== null && typeof (value as { on?: unknown }).on === 'function';
}
