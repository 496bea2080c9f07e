import { InvalidArgumentError, type Command } from 'commander';

/** Reads a TCP port option: an integer from 0 (pick a free one) to 65535. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new InvalidArgumentError('a TCP port is an integer from 0 to 65535');
  return port;
}

/** The FastAGI listening options every server-like command shares. */
export interface ListenOptions {
  host: string;
  port: number;
}

/** Adds `--host` and `--port` (where the FastAGI server listens) to a command. */
export function withListenOptions(command: Command): Command {
  return command
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', parsePort, 4573);
}

/** Prints one line on stdout (the CLI's output; logs go elsewhere). */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}
