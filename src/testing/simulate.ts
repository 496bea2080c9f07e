import { once } from 'node:events';
import { pino, type Logger } from 'pino';
import { AgiConnection } from '../agi/connection.js';
import type { Transcript } from '../agi/transcript.js';
import { parseHeader } from '../protocol/header.js';
import { FastAgiServer } from '../server/fastagi-server.js';
import { runCall, type CallEnd, type CallStatus } from '../server/run-call.js';
import { Router, isRouterLike, type AgiHandler, type RouterLike } from '../server/router.js';
import { duplexPair } from './duplex-pair.js';
import { FakeCall, type FakeCallOptions, type FakeHeaderOptions, type FakeReply, type ReceivedCommand, type TranscriptLine } from './fake-asterisk.js';
import { parseAgiArgs } from './parse-args.js';
import { SimulatedChannel, type SimulatorOptions } from './simulator.js';

/** An application as agikit serves it: one handler, or a router. */
export type AgiApp = AgiHandler | RouterLike;

/** Options of {@link FakeAsterisk}. */
export interface FakeAsteriskOptions extends SimulatorOptions, FakeCallOptions {
  /**
   * Replies that override the simulation for particular commands, keyed by command words
   * (`'STREAM FILE'`): lines to send, or a function of the command (returning `undefined` falls
   * back to the simulation).
   */
  replies?: Record<string, FakeReply | ((command: ReceivedCommand) => FakeReply | undefined)>;
}

/** How to run an app against {@link FakeAsterisk}. */
export interface RunOptions extends FakeHeaderOptions {
  /** `memory` (default): in-process streams. `tcp`: a real FastAGI server on 127.0.0.1 and a TCP client. */
  transport?: 'memory' | 'tcp';
  /** Logger for the app's side (default: silent). */
  log?: Logger;
  /** Called for every protocol line, as it is said. */
  onLine?: (line: TranscriptLine) => void;
  /** How long a handler may run on after a hangup (see the server option); default 30000 ms. */
  hangupGraceMs?: number;
  /**
   * How long the whole call may take (default 60000 ms). Past it the simulated caller hangs up and
   * drops the connection, the server (TCP) is closed, and `run` rejects: a stuck app never keeps a
   * test process alive.
   */
  timeoutMs?: number;
}

/** Default {@link RunOptions.timeoutMs}. */
export const DEFAULT_SIMULATION_TIMEOUT_MS = 60_000;

/** What happened when an app ran against {@link FakeAsterisk}. */
export interface SimulationResult {
  /** The status the app's session ended with (what `AGIKIT_STATUS` says). */
  status: CallStatus;
  /** What the handler threw, if it did. */
  error?: unknown;
  /** The whole call. */
  transcript: Transcript;
  /** Every command the app sent, parsed as Asterisk reads it. */
  commands: readonly ReceivedCommand[];
  /** The simulated channel after the call: variables, astdb, where the dialplan continues. */
  channel: SimulatedChannel;
}

/** Normalises an app to a router. */
export function toRouter(app: AgiApp): RouterLike {
  if (typeof app === 'function') return new Router().fallback(app);
  if (isRouterLike(app)) return app;
  throw new TypeError('an agikit app is a handler function (agi) => … or a Router');
}

const silent = pino({ level: 'silent' });

/**
 * A programmable Asterisk for tests: every call it places is answered by a {@link SimulatedChannel}
 * (realistic replies to every command, a DTMF script, a hangup at a chosen command), with per-command
 * overrides. Use it over TCP against a running FastAGI server ({@link connect}), or run an app
 * in-process ({@link run}).
 *
 * ```ts
 * const fake = new FakeAsterisk({ dtmf: '42#', replies: { 'DATABASE GET': '200 result=1 (gold)' } });
 * const result = await fake.run(app, { script: 'ivr/main', args: ['1001'] });
 * assert.equal(result.status, 'SUCCESS');
 * assert.equal(result.channel.variables.get('PIN'), '42');
 * ```
 */
export class FakeAsterisk {
  constructor(readonly options: FakeAsteriskOptions = {}) {}

  /** Places one call to a FastAGI server over TCP; the returned call answers by itself. */
  async connect(port: number, header: FakeHeaderOptions & { host?: string } = {}): Promise<{ call: FakeCall; channel: SimulatedChannel }> {
    const call = await FakeCall.connect(port, { ...this.callOptions(), ...header });
    const channel = new SimulatedChannel(this.options, parseHeader(headerLinesOf(call)));
    call.respond((command) => this.reply(channel, command));
    return { call, channel };
  }

  /** Runs an app for one call and resolves when the call is over (see {@link RunOptions.timeoutMs}). */
  async run(app: AgiApp, options: RunOptions = {}): Promise<SimulationResult> {
    const router = toRouter(app);
    const log = options.log ?? silent;
    const timeoutMs = options.timeoutMs ?? DEFAULT_SIMULATION_TIMEOUT_MS;
    if (options.transport === 'tcp') {
      const server = new FastAgiServer({ port: 0, logger: log, router, ...(options.hangupGraceMs !== undefined ? { hangupGraceMs: options.hangupGraceMs } : {}) });
      const { port } = await server.listen();
      let call: FakeCall | undefined;
      let timedOut = false;
      try {
        const ended = once(server, 'callEnd') as Promise<[CallEnd]>;
        const connected = await this.connect(port, options);
        call = connected.call;
        call.onLine = options.onLine;
        replayLines(call, options.onLine);
        const giveUp = (): void => {
          timedOut = true;
          call?.destroy();
        };
        const [end] = await within(ended, timeoutMs, giveUp);
        await within(call.closed, timeoutMs, giveUp);
        return result(end, call, connected.channel);
      } finally {
        // After a timeout the app is stuck: end its session at once.
        await server.close({ timeoutMs: timedOut ? 0 : 1000 });
      }
    }
    const [appSide, fakeSide] = duplexPair();
    const connection = new AgiConnection(appSide, appSide, { log });
    const call = new FakeCall(fakeSide, this.callOptions());
    call.onLine = options.onLine;
    const lines = call.sendHeader(options);
    const header = await connection.header;
    const channel = new SimulatedChannel(this.options, parseHeader(lines));
    call.respond((command) => this.reply(channel, command));
    const end = await within(
      runCall(connection, header, router, {
        log,
        closeGraceMs: 1000,
        ...(options.hangupGraceMs !== undefined ? { hangupGraceMs: options.hangupGraceMs } : {}),
      }),
      timeoutMs,
      () => {
        call.destroy();
        appSide.destroy();
      },
    );
    await within(call.closed, timeoutMs, () => call.destroy());
    return result(end, call, channel);
  }

  private callOptions(): FakeCallOptions {
    return {
      ...(this.options.chunking !== undefined ? { chunking: this.options.chunking } : {}),
      ...(this.options.seed !== undefined ? { seed: this.options.seed } : {}),
    };
  }

  private reply(channel: SimulatedChannel, command: ReceivedCommand): FakeReply {
    const replies = this.options.replies;
    if (replies) {
      for (const [words, reply] of Object.entries(replies)) {
        const expected = words.toUpperCase().split(' ');
        if (!expected.every((w, i) => command.words[i]?.toUpperCase() === w)) continue;
        const given = typeof reply === 'function' ? reply(command) : reply;
        if (given !== undefined) {
          // The simulation still counts the command (for hangupAfter).
          channel.count += 1;
          return given;
        }
      }
    }
    return channel.respond(command.line);
  }
}

function headerLinesOf(call: FakeCall): string[] {
  return Object.entries(call.toTranscript().header).map(([k, v]) => `${k}: ${v}`);
}

/** Prints lines said before `onLine` was attached (the TCP path attaches it after connecting). */
function replayLines(call: FakeCall, onLine: ((line: TranscriptLine) => void) | undefined): void {
  if (!onLine) return;
  for (const line of call.transcript) onLine(line);
}

function result(end: CallEnd, call: FakeCall, channel: SimulatedChannel): SimulationResult {
  const transcript = call.toTranscript();
  transcript.meta = { ...transcript.meta, status: end.status };
  return {
    status: end.status,
    ...(end.error !== undefined ? { error: end.error } : {}),
    transcript,
    commands: call.commands,
    channel,
  };
}

/** Where a replayed app first departed from its transcript. */
export interface ReplayMismatch {
  /** 1-based number of the command that differs. */
  index: number;
  /** The recorded command, or `null` when the app sent more commands than were recorded. */
  expected: string | null;
  /** What the app sent, or `null` when it ended before sending the recorded command. */
  actual: string | null;
  /** One line saying what differs. */
  message: string;
}

/** Outcome of {@link replayTranscript}. */
export interface ReplayResult {
  ok: boolean;
  mismatch?: ReplayMismatch;
  /** The status the app's session ended with. */
  status: CallStatus;
  error?: unknown;
  /** Commands that matched the recording before the first difference. */
  matched: number;
}

/**
 * Plays a recorded call back to an app: the recorded header, then each recorded reply in answer to
 * each command, and reports the first command where the app now differs (compared as Asterisk reads
 * it, so quoting differences do not count).
 */
export async function replayTranscript(app: AgiApp, transcript: Transcript, options: { log?: Logger; onLine?: (line: TranscriptLine) => void } = {}): Promise<ReplayResult> {
  const router = toRouter(app);
  const log = options.log ?? silent;
  const [appSide, fakeSide] = duplexPair();
  const connection = new AgiConnection(appSide, appSide, { log });
  const call = new FakeCall(fakeSide);
  call.onLine = options.onLine;
  call.sendHeaderLines(
    Object.entries(transcript.header).map(([k, v]) => `${k}: ${v}`),
    transcript.preamble,
  );
  let index = 0;
  let mismatch: ReplayMismatch | undefined;
  call.respond((command) => {
    const expected = transcript.exchanges[index];
    index += 1;
    if (!expected) {
      mismatch ??= { index, expected: null, actual: command.line, message: `command ${index} is new: the recording ended, but the app sent ${command.line}` };
      call.destroy();
      return undefined;
    }
    if (!sameWords(parseAgiArgs(expected.command), command.words)) {
      mismatch ??= { index, expected: expected.command, actual: command.line, message: `command ${index} differs: recorded ${expected.command}, now ${command.line}` };
      call.destroy();
      return undefined;
    }
    return expected.reply;
  });
  const header = await connection.header;
  const end = await runCall(connection, header, router, { log, closeGraceMs: 1000, hangupGraceMs: 1000 });
  await call.closed;
  const matched = mismatch ? mismatch.index - 1 : index;
  if (!mismatch && index < transcript.exchanges.length) {
    const expected = transcript.exchanges[index]?.command ?? '';
    mismatch = { index: index + 1, expected, actual: null, message: `command ${index + 1} is missing: the app ended before sending ${expected}` };
  }
  return { ok: mismatch === undefined, ...(mismatch ? { mismatch } : {}), status: end.status, ...(end.error !== undefined ? { error: end.error } : {}), matched };
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((w, i) => w === b[i]);
}

/** Waits for `promise` at most `ms`; past it, `giveUp` runs and the wait rejects. */
async function within<T>(promise: Promise<T>, ms: number, giveUp: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      giveUp();
      reject(new Error(`the simulated call did not end within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
