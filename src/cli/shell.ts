import { createInterface, type Interface } from 'node:readline';
import { inspect } from 'node:util';
import type { Command } from 'commander';
import { pino, type Level } from 'pino';
import type { Agi } from '../agi/agi.js';
import { AgiError, AgiHangupError } from '../errors.js';
import { FastAgiServer } from '../server/fastagi-server.js';
import { completions, readTypedLine } from './method-form.js';
import { printLine as out, withListenOptions, type ListenOptions } from './options.js';

/** Prints a value compactly on one line. */
function show(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Infinity, compact: true });
}

/** Describes an error in one line: its class, hangup reason, message. */
export function describeError(error: unknown): string {
  if (error instanceof AgiHangupError) return `AgiHangupError (${error.reason}): ${error.message}`;
  if (error instanceof AgiError) return `${error.name}: ${error.message.split('\n')[0] ?? ''}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The call's header, as the shell prints it when a call arrives. */
export function describeCall(agi: Agi): string {
  const lines = [`call from ${agi.env.channel} (uniqueid ${agi.env.uniqueid}, Asterisk ${agi.env.version})`];
  lines.push(`  path ${agi.path}${agi.query.size ? `?${agi.query.toString()}` : ''}  args ${show(agi.args)}`);
  for (const [key, value] of Object.entries(agi.header.raw)) lines.push(`  ${key}: ${value}`);
  return lines.join('\n');
}

/**
 * Runs one typed line on a call: a method form (`streamFile beep #`) prints the typed result, a raw
 * command (`STREAM FILE beep ""`) prints Asterisk's reply lines and their parsed form.
 * Resolves `false` when the command failed.
 */
export async function runTypedLine(agi: Agi, line: string, print: (text: string) => void): Promise<boolean> {
  const typed = readTypedLine(line);
  try {
    if (typed.kind === 'method') {
      const method = (agi as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[typed.method];
      if (!method) throw new Error(`no method ${typed.method}`);
      const result = await method.apply(agi, typed.args);
      print(`= ${show(result)}`);
      return true;
    }
    const reply = await agi.send(typed.command);
    for (const l of reply.lines) print(`<< ${l}`);
    const parsed: Record<string, unknown> = { code: reply.code, result: reply.result };
    if (reply.data !== undefined) parsed.data = reply.data;
    if (Object.keys(reply.attrs).length) parsed.attrs = reply.attrs;
    if (reply.usage) parsed.usage = reply.usage;
    print(`= ${show(parsed)}`);
    return reply.code === 200;
  } catch (error) {
    print(`! ${describeError(error)}`);
    return false;
  }
}

const HELP = `Type an AGI command, raw or as an Agi method:
  STREAM FILE beep ""            raw: sent as typed; shows Asterisk's reply and its parsed form
  streamFile beep #              method: arguments read as numbers, true/false, _ (omit), JSON, or text
  getData enter-pin 5000 4       shows the typed result, or the typed error
  recordFile /tmp/msg wav # 10000 {"beep":true}
  env                            the call's header again
  exit                           return the call to the dialplan (no hangup)
Tab completes command names; up/down recall history.`;

interface ShellOptions extends ListenOptions {
  logLevel: Level;
}

/** A queue of typed lines that the current call (if any) consumes. */
class LineSource {
  private waiter: ((line: string | null) => void) | undefined;
  closed = false;

  constructor(
    rl: Interface,
    private readonly idle: (line: string) => void,
    onClose: () => void,
  ) {
    rl.on('line', (line) => {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) waiter(line);
      else this.idle(line);
    });
    rl.on('close', () => {
      this.closed = true;
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.(null);
      onClose();
    });
  }

  next(): Promise<string | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** `agikit shell`: a FastAGI server that hands each call to the person at the keyboard. */
export function registerShell(program: Command): void {
  withListenOptions(program.command('shell'))
    .description('listen for a call and drive it by hand, one AGI command at a time')
    .option('--log-level <level>', 'pino level for agikit logs (stderr)', 'warn')
    .addHelpText(
      'after',
      `
Examples:
  agikit shell --port 4573
  then in the dialplan:  exten => 100,1,AGI(agi://127.0.0.1:4573/anything)

${HELP}`,
    )
    .action(async (options: ShellOptions) => {
      const server = new FastAgiServer({
        host: options.host,
        port: options.port,
        logger: pino({ level: options.logLevel }, pino.destination(2)),
        maxConnections: 1,
      });
      const rl = createInterface({
        input: process.stdin,
        output: process.stdout,
        terminal: process.stdin.isTTY,
        historySize: 1000,
        completer: (line: string) => {
          const all = completions();
          const hits = all.filter((c) => c.toLowerCase().startsWith(line.toLowerCase()));
          return [hits.length ? hits : all, line];
        },
      });
      rl.setPrompt('agi> ');
      let quitting = false;
      const quit = (): void => {
        if (quitting) return;
        quitting = true;
        void server.close({ timeoutMs: 5000 }).then(() => process.exit(0));
      };
      const source = new LineSource(
        rl,
        (line) => {
          const word = line.trim();
          if (word === 'quit' || word === 'exit') quit();
          else if (word === 'help') out(HELP);
          else if (word !== '') out('no call yet: waiting for Asterisk to connect');
        },
        quit,
      );
      server.fallback(async (agi) => {
        out(describeCall(agi));
        out('type help for help, exit to return the call to the dialplan');
        agi.onHangup((reason) => out(`*** the call hung up (${reason})`));
        for (;;) {
          if (agi.closed) {
            out('*** session ended');
            return;
          }
          if (process.stdin.isTTY) rl.prompt();
          const line = await source.next();
          if (line === null || ['exit', 'quit'].includes(line.trim())) {
            await agi.exit();
            out('*** call returned to the dialplan');
            return;
          }
          const text = line.trim();
          if (text === '') continue;
          if (text === 'help') out(HELP);
          else if (text === 'env') out(describeCall(agi));
          else await runTypedLine(agi, text, out);
        }
      });
      const address = await server.listen();
      out(`agikit shell listening on ${address.address}:${address.port}; waiting for a call (agi://${address.address}:${address.port}/)`);
      process.once('SIGTERM', quit);
    });
}

/** `agikit exec`: wait for one call, run the given commands on it, print the replies, return it. */
export function registerExec(program: Command): void {
  withListenOptions(program.command('exec'))
    .description('wait for one call, run AGI commands on it, print the replies, and return it to the dialplan')
    .argument('<commands...>', 'raw commands or method forms, each one argument')
    .option('--wait <ms>', 'give up if no call arrives within this time', '60000')
    .addHelpText(
      'after',
      `
Examples:
  agikit exec --port 4573 'STREAM FILE beep ""' 'getVariable CALLERID(num)'
  agikit exec 'sayNumber 42' 'setVariable RESULT done'

Exits 0 when every command succeeded, 1 otherwise.`,
    )
    .action(async (commands: string[], options: ListenOptions & { wait: string }) => {
      const server = new FastAgiServer({ host: options.host, port: options.port, logger: pino({ level: 'warn' }, pino.destination(2)), maxConnections: 1 });
      let ok = true;
      const done = new Promise<void>((resolve) => {
        server.fallback(async (agi) => {
          out(describeCall(agi).split('\n')[0] ?? '');
          for (const command of commands) {
            out(`> ${command}`);
            if (!(await runTypedLine(agi, command, out))) ok = false;
          }
          await agi.exit();
          resolve();
        });
      });
      const address = await server.listen();
      out(`waiting for a call on agi://${address.address}:${address.port}/`);
      const timer = setTimeout(() => {
        process.stderr.write(`agikit: no call within ${options.wait} ms\n`);
        process.exit(1);
      }, Number(options.wait));
      await done;
      clearTimeout(timer);
      await server.close({ timeoutMs: 5000 });
      process.exit(ok ? 0 : 1);
    });
}
