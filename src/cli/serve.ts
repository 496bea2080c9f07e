import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { pino, type Level } from 'pino';
import { withListenOptions, type ListenOptions } from './options.js';
import { prettyDestination } from './pretty.js';
import { FastAgiServer } from '../server/fastagi-server.js';
import { Router } from '../server/router.js';
import { isConsumerClass, loadApp } from './load-app.js';
import { mediaFromFlags, parseAmiUrl, serveConsumer } from './serve-consumer.js';

interface ServeOptions extends ListenOptions {
  logLevel: Level;
  statusVariable: boolean;
  drainTimeout: string;
  maxConnections?: string;
  allow?: string[];
  pretty?: boolean;
  recordDir?: string;
  ami?: string;
  mediaDir?: string;
  asteriskMediaDir?: string;
}

/** `agikit serve <module>`: serves an application module over FastAGI until SIGTERM/SIGINT. */
export function registerServe(program: Command): void {
  withListenOptions(program.command('serve'))
    .description('serve an AGI application module over FastAGI')
    .argument('<module>', 'JavaScript or TypeScript module whose default export is a handler (agi) => …, a Router, or a Relay Consumer class')
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error, fatal, silent', 'info')
    .option('--no-status-variable', 'do not set AGIKIT_STATUS on the channel when a call ends')
    .option('--drain-timeout <ms>', 'on SIGTERM/SIGINT, how long calls in progress may take to finish', '30000')
    .option('--max-connections <n>', 'most calls at once; more end at once with AGIKIT_STATUS=BUSY')
    .option('--allow <cidr...>', 'client addresses allowed to connect, e.g. 127.0.0.1 10.0.0.0/8')
    .option('--pretty', 'human-readable logs instead of JSON lines')
    .option('--record-dir <dir>', 'record each call as a JSON transcript <dir>/<uniqueid>.json (for agikit replay)')
    .option('--ami <url>', 'Relay consumers: AMI to connect to, ami://user:secret@host:port')
    .option('--media-dir <dir>', 'Relay consumers: media directory shared with Asterisk (recordings, fetched audio, espeak-ng speech in <dir>/tts)')
    .option('--asterisk-media-dir <dir>', 'Relay consumers: the same directory as Asterisk sees it, when it differs')
    .addHelpText(
      'after',
      `
Examples:
  agikit serve dist/examples/hello.js
  agikit serve ./app.js --host 0.0.0.0 --port 4573 --log-level debug --pretty
  agikit serve ./app.js --max-connections 200 --allow 10.0.0.0/8 --record-dir recordings
  agikit serve ./office-consumer.ts --ami ami://agikit:secret@127.0.0.1:5038 --media-dir /var/lib/agikit-media

In the dialplan:  same => n,AGI(agi://127.0.0.1:4573/hello,arg1,arg2)`,
    )
    .action(async (modulePath: string, options: ServeOptions) => {
      const log = options.pretty ? pino({ level: options.logLevel }, prettyDestination()) : pino({ name: 'agikit', level: options.logLevel });
      const maxConnections = options.maxConnections === undefined ? undefined : Number(options.maxConnections);
      if (maxConnections !== undefined && !(Number.isInteger(maxConnections) && maxConnections > 0)) throw new Error(`bad --max-connections ${options.maxConnections}`);
      const recordDir = options.recordDir;
      if (recordDir) mkdirSync(recordDir, { recursive: true });
      const app = await loadApp(modulePath);
      if (isConsumerClass(app)) {
        // A Relay consumer runs itself: AMI, ready(), SIGTERM drain, teardown().
        await serveConsumer(app, {
          host: options.host,
          port: options.port,
          log,
          ...(options.ami ? { ami: parseAmiUrl(options.ami) } : {}),
          ...(options.mediaDir ? { media: mediaFromFlags(options.mediaDir, options.asteriskMediaDir) } : {}),
          server: {
            ...(options.statusVariable ? {} : { statusVariable: false }),
            ...(maxConnections !== undefined ? { maxConnections } : {}),
            ...(options.allow ? { allow: options.allow } : {}),
          },
          drainTimeoutMs: Number(options.drainTimeout),
        });
        process.exit(0);
      }
      const router = typeof app === 'function' ? new Router().fallback(app) : app;
      const server = new FastAgiServer({
        host: options.host,
        port: options.port,
        logger: log,
        router,
        ...(options.statusVariable ? {} : { statusVariable: false }),
        ...(maxConnections !== undefined ? { maxConnections } : {}),
        ...(options.allow ? { allow: options.allow } : {}),
        ...(recordDir
          ? {
              transcripts: (transcript) => {
                const name = `${String(transcript.header.agi_uniqueid ?? Date.now()).replace(/[^\w.-]/g, '_')}.json`;
                writeFileSync(join(recordDir, name), `${JSON.stringify({ ...transcript, meta: { ...transcript.meta, app: modulePath } }, null, 2)}\n`);
              },
            }
          : {}),
      });
      const address = await server.listen();
      // Machine-readable line for scripts that start the server with --port 0 (JSON logs).
      log.info({ port: address.port }, `agikit serving ${modulePath} on ${address.address}:${address.port}`);
      const stop = (signal: string): void => {
        log.info({ signal }, 'draining calls before exit');
        server.close({ timeoutMs: Number(options.drainTimeout) }).then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error }, 'error while closing');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
