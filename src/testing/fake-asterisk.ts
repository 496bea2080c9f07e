import { AssertionError } from 'node:assert';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TranscriptRecorder, type Transcript } from '../agi/transcript.js';
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
 * How the fake writes to the application: `whole` (each reply in one write, several lines coalesced),
 * `bytes` (one byte per write), or a number: writes of random sizes up to that many bytes (seeded,
 * so a failing run repeats).
 */
export type Chunking = 'whole' | 'bytes' | number;

/** Options of {@link FakeCall}. */
export interface FakeCallOptions {
  chunking?: Chunking;
  /** Seed of the random chunk sizes (default 1). */
  seed?: number;
}

/**
 * One fake Asterisk call talking AGI to an application over a stream (TCP for FastAGI, or any duplex).
 * Drive it by hand (`nextCommand()` / `expectCommand()` then `reply()`), or give it a responder.
 */
export class FakeCall {
  /** Everything said on the call, in order. */
  readonly transcript: TranscriptLine[] = [];
  /** Resolves when the application closed its side (or the stream ended). */
  readonly closed: Promise<void>;
  /** Called for every line said on the call, as it is said (for live printing). */
  onLine: ((line: TranscriptLine) => void) | undefined;

  private readonly splitter = new LineSplitter(1 << 20);
  private readonly received: ReceivedCommand[] = [];
  private readonly pendingCommands: ReceivedCommand[] = [];
  private readonly waiters: Array<(command: ReceivedCommand) => void> = [];
  private responder: ((command: ReceivedCommand) => FakeReply | undefined) | undefined;
  private recorder: TranscriptRecorder | undefined;
  private isClosed = false;
  private random: () => number;

  constructor(
    readonly stream: Duplex,
    private readonly options: FakeCallOptions = {},
  ) {
    let seed = (options.seed ?? 1) >>> 0 || 1;
    this.random = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.isClosed = true;
        resolve();
      };
      stream.once('end', () => {
        // As Asterisk does: once the application has closed its side, end the session on ours.
        if (!stream.writableEnded) stream.end();
        done();
      });
      stream.once('close', done);
    });
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) this.onCommand(line);
    });
  }

  /** Connects to a FastAGI server and sends the header. */
  static async connect(port: number, options: FakeHeaderOptions & FakeCallOptions & { host?: string } = {}): Promise<FakeCall> {
    const socket: Socket = connect({ port, host: options.host ?? '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const call = new FakeCall(socket, options);
    call.sendHeader(options);
    return call;
  }

  /** Sends a header built from options (done by {@link connect}); returns its lines. */
  sendHeader(options: FakeHeaderOptions = {}): string[] {
    const lines = fakeHeaderLines(options);
    this.sendHeaderLines(lines);
    return lines;
  }

  /**
   * Sends the given header lines and the empty line that ends the header, and in the same write any
   * `preamble` lines (what Asterisk said before the first command, such as an early `HANGUP`).
   */
  sendHeaderLines(lines: readonly string[], preamble: readonly string[] = []): void {
    const raw: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      raw[line.slice(0, colon)] = line.slice(colon + 2);
    }
    this.recorder = new TranscriptRecorder(raw);
    for (const line of preamble) this.note({ dir: '<', line });
    this.write(`${lines.join('\n')}\n\n${preamble.map((l) => `${l}\n`).join('')}`);
  }

  /** `true` once the application closed the stream. */
  get isFinished(): boolean {
    return this.isClosed;
  }

  /** Commands received so far. */
  get commands(): readonly ReceivedCommand[] {
    return this.received;
  }

  /** The call so far as a {@link Transcript} (header, then each command with the lines sent after it). */
  toTranscript(): Transcript {
    if (!this.recorder) throw new Error('fake Asterisk: no header sent yet');
    return this.recorder.toJSON();
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

  /**
   * Waits for the next command and asserts what Asterisk will read from it: the command words (given
   * as one string, `'STREAM FILE'`) and then each argument, e.g.
   * `await call.expectCommand('STREAM FILE', 'welcome', '#')`. Throws an `AssertionError` otherwise.
   */
  async expectCommand(words: string, ...args: string[]): Promise<ReceivedCommand> {
    const command = await this.nextCommand();
    const expected = [...words.split(' '), ...args];
    const same = expected.length === command.words.length && expected.every((w, i) => i < words.split(' ').length ? w.toUpperCase() === command.words[i]?.toUpperCase() : w === command.words[i]);
    if (!same) {
      throw new AssertionError({ message: `expected command ${JSON.stringify(expected)}, got ${JSON.stringify(command.words)} (${command.line})`, actual: command.words, expected, operator: 'expectCommand' });
    }
    return command;
  }

  /** Sends reply lines (each gets its LF), written as the chunking option says. */
  reply(reply: FakeReply): void {
    const lines = typeof reply === 'string' ? [reply] : reply;
    for (const line of lines) this.note({ dir: '<', line });
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

  private note(line: TranscriptLine): void {
    this.transcript.push(line);
    if (line.dir === '>') this.recorder?.sent(line.line);
    else this.recorder?.received(line.line);
    this.onLine?.(line);
  }

  private write(data: string | Buffer): void {
    if (this.stream.destroyed || !this.stream.writable) return;
    const chunking = this.options.chunking ?? 'whole';
    if (chunking === 'whole') {
      this.stream.write(data);
      return;
    }
    const bytes = Buffer.from(data);
    let at = 0;
    while (at < bytes.length) {
      const size = chunking === 'bytes' ? 1 : 1 + Math.floor(this.random() * chunking);
      this.stream.write(bytes.subarray(at, at + size));
      at += size;
    }
  }

  private onCommand(line: string): void {
    const command: ReceivedCommand = { line, words: parseAgiArgs(line) };
    this.received.push(command);
    this.note({ dir: '>', line });
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
