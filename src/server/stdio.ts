import { Writable, type Readable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { AgiConnection } from '../agi/connection.js';
import type { AgiHandler } from './router.js';
import { runCall, type CallStatus } from './run-call.js';

/** Options of {@link runStdio}. */
export interface StdioOptions {
  /** Logger; default pino at `info` on **stderr** (stdout carries the protocol). */
  logger?: Logger;
  /** Channel variable set to the call's status when it ends (default `AGIKIT_STATUS`; `false`: none). */
  statusVariable?: string | false;
  /** Default `timeoutMs` for every command (default: none). */
  commandTimeoutMs?: number;
  /** How long the handler may run on after a hangup before the session is closed for it (default 30000 ms). */
  hangupGraceMs?: number;
  /** Exit the process when the call ends: code 0, or 1 when the handler failed (default `true`). */
  exit?: boolean;
  /** Protocol input; default `process.stdin`. */
  input?: Readable;
  /**
   * Protocol output; default the process's stdout, which is then reserved for AGI: anything else
   * written to stdout (`console.log`, `process.stdout.write`) is redirected to stderr.
   */
  output?: Writable;
}

/**
 * Runs `handler` for an AGI script started by Asterisk's `AGI(/path/to/script)`: the header and
 * replies arrive on stdin, commands go out on stdout. SIGHUP (Asterisk's hangup signal) is a hangup,
 * exactly like the FastAGI `HANGUP` line. Because a stray `console.log` would corrupt the protocol,
 * stdout is reserved for AGI and everything else written there goes to stderr.
 *
 * Resolves with the call's status when the process is not made to exit (`exit: false`).
 */
export async function runStdio(handler: AgiHandler, options: StdioOptions = {}): Promise<CallStatus> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? guardStdout();
  const baseLog = options.logger ?? pino({ name: 'agikit' }, pino.destination(2));
  const connection = new AgiConnection(input, output, { log: baseLog });
  const onSighup = (): void => connection.hangupSignalled();
  process.on('SIGHUP', onSighup);
  let status: CallStatus = 'FAILURE';
  try {
    const header = await connection.header;
    const end = await runCall(connection, header, { match: () => ({ handler, params: {}, pattern: '*' }) }, {
      log: baseLog,
      // Asterisk only closes our stdin after we exit, so there is nothing to wait for on close.
      closeGraceMs: 0,
      ...(options.statusVariable !== undefined ? { statusVariable: options.statusVariable } : {}),
      ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
      ...(options.hangupGraceMs !== undefined ? { hangupGraceMs: options.hangupGraceMs } : {}),
    });
    status = end.status;
  } catch (error) {
    baseLog.error({ err: error }, 'AGI script could not start: no valid AGI header on stdin');
    connection.destroy();
  } finally {
    process.off('SIGHUP', onSighup);
  }
  if (options.exit ?? true) {
    // Exiting closes stdout, which is how Asterisk learns the script is done.
    process.exit(status === 'FAILURE' || status === 'TIMEOUT' || status === 'ABORTED' ? 1 : 0);
  }
  return status;
}

/**
 * Takes process stdout for the protocol and sends every other stdout write to stderr, so neither
 * `console.log` nor a library printing to stdout can inject text into the AGI stream.
 */
function guardStdout(): Writable {
  const stdout = process.stdout;
  const protocolWrite = stdout.write.bind(stdout) as (chunk: string | Uint8Array, callback: (error?: Error | null) => void) => boolean;
  const toStderr = process.stderr.write.bind(process.stderr);
  stdout.write = toStderr as typeof stdout.write;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      protocolWrite(chunk, callback);
    },
  });
}
