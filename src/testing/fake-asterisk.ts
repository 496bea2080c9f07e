import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { LineSplitter } from '../protocol/lines.js';
import { parseAgiArgs } from './parse-args.js';

/** What a fake call sends as its header. Keys are `agi_*` names without the prefix (`channel`, `callerid`). */
export interface FakeHeaderOptions {
  /** FastAGI script part, e.g. `ivr/main?lang=en` (`agi_network_script`); omit for none. */
  script?: string;
  /** `agi_arg_1` … */
  args?: readonly string[];
  /** Overrides or additions, e.g. `{ version: '22.5.0', uniqueid: '42.1' }`; `undefined` removes a key. */
  env?: Record<string, string | undefined>;
  /** Send it as a FastAGI header (with `agi_network`); default true. */
  network?: boolean;
}

let uniqueCounter = 0;

/** The header lines (without LFs, without the final empty line) a real Asterisk 22 would send. */
export function fakeHeaderLines(options: FakeHeaderOptions = {}): string[] {
  uniqueCounter += 1;
  const network = options.network ?? true;
  const script = options.script;
  const fields: Array<[string, string | undefined]> = [];
  if (network) {
    fields.push(['network', 'yes']);
    if (script) fields.push(['network_script', script]);
  }
  const base: Record<string, string> = {
    request: network ? `agi://127.0.0.1/${script ?? ''}` : '/usr/share/asterisk/agi-bin/app.js',
    channel: `Local/100@agikit-0000000${uniqueCounter % 10};1`,
    language: 'en',
    type: 'Local',
    uniqueid: `1700000000.${uniqueCounter}`,
    version: '22.10.1',
    callerid: '1001',
    calleridname: 'Alice',
    callingpres: '0',
    callingani2: '0',
    callington: '0',
    callingtns: '0',
    dnid: 'unknown',
    rdnis: 'unknown',
    context: 'default',
    extension: '100',
    priority: '1',
    enhanced: '0.0',
    accountcode: '',
    threadid: '140123456789504',
  };
  const env = { ...base, ...options.env };
  for (const [key, value] of Object.entries(env)) fields.push([key, value]);
  (options.args ?? []).forEach((arg, i) => fields.push([`arg_${i + 1}`, arg]));
  return fields.filter((f): f is [string, string] => f[1] !== undefined).map(([k, v]) => `agi_${k}: ${v}`);
}

/** One command as the fake Asterisk received it. */
export interface ReceivedCommand {
  /** The line as sent, without LF. */
  line: string;
  /** The words Asterisk's tokenizer reads from it (quotes and escapes resolved). */
  words: string[];
}

/** One line of a fake call's transcript: `>` from the application, `<` from the fake Asterisk. */
export interface TranscriptLine {
  dir: '>' | '<';
  line: string;
}

/** Replies for a command: one line or several (`100 …` then `200 …`, a 520 block, `HANGUP` first). */
export type FakeReply = string | readonly string[];

/**
 * One fake Asterisk call talking AGI to an application over a stream (TCP for FastAGI, or any duplex).
 * Drive it by hand (`nextCommand()` then `reply()`), or give it a responder for every command.
 */
export class FakeCall {
  /** Everything said on the call, in order. */
  readonly transcript: TranscriptLine[] = [];
  /** Resolves when the application closed its side (or the stream ended). */
  readonly closed: Promise<void>;

  private readonly splitter = new LineSplitter(1 << 20);
  private readonly received: ReceivedCommand[] = [];
  private readonly waiters: Array<(command: ReceivedCommand) => void> = [];
  private responder: ((command: ReceivedCommand) => FakeReply | undefined) | undefined;
  private isClosed = false;

  constructor(readonly stream: Duplex) {
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.isClosed = true;
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
    });
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) this.onCommand(line);
    });
  }

  /** Connects to a FastAGI server and sends the header. */
  static async connect(port: number, options: FakeHeaderOptions & { host?: string } = {}): Promise<FakeCall> {
    const socket: Socket = connect({ port, host: options.host ?? '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const call = new FakeCall(socket);
    call.sendHeader(options);
    return call;
  }

  /** Sends a header (already done by {@link connect}). */
  sendHeader(options: FakeHeaderOptions = {}): void {
    this.send(`${fakeHeaderLines(options).join('\n')}\n\n`);
  }

  /** `true` once the application closed the stream. */
  get isFinished(): boolean {
    return this.isClosed;
  }

  /** Commands received so far. */
  get commands(): readonly ReceivedCommand[] {
    return this.received;
  }

  /** Answers every later command with what `responder` returns (`undefined`: answer by hand). */
  respond(responder: (command: ReceivedCommand) => FakeReply | undefined): this {
    this.responder = responder;
    return this;
  }

  /** Resolves with the next command the application sends (rejects after `timeoutMs`). */
  nextCommand(timeoutMs = 5000): Promise<ReceivedCommand> {
    const queued = this.pendingCommands.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(new Error(`fake Asterisk: no command within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (command: ReceivedCommand): void => {
        clearTimeout(timer);
        resolve(command);
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends reply lines (each gets its LF), as one write. */
  reply(reply: FakeReply): void {
    const lines = typeof reply === 'string' ? [reply] : reply;
    for (const line of lines) this.transcript.push({ dir: '<', line });
    this.write(lines.map((l) => `${l}\n`).join(''));
  }

  /** Sends the out-of-band `HANGUP` line. */
  hangup(): void {
    this.reply('HANGUP');
  }

  /** Sends raw text as is (for split or coalesced writes, garbage, missing LFs). */
  send(text: string | Buffer): void {
    this.write(text);
  }

  /** Closes our side (Asterisk ending the session). */
  end(): void {
    this.stream.end();
  }

  /** Drops the connection abruptly (a reset). */
  destroy(): void {
    this.stream.destroy();
  }

  private readonly pendingCommands: ReceivedCommand[] = [];

  private write(data: string | Buffer): void {
    if (!this.stream.destroyed && this.stream.writable) this.stream.write(data);
  }

  private onCommand(line: string): void {
    const command: ReceivedCommand = { line, words: parseAgiArgs(line) };
    this.received.push(command);
    this.transcript.push({ dir: '>', line });
    const reply = this.responder?.(command);
    if (reply !== undefined) {
      this.reply(reply);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(command);
    else this.pendingCommands.push(command);
  }
}
