import type { Command } from 'commander';
import { pino, type Level } from 'pino';
import { FastAgiServer } from '../server/fastagi-server.js';
import { Router } from '../server/router.js';
import { loadApp } from './load-app.js';

interface ServeOptions {
  host: string;
  port: string;
  logLevel: Level;
  statusVariable: boolean;
  drainTimeout: string;
}

/** `agikit serve <module>`: serves an application module over FastAGI until SIGTERM/SIGINT. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve an AGI application module over FastAGI')
    .argument('<module>', 'JavaScript module whose default export is a handler (agi) => … or a Router')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '4573')
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error, fatal, silent', 'info')
    .option('--no-status-variable', 'do not set AGIKIT_STATUS on the channel when a call ends')
    .option('--drain-timeout <ms>', 'on SIGTERM/SIGINT, how long calls in progress may take to finish', '30000')
    .addHelpText(
      'after',
      `
Examples:
  agikit serve dist/examples/hello.js
  agikit serve ./app.js --host 0.0.0.0 --port 4573 --log-level debug

In the dialplan:  same => n,AGI(agi://127.0.0.1:4573/hello,arg1,arg2)`,
    )
    .action(async (modulePath: string, options: ServeOptions) => {
      const log = pino({ name: 'agikit', level: options.logLevel });
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${options.port}`);
      const app = await loadApp(modulePath);
      const router = typeof app === 'function' ? new Router().fallback(app) : app;
      const server = new FastAgiServer({
        host: options.host,
        port,
        logger: log,
        router,
        ...(options.statusVariable ? {} : { statusVariable: false }),
      });
      const address = await server.listen();
      // Machine-readable line for scripts that start the server with --port 0.
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
